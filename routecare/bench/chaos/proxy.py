"""A loopback HTTP proxy that makes a link as bad as a jungle exit's: it cuts connections
before the server sees the request or after the server answered (so the server committed and
the node never heard), delays (which reorders concurrent requests), and sends requests to the
server several times (replays). One request per connection; the node reconnects.

For the chaos test only: it listens on 127.0.0.1 and forwards to one loopback server.
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import dataclass, field


@dataclass
class Faults:
    cut_before: float = 0.15  # connection closed before the server sees the request
    cut_after: float = 0.15  # the server answered; the node never hears it
    replay: float = 0.2  # the request reaches the server ``replays`` times
    replays: int = 5
    max_delay: float = 0.2  # seconds, at random, before forwarding
    down: bool = False  # the link is gone: every connection is refused at once


@dataclass
class ProxyCounts:
    requests: int = 0
    cut_before: int = 0
    cut_after: int = 0
    replayed: int = 0
    forwarded: int = 0
    refused_down: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, n: int = 1) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + n)

    def as_dict(self) -> dict[str, int]:
        return {
            "requests": self.requests,
            "cut_before_server": self.cut_before,
            "cut_after_server": self.cut_after,
            "replayed_requests": self.replayed,
            "forwarded": self.forwarded,
            "refused_while_down": self.refused_down,
        }


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _sep, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or 0)
    body = await reader.readexactly(length) if length else b""
    # One request per connection: the server closes after answering.
    lines = [
        line
        for line in head.split(b"\r\n")
        if line and not line.lower().startswith((b"connection:", b"keep-alive:"))
    ]
    return b"\r\n".join([*lines, b"Connection: close", b"", b""]) + body


async def _forward(request: bytes, host: str, port: int) -> bytes:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        await writer.drain()
        return await reader.read()
    finally:
        writer.close()


class ChaosProxy:
    def __init__(self, target_port: int, faults: Faults, seed: int = 7) -> None:
        self.target_port = target_port
        self.faults = faults
        self.counts = ProxyCounts()
        self.random = random.Random(seed)
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> ChaosProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            pass
        finally:
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        faults, roll = self.faults, self.random.random
        if faults.down:
            self.counts.add("refused_down")
            return
        request = await _read_request(reader)
        if request is None:
            return
        self.counts.add("requests")
        await asyncio.sleep(roll() * faults.max_delay)
        if roll() < faults.cut_before:
            self.counts.add("cut_before")
            return
        copies = faults.replays if roll() < faults.replay else 1
        if copies > 1:
            self.counts.add("replayed", copies - 1)
            # The copies race each other at the server, as a retrying middlebox's would.
            answers = await asyncio.gather(
                *(_forward(request, "127.0.0.1", self.target_port) for _n in range(copies)),
                return_exceptions=True,
            )
            answer = next((a for a in answers if isinstance(a, bytes)), b"")
        else:
            answer = await _forward(request, "127.0.0.1", self.target_port)
        self.counts.add("forwarded")
        if roll() < faults.cut_after:
            self.counts.add("cut_after")
            return
        writer.write(answer)
        await writer.drain()
