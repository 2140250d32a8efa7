"""Where the machine's CPU went during the load: gunicorn, the load database's PostgreSQL
backends, the task worker, haproxy (when instances are behind it), locust (from its rusage once
it ended) and everything else (other people's work on a shared machine), from ``/proc``. Per
request, these say what the server costs whatever else runs."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Process:
    pid: int
    group: int
    command: str
    seconds: float  # user + system CPU time so far


def processes() -> list[Process]:
    found = []
    for entry in PROC.glob("[0-9]*"):
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            # The command name may hold spaces and parentheses: fields start after the last ")".
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended meanwhile
            continue
        ticks = int(fields[11]) + int(fields[12])
        found.append(Process(int(entry.name), int(fields[2]), command.strip(), ticks / TICKS))
    return found


def machine_seconds() -> tuple[float, float]:
    """All CPUs' busy and total seconds since boot."""
    values = [int(v) for v in (PROC / "stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICKS, sum(values) / TICKS


Classifier = Callable[[Process], str | None]


def classifier(server_groups: Iterable[int], database: str) -> Classifier:
    groups = set(server_groups)

    def kind(process: Process) -> str | None:
        if process.group in groups:
            if "gunicorn" in process.command:
                return "server"
            return "proxy" if "haproxy" in process.command else "worker"
        if process.command.startswith("postgres:") and f" {database} " in process.command:
            return "database"
        return None

    return kind


class CpuMeter:
    """CPU seconds by kind between ``start`` and ``stop``. Processes that start meanwhile
    count from zero; one that ends before ``stop`` loses its last seconds (our processes all
    live until then)."""

    def __init__(self, kind: Classifier) -> None:
        self.kind = kind
        self.before: dict[int, float] = {}
        self.machine_before = (0.0, 0.0)

    def start(self) -> None:
        self.before = {p.pid: p.seconds for p in processes()}
        self.machine_before = machine_seconds()

    def stop(self, requests: int, locust_seconds: float = 0.0) -> dict[str, Any] | None:
        """``locust_seconds``: locust's CPU time, when it ended before this (it is a child of
        ours: ``resource.getrusage(RUSAGE_CHILDREN)`` has it)."""
        if not self.machine_before[1]:
            return None
        busy_after, total_after = machine_seconds()
        cpus = os.cpu_count() or 1
        wall = (total_after - self.machine_before[1]) / cpus
        used = {
            "server": 0.0,
            "database": 0.0,
            "locust": locust_seconds,
            "worker": 0.0,
            "proxy": 0.0,
        }
        servers: list[float] = []
        for process in processes():
            kind = self.kind(process)
            if kind is not None:
                seconds = process.seconds - self.before.get(process.pid, 0.0)
                used[kind] += seconds
                if kind == "server":
                    servers.append(seconds)
        busy = busy_after - self.machine_before[0]
        report: dict[str, Any] = {
            f"{kind}_ms_per_request": round(seconds * 1000 / max(requests, 1), 2)
            for kind, seconds in used.items()
        }
        report |= {f"{kind}_cores": round(seconds / wall, 2) for kind, seconds in used.items()}
        # Each gunicorn process (masters and workers, busiest first): how evenly they share work.
        report["server_process_cores"] = [
            round(seconds / wall, 2) for seconds in sorted(servers, reverse=True)
        ]
        # What the rest of the machine used meanwhile: on a shared machine, other people's work.
        report["other_cores"] = round(max(0.0, busy - sum(used.values())) / wall, 2)
        report["idle_cores"] = round(max(0.0, cpus - busy / wall), 2)
        return report


def available() -> bool:
    return (PROC / "stat").exists()
