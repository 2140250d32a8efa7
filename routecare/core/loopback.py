"""A fake of another service's JSON API on loopback, for tests and benches: the messaging
platforms (``messaging.loopback``), KoboToolbox (``indicators/tests/test_kobo``).

A fake subclasses ``LoopbackJsonServer`` and answers in ``get`` and ``post``, each given the
request (``JsonRequest``: its path, headers and body, and ``answer`` to reply with JSON). Used
as a context manager it serves from a thread on 127.0.0.1, on a port the system picks
(``url``), and stops on exit. Nothing but loopback is ever bound: what RouteCare sends to a
fake never leaves the machine.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class JsonRequest(BaseHTTPRequestHandler):
    """One request to a fake; ``server`` is the fake's HTTP server."""

    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: what a fake was sent is the test's business, not stderr's."""

    @property
    def path_only(self) -> str:
        return self.path.partition("?")[0]

    @property
    def query(self) -> str:
        return self.path.partition("?")[2]

    def json_body(self) -> Any:
        """The request's body read as JSON (an empty body as ``{}``)."""
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def answer(self, status: int, body: Any) -> None:
        self.answer_bytes(status, json.dumps(body).encode(), "application/json")

    def answer_bytes(self, status: int, content: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def answer_empty(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self.server.fake.get(self)

    def do_POST(self) -> None:
        self.server.fake.post(self)


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a client that keeps its connection open does not hold up the exit

    def __init__(self, fake: LoopbackJsonServer) -> None:
        super().__init__(("127.0.0.1", 0), JsonRequest)
        self.fake = fake


class LoopbackJsonServer:
    """Subclasses answer in ``get`` and ``post``; anything not answered there is a 404."""

    def __init__(self) -> None:
        self.server = _Server(self)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def get(self, request: JsonRequest) -> None:
        request.answer(404, {"detail": "Not found."})

    def post(self, request: JsonRequest) -> None:
        request.answer(404, {"detail": "Not found."})

    def __enter__(self) -> Self:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *args: object) -> None:
        self.server.shutdown()
        self.server.server_close()
