"""Loopback fakes of the WhatsApp Cloud API and the Telegram Bot API: they record what
RouteCare sends (and when) and answer as the platforms document (a message id, or an error).
The tests and the bench send to them instead of the platforms; nothing leaves the machine."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakePlatforms:
    """``/v21.0/<phone number id>/messages`` (Graph API) and ``/bot<token>/sendMessage``."""

    def __init__(self, access_token: str, bot_token: str) -> None:
        self.access_token, self.bot_token = access_token, bot_token
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.sent_at: list[float] = []  # time.perf_counter() of each, in step with ``sent``
        self._lock = threading.Lock()
        self.blocked_chats: set[str] = set()
        self.failing = False
        # Media the fakes hold, by the platform's id: (bytes, MIME type).
        self.media: dict[str, tuple[bytes, str]] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                """WhatsApp: ``/v21.0/<media id>`` gives the file's URL, then the file (with
                the token); Telegram: ``getFile`` gives its path, then ``/file/bot…/<path>``."""
                path, _, query = self.path.partition("?")
                if path.startswith("/v21.0/"):
                    if self.headers.get("Authorization") != f"Bearer {fake.access_token}":
                        return self._answer(401, {"error": {"code": 190}})
                    media_id = path.removeprefix("/v21.0/")
                    if media_id not in fake.media:
                        return self._answer(404, {"error": {"code": 100}})
                    content, mime = fake.media[media_id]
                    return self._answer(200, {
                        "url": f"{fake.url}/download/{media_id}", "mime_type": mime,
                        "file_size": len(content), "id": media_id,
                        "messaging_product": "whatsapp",
                    })  # fmt: skip
                if path.startswith("/download/"):
                    if self.headers.get("Authorization") != f"Bearer {fake.access_token}":
                        return self._answer(401, {"error": {"code": 190}})
                    return self._file(path.removeprefix("/download/"))
                if path == f"/bot{fake.bot_token}/getFile":
                    file_id = query.removeprefix("file_id=")
                    if file_id not in fake.media:
                        return self._answer(400, {"ok": False, "error_code": 400})
                    result = {"file_id": file_id, "file_path": f"photos/{file_id}.jpg"}
                    return self._answer(200, {"ok": True, "result": result})
                if path.startswith(f"/file/bot{fake.bot_token}/photos/"):
                    return self._file(path.rsplit("/", 1)[1].removesuffix(".jpg"))
                return self._answer(404, {"ok": False})

            def _file(self, media_id: str) -> None:
                if media_id not in fake.media:
                    return self._answer(404, {"ok": False})
                content, mime = fake.media[media_id]
                self.send_response(200)
                self.send_header("Content-Type", mime)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
                return None

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if fake.failing:
                    self.send_response(502)
                    self.end_headers()
                    return
                if self.path.startswith("/v21.0/"):
                    return self._graph(body)
                if self.path == f"/bot{fake.bot_token}/sendMessage":
                    return self._telegram(body)
                return self._answer(404, {"ok": False, "error_code": 404})

            def _graph(self, body: dict[str, Any]) -> None:
                if self.headers.get("Authorization") != f"Bearer {fake.access_token}":
                    error = {"message": "Invalid OAuth access token.", "type": "OAuthException",
                             "code": 190}  # fmt: skip
                    return self._answer(401, {"error": error})
                n = fake.record(self.path, body)
                return self._answer(
                    200,
                    {
                        "messaging_product": "whatsapp",
                        "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                        "messages": [{"id": f"wamid.OUT{n:04d}"}],
                    },
                )

            def _telegram(self, body: dict[str, Any]) -> None:
                if str(body.get("chat_id")) in fake.blocked_chats:
                    return self._answer(
                        403,
                        {"ok": False, "error_code": 403,
                         "description": "Forbidden: bot was blocked by the user"},
                    )  # fmt: skip
                n = fake.record(self.path, body)
                result = {"message_id": 100 + n, "date": 1764921600,
                          "chat": {"id": body.get("chat_id"), "type": "private"},
                          "text": body.get("text")}  # fmt: skip
                return self._answer(200, {"ok": True, "result": result})

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def record(self, path: str, body: dict[str, Any]) -> int:
        with self._lock:
            self.sent.append((path, body))
            self.sent_at.append(time.perf_counter())
            return len(self.sent)

    def __enter__(self) -> FakePlatforms:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *args: object) -> None:
        self.server.shutdown()
        self.server.server_close()
