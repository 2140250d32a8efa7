"""The lookup, the write and their floor served by gunicorn, as in production.

The in-process figures (``bench.measure``) go through ``django.test.Client``: the middleware,
the URLconf and the view, but no server. Issue 22 defines the floor "behind the same middleware
and the same gunicorn settings": here one gunicorn, started on a loopback port with the load
test's settings (``bench.load.run``: workers, threads, keep-alive) and the bench URLconf
(``ROUTECARE_BENCH_URLS``), serves RouteCare's API and the floor side by side, on the bench's
own database, keys and secret; one client on a kept-alive HTTP connection sends a lookup, a
floor lookup, a write and a floor write in turn, ``lookups``/``writes`` times after a warm-up,
so both sides see the same server, the same machine and the same moment. What differs between
a request and its floor is only what RouteCare does in the view.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from routecare.bench.stats import ratio, summarise
from routecare.bench.urls import FLOOR_LOOKUP_PATH, FLOOR_WRITE_PREFIX

Log = Callable[[str], None]

LOOKUP_PATH = "/api/v1/people/lookup"
TIMEOUT_SECONDS = 30


class ServedError(RuntimeError):
    """The served run could not start, or a request answered what the bench does not expect."""


def database_url() -> str:
    """The URL of the database this process uses (the bench's, or a test's)."""
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(params["NAME"])
        if name == ":memory:" or name.startswith("file:"):
            raise ServedError("a served run needs a database another process can open")
        return f"sqlite:///{name}"
    if connection.vendor != "postgresql":
        raise ServedError(f"no served run on {connection.vendor}")
    user = quote(str(params.get("USER") or ""), safe="")
    password = quote(str(params.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{quote(str(params['NAME']), safe='')}"


def server_environment(url: str) -> dict[str, str]:
    """The bench's own settings (keys, secret, tasks), the bench URLconf, no debug."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        # (None in the tests, where pytest-django configured the settings.)
        "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE or "routecare.settings",
        "SECRET_KEY": settings.SECRET_KEY,
        "ROUTECARE_FIELD_KEYS": settings.ROUTECARE_FIELD_KEYS,
        "ROUTECARE_BENCH_URLS": "true",
        "ROUTECARE_PRODUCTION": "false",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    for name in ("SECRET_KEY_FILE", "ROUTECARE_FIELD_KEYS_FILE"):
        env.pop(name, None)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(
    log: Log, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[int, dict[str, int]]]:
    """A gunicorn on a free loopback port serving this database (with ``extra_env`` added to
    its settings); stopped on the way out."""
    # Here, not above: the load test's module reads the bench's CPU calibration (a cycle).
    from routecare.bench.load.run import LoadOptions, _start, _stop, _wait_until_up, gunicorn_argv

    options = LoadOptions(port=free_port())
    argv = gunicorn_argv(options)
    env = server_environment(database_url()) | (extra_env or {})
    with tempfile.TemporaryFile("w+") as output:
        log(
            f"served: gunicorn on 127.0.0.1:{options.port}, {options.workers} workers x "
            f"{options.threads} threads, keep-alive {options.keep_alive} s"
        )
        server = _start(argv, env, output)
        try:
            try:
                _wait_until_up(f"http://127.0.0.1:{options.port}", server)
            except RuntimeError as exc:
                output.seek(0)
                raise ServedError(f"{exc}: {output.read()[-2000:]}") from exc
            yield (
                options.port,
                {
                    "workers": options.workers,
                    "threads": options.threads,
                    "keep_alive_s": options.keep_alive,
                },
            )
        finally:
            _stop(server)


class _Client:
    """One kept-alive HTTP connection with the bench's token, timing each request."""

    def __init__(self, port: int, token: str) -> None:
        self._port = port
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        }
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_SECONDS)

    def post(self, path: str, body: dict[str, Any], expected: int) -> float:
        payload = json.dumps(body).encode()
        started = time.perf_counter()
        self._connection.request("POST", path, body=payload, headers=self._headers)
        response = self._connection.getresponse()
        answer = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != expected:
            raise ServedError(f"POST {path} answered {response.status}: {answer[:300]!r}")
        if response.getheader("Connection", "").lower() == "close":
            self._connection.close()  # reopened by the next request
        return elapsed

    def close(self) -> None:
        self._connection.close()


def measure_served(
    token: str,
    code: Callable[[int], str],
    person: Callable[[int], uuid.UUID],
    body: dict[str, Any],
    lookups: int,
    writes: int,
    warmup: int,
    log: Log,
) -> dict[str, Any]:
    """p50 and more of RouteCare's lookup and write and of their floor, served by gunicorn,
    taken in turns; the ratios RouteCare over floor."""
    with serving(log) as (port, server):
        client = _Client(port, token)
        try:
            durations: dict[str, list[float]] = {
                "lookup": [],
                "floor_lookup": [],
                "write": [],
                "floor_write": [],
            }
            sends: dict[str, Callable[[int], float]] = {
                "lookup": lambda i: client.post(LOOKUP_PATH, {"code": code(i)}, 200),
                "floor_lookup": lambda i: client.post(
                    "/" + FLOOR_LOOKUP_PATH, {"code": code(i)}, 200
                ),
                "write": lambda i: client.post(f"/api/v1/people/{person(i)}/encounters", body, 201),
                "floor_write": lambda i: client.post(
                    f"/{FLOOR_WRITE_PREFIX}{person(i)}/encounters", body, 201
                ),
            }
            counts = {"lookup": lookups, "floor_lookup": lookups}
            counts |= {"write": writes, "floor_write": writes}
            log(f"served: {lookups} lookups and {writes} writes, and their floor, in turns")
            for index in range(warmup):
                for send in sends.values():
                    send(index)
            for index in range(max(lookups, writes)):
                for kind, send in sends.items():
                    if index < counts[kind]:
                        durations[kind].append(send(warmup + index))
        finally:
            client.close()
    summaries = {kind: summarise(values) for kind, values in durations.items()}
    return {
        "server": server,
        "lookup_ms": summaries["lookup"],
        "write_ms": summaries["write"],
        "floor_ms": {"lookup": summaries["floor_lookup"], "write": summaries["floor_write"]},
        "lookup_floor_ratio": ratio(summaries["lookup"]["p50"], summaries["floor_lookup"]["p50"]),
        "write_floor_ratio": ratio(summaries["write"]["p50"], summaries["floor_write"]["p50"]),
    }
