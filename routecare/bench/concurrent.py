"""Encounter write throughput with several clients at once, one process each.

A server runs several workers; on a 2-core machine two clients writing at once is what its
throughput is. Each writer is a forked process with its own database connection and API token
that sends encounter writes through ``django.test.Client`` as fast as it can; throughput is all
writes over the wall time from a common start until the last writer is done.
"""

from __future__ import annotations

import multiprocessing
import random
import time
import uuid
from collections.abc import Sequence
from multiprocessing.synchronize import Event
from typing import Any

from django.db import close_old_connections, connection, connections
from django.test import Client

from routecare.bench.stats import summarise

READY_TIMEOUT_SECONDS = 300
WARMUP_WRITES = 10


def _write(client: Client, person_id: uuid.UUID, body: dict[str, Any]) -> int:
    url = f"/api/v1/people/{person_id}/encounters"
    status = client.post(url, body, content_type="application/json").status_code
    close_old_connections()
    return status


def _writer(
    token: str,
    people: Sequence[uuid.UUID],
    count: int,
    body: dict[str, Any],
    seed: int,
    start: Event,
    results: Any,
) -> None:
    """One client: warm up, say ready, wait for the common start, write ``count`` times."""
    try:
        rng = random.Random(seed)
        client = Client(headers={"Authorization": f"Bearer {token}"})
        for _ in range(WARMUP_WRITES):
            _write(client, rng.choice(people), body)
        results.put(("ready", None))
        start.wait(READY_TIMEOUT_SECONDS)
        durations: list[float] = []
        failures = 0
        for _ in range(count):
            before = time.perf_counter()
            if _write(client, rng.choice(people), body) != 201:
                failures += 1
            durations.append((time.perf_counter() - before) * 1000)
        results.put(("done", (durations, failures)))
    except Exception as exc:  # reported to the parent, which fails the run
        results.put(("error", repr(exc)))
    finally:
        connections.close_all()


def measure_concurrent_writes(
    tokens: Sequence[str], people: Sequence[uuid.UUID], writes: int, body: dict[str, Any]
) -> dict[str, Any]:
    """Throughput of ``len(tokens)`` writers sharing ``writes`` encounter writes."""
    if connection.in_atomic_block:
        # Inside a test's transaction no other process would see the data.
        raise RuntimeError("concurrent writers need committed data")
    writers = len(tokens)
    per_writer = max(1, writes // writers)
    # Each child opens its own connection; none may inherit the parent's socket.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    start = context.Event()
    results = context.Queue()
    processes = [
        context.Process(
            target=_writer, args=(token, people, per_writer, body, seed, start, results)
        )
        for seed, token in enumerate(tokens)
    ]
    for process in processes:
        process.start()
    try:
        for _ in processes:
            kind, detail = results.get(timeout=READY_TIMEOUT_SECONDS)
            if kind == "error":
                raise RuntimeError(f"a writer failed while warming up: {detail}")
        began = time.perf_counter()
        start.set()
        durations: list[float] = []
        failures = 0
        for _ in processes:
            kind, detail = results.get(timeout=READY_TIMEOUT_SECONDS)
            if kind == "error":
                raise RuntimeError(f"a writer failed: {detail}")
            durations += detail[0]
            failures += detail[1]
        wall = time.perf_counter() - began
    finally:
        for process in processes:
            process.join(timeout=READY_TIMEOUT_SECONDS)
    return {
        "writers": writers,
        "writes": len(durations),
        "failed_writes": failures,
        "writes_per_s": round(len(durations) / wall, 1),
        "write_ms": summarise(durations),
    }
