"""Chromium for the bench's browser figures: the pages served by a server thread of this
process on the database measured (as Django's live server does in the tests), and Debian's
Chromium, never one downloaded."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.db import DEFAULT_DB_ALIAS, connections
from django.test.testcases import LiveServerThread

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def unavailable() -> str | None:
    """Why the browser figures cannot be measured here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:  # pragma: no cover - playwright is a development dependency
        return "playwright is not installed"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed"
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.in_atomic_block and not _in_memory():
        return "inside a transaction: a server thread would not see its data"
    return None


def _in_memory() -> bool:
    connection = connections[DEFAULT_DB_ALIAS]  # the wrapper itself, not the thread's proxy
    return connection.vendor == "sqlite" and bool(
        getattr(connection, "is_in_memory_db", lambda: False)()
    )


@contextmanager
def served_here() -> Iterator[str]:
    """The project served on a loopback port by a thread of this process; its base URL. An
    in-memory database (the test suite's SQLite) exists only in this connection: the server
    shares it. Otherwise the server opens its own."""
    connection = connections[DEFAULT_DB_ALIAS]
    shared = _in_memory()
    server = LiveServerThread(
        "localhost",
        StaticFilesHandler,
        connections_override={DEFAULT_DB_ALIAS: connection} if shared else None,
    )
    if shared:
        connection.inc_thread_sharing()
    server.daemon = True
    server.start()
    server.is_ready.wait()
    try:
        if server.error:
            raise server.error
        yield f"http://localhost:{server.port}"
    finally:
        server.terminate()
        if shared:
            connection.dec_thread_sharing()
