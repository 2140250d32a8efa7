"""Loopback fakes of the WhatsApp Cloud API and the Telegram Bot API: they record what
RouteCare sends (and when) and answer as the platforms document (a message id, or an error).
The tests, the bench and the load test send to them instead of the platforms; nothing leaves
the machine (``core.loopback``)."""

from __future__ import annotations

import threading
import time
from typing import Any

from routecare.core.loopback import JsonRequest, LoopbackJsonServer


class FakePlatforms(LoopbackJsonServer):
    """``/v21.0/<phone number id>/messages`` (Graph API) and ``/bot<token>/sendMessage``."""

    def __init__(self, access_token: str, bot_token: str) -> None:
        super().__init__()
        self.access_token, self.bot_token = access_token, bot_token
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.sent_at: list[float] = []  # time.perf_counter() of each, in step with ``sent``
        self._lock = threading.Lock()
        self.blocked_chats: set[str] = set()
        self.failing = False
        # Media the fakes hold, by the platform's id: (bytes, MIME type).
        self.media: dict[str, tuple[bytes, str]] = {}

    def get(self, request: JsonRequest) -> None:
        """WhatsApp: ``/v21.0/<media id>`` gives the file's URL, then the file (with the
        token); Telegram: ``getFile`` gives its path, then ``/file/bot…/<path>``."""
        path = request.path_only
        if path.startswith(("/v21.0/", "/download/")) and not self._graph_token(request):
            return request.answer(401, {"error": {"code": 190}})
        if path.startswith("/v21.0/"):
            return self._media_url(request, path.removeprefix("/v21.0/"))
        if path.startswith("/download/"):
            return self._file(request, path.removeprefix("/download/"))
        if path == f"/bot{self.bot_token}/getFile":
            file_id = request.query.removeprefix("file_id=")
            if file_id not in self.media:
                return request.answer(400, {"ok": False, "error_code": 400})
            result = {"file_id": file_id, "file_path": f"photos/{file_id}.jpg"}
            return request.answer(200, {"ok": True, "result": result})
        if path.startswith(f"/file/bot{self.bot_token}/photos/"):
            return self._file(request, path.rsplit("/", 1)[1].removesuffix(".jpg"))
        return request.answer(404, {"ok": False})

    def post(self, request: JsonRequest) -> None:
        body = request.json_body()
        if self.failing:
            return request.answer_empty(502)
        if request.path.startswith("/v21.0/"):
            return self._graph(request, body)
        if request.path == f"/bot{self.bot_token}/sendMessage":
            return self._telegram(request, body)
        return request.answer(404, {"ok": False, "error_code": 404})

    def _graph_token(self, request: JsonRequest) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.access_token}"

    def _media_url(self, request: JsonRequest, media_id: str) -> None:
        if media_id not in self.media:
            return request.answer(404, {"error": {"code": 100}})
        content, mime = self.media[media_id]
        return request.answer(200, {
            "url": f"{self.url}/download/{media_id}", "mime_type": mime,
            "file_size": len(content), "id": media_id, "messaging_product": "whatsapp",
        })  # fmt: skip

    def _file(self, request: JsonRequest, media_id: str) -> None:
        if media_id not in self.media:
            return request.answer(404, {"ok": False})
        content, mime = self.media[media_id]
        return request.answer_bytes(200, content, mime)

    def _graph(self, request: JsonRequest, body: dict[str, Any]) -> None:
        if not self._graph_token(request):
            error = {"message": "Invalid OAuth access token.", "type": "OAuthException",
                     "code": 190}  # fmt: skip
            return request.answer(401, {"error": error})
        n = self.record(request.path, body)
        return request.answer(200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
            "messages": [{"id": f"wamid.OUT{n:04d}"}],
        })  # fmt: skip

    def _telegram(self, request: JsonRequest, body: dict[str, Any]) -> None:
        if str(body.get("chat_id")) in self.blocked_chats:
            return request.answer(403, {
                "ok": False, "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            })  # fmt: skip
        n = self.record(request.path, body)
        result = {"message_id": 100 + n, "date": 1764921600,
                  "chat": {"id": body.get("chat_id"), "type": "private"},
                  "text": body.get("text")}  # fmt: skip
        return request.answer(200, {"ok": True, "result": result})

    def record(self, path: str, body: dict[str, Any]) -> int:
        with self._lock:
            self.sent.append((path, body))
            self.sent_at.append(time.perf_counter())
            return len(self.sent)
