"""The chaos test of field-node sync (``make chaos``; a bounded run in ``make test``).

A real server (gunicorn and PostgreSQL on loopback) and real nodes (separate processes,
separate SQLite files) behind ``ChaosProxy``: 30 % of requests cut (half before the server
sees them, half after it committed), delays that reorder, replays, node clocks off by up to
two hours, sync processes killed mid-sync, and two nodes at one point editing the same people's
health summaries. Then the link goes down, comes back, and every record on every node is
compared with the server's: 0 lost, 0 duplicated, every same-field conflict listed, nothing
else different. Prints one JSON object of figures (docs/benchmarks.md).
"""

from __future__ import annotations

import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from base64 import b64encode
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from routecare.bench.chaos.node import DUMP_RECORDS, FieldNode, routecare_command
from routecare.bench.chaos.proxy import ChaosProxy, Faults
from routecare.bench.orchestrate import prepare_postgres


@dataclass
class ChaosOptions:
    database_url: str = "postgres://root@127.0.0.1:5432/routecare_bench_chaos"
    nodes: int = 3  # the first two share a service point
    people_per_node: int = 20
    shared_people: int = 5  # seen at the shared point: both nodes there edit them
    kill_probability: float = 0.3  # a sync process killed mid-sync
    down_seconds: float = 3.0
    throughput_people: int = 100  # registered offline by one more node, then pushed
    seed: int = 11
    timeout: float = 600.0


@dataclass
class ChaosResult:
    figures: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


SEED = """
import json
from django.contrib.auth.models import User
from routecare.access import build_actor
from routecare.orgs.models import Membership, NationalSociety, Network, ServicePoint
from routecare.people import actions
from routecare.sync import nodes

network = Network.objects.create(name="Chaos route")
society = NationalSociety.objects.create(network=network, name="Chaos Red Cross", country_code="HN")
points = [ServicePoint.objects.create(national_society=society, code=f"chaos-{n}",
          name=f"Chaos point {n}", latitude=14, longitude=-86.5, services=["water"])
          for n in range(2)]
focal = User.objects.create_user("chaos-focal")
Membership.objects.create(user=focal, role="focal_point", national_society=society)
for n in range(NODES + 1):
    Membership.objects.create(user=User.objects.create_user(f"chaos-vol-{n}"), role="volunteer",
                              national_society=society)
actor = build_actor(User.objects.get(username="chaos-vol-0"), points[0].pk)
shared = []
for n in range(SHARED):
    person = actions.register_person(actor, sex="female", age_band="18-59", consent_language="es")
    actions.record_encounter(actor, person, services=[("water", 1)])
    actions.update_health_summary(actor, person, allergies=["penicillin"])
    shared.append(str(person.pk))
focal_actor = build_actor(focal, points[0].pk)
codes = [nodes.create_enrolment_code(focal_actor, points[0 if n < 2 else 1])
         for n in range(NODES + 1)]
print(json.dumps({"codes": codes, "shared": shared,
                  "points": [str(p.pk) for p in points]}))
"""

WORK = """
import json
from django.contrib.auth.models import User
from routecare.access import build_actor
from routecare.people import actions
from routecare.people.models import Person
actor = build_actor(User.objects.get(username="chaos-vol-{index}"), "{point}")
for n in range({people}):
    person = actions.register_person(actor, sex="male", age_band="18-59", consent_language="es",
                                     languages=["es"])
    actions.record_encounter(actor, person, services=[("water", 1)],
                             follow_up=actions.FollowUpInput(f"check {{n}}"))
    actions.update_health_summary(actor, person, allergies=["{name}-a" + str(n)])
    print(person.pk, flush=True)
print("done", flush=True)
"""

# Both nodes at the shared point edit the same people from the same version, before either
# syncs again: the same field changed in two places, a conflict each, for sure.
SHARED_WORK = """
from django.contrib.auth.models import User
from routecare.access import build_actor
from routecare.people import actions
from routecare.people.models import Person
actor = build_actor(User.objects.get(username="chaos-vol-{index}"), "{point}")
for person_id in {shared}:
    person = Person.objects.get(pk=person_id)
    allergies = list(person.health_summary.allergies) + ["{name}-shared"]
    actions.update_health_summary(actor, person, allergies=allergies,
                                  pregnancy={{"weeks": {weeks}, "expected_date": None}})
"""

PUSH_TIMED = """
import json, time
from routecare.sync import client
from routecare.sync.models import NodeState, OutboxChange
waiting = OutboxChange.objects.count()
started = time.perf_counter()
report = client.push(NodeState.objects.get())
print(json.dumps({"changes": report.acknowledged, "seconds": time.perf_counter() - started,
                  "waiting_before": waiting}))
"""


class Harness:
    def __init__(self, options: ChaosOptions, directory: Path) -> None:
        self.options = options
        self.directory = directory
        self.random = random.Random(options.seed)
        self.port = _free_port()
        self.server_env = {
            **os.environ,
            "DATABASE_URL": options.database_url,
            "DJANGO_SETTINGS_MODULE": "routecare.settings",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "ROUTECARE_FIELD_KEYS": "s1:" + b64encode(secrets.token_bytes(32)).decode(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_COOKIES": "false",
            "LOG_LEVEL": "WARNING",
            "ROUTECARE_TASKS": "immediate",
            # Each node registers people offline with codes of its reserved block.
            "ROUTECARE_RESERVED_SHORT_CODES": str(
                max(500, options.people_per_node, options.throughput_people) + 100
            ),
        }
        for name in ("SECRET_KEY_FILE", "ROUTECARE_FIELD_KEYS_FILE", "ROUTECARE_NODE"):
            self.server_env.pop(name, None)
        self.server: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self.lock = threading.Lock()

    # The server ------------------------------------------------------------------------

    def server_run(self, *args: str) -> str:
        done = subprocess.run(  # noqa: S603 - our own command
            [routecare_command(), *args], env=self.server_env, capture_output=True, text=True,
            timeout=300, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"server: routecare {args[0]}: {done.stderr[-2000:]}")
        return done.stdout.strip()

    def start_server(self) -> None:
        gunicorn = str(Path(routecare_command()).parent / "gunicorn")
        log = (self.directory / "server.log").open("w")
        self.server = subprocess.Popen(  # noqa: S603 - our own command
            [gunicorn, "routecare.wsgi", f"--bind=127.0.0.1:{self.port}", "--workers=2",
             "--threads=4", "--worker-class=gthread", "--worker-tmp-dir=/dev/shm"],
            env=self.server_env, stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not start")

    def stop_server(self) -> None:
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            self.server.wait(timeout=30)

    # Nodes -----------------------------------------------------------------------------

    def sync_loop(
        self, node: FieldNode, done: threading.Event, converged: dict[str, float]
    ) -> None:
        """Sync again and again, sometimes killing the sync mid-way, until the node's work
        is done and a whole sync left nothing waiting."""
        deadline = time.monotonic() + self.options.timeout
        first = True
        while time.monotonic() < deadline:
            process = node.start("node", "sync")
            # Each node's first sync is killed for sure, later ones at random.
            if first or self.random.random() < self.options.kill_probability:
                first = False
                time.sleep(self.random.uniform(1.0, 4.0))
                if process.poll() is None:
                    process.kill()  # the laptop's power goes mid-sync
                    with self.lock:
                        self.restarts += 1
                process.communicate()
                continue
            out, _err = process.communicate(timeout=180)
            if process.returncode == 0 and done.is_set() and " 0 waiting" in out:
                converged[node.name] = time.monotonic()
                return
            time.sleep(0.2)


def _compare(nodes_records: dict[str, dict[str, Any]], server_records: dict[str, Any]) -> list[str]:
    problems = []
    for name, records in nodes_records.items():
        for key, values in records.items():
            if key not in server_records:
                problems.append(f"{name}: {key} lost (not on the server)")
            elif server_records[key] != values:
                problems.append(f"{name}: {key} differs from the server's")
    return problems


def run(options: ChaosOptions, directory: Path | None = None) -> ChaosResult:
    result = ChaosResult()
    reason = prepare_postgres(options.database_url, fresh=True)
    if reason:
        raise RuntimeError(reason)
    work_dir = directory or Path(tempfile.mkdtemp(prefix="routecare-chaos-"))
    harness = Harness(options, work_dir)
    harness.server_run("migrate", "--no-input")
    seeded = json.loads(
        harness.server_run("shell", "--no-imports", "-c", SEED.replace("NODES", str(options.nodes))
                           .replace("SHARED", str(options.shared_people)))
    )  # fmt: skip
    harness.server_run("card-keys", "init")  # cards issued at nodes are signed under them
    harness.start_server()
    proxy = ChaosProxy(harness.port, Faults(), seed=options.seed).start()
    try:
        _scenario(options, harness, proxy, seeded, result)
    finally:
        proxy.stop()
        harness.stop_server()
    return result


def _scenario(
    options: ChaosOptions, harness: Harness, proxy: ChaosProxy, seeded: dict[str, Any],
    result: ChaosResult,
) -> None:  # fmt: skip
    direct = f"http://127.0.0.1:{harness.port}"
    skews = [7200, -7200, 2220, 0]
    nodes: list[FieldNode] = []
    template = FieldNode(harness.directory / "template", "template")
    template.migrate_like(None)
    for index in range(options.nodes):
        node = FieldNode(harness.directory / f"node-{index}", f"node-{index}", skews[index % 4])
        node.migrate_like(template)
        # Enrolled at headquarters, on a good link; everything after goes through the chaos.
        node.run("node", "enroll", direct, seeded["codes"][index], "--name", node.name)
        node.says(f"from routecare.sync.models import NodeState; "
                  f"NodeState.objects.update(server_url='{proxy.url}')")  # fmt: skip
        nodes.append(node)
    _log("nodes enrolled")
    # The first pull (points, staff, the shared people), through the chaos too.
    _first_sync(nodes)
    _log("first pull done")
    for index, node in enumerate(nodes[:2]):
        shared_work = node.python(SHARED_WORK.format(
            index=index, point=seeded["points"][0], name=node.name,
            shared=json.dumps(seeded["shared"]), weeks=10 + index), "shared.py")  # fmt: skip
        _out, err = shared_work.communicate(timeout=options.timeout)
        if shared_work.returncode != 0:
            raise RuntimeError(f"{node.name} shared work failed: {err[-2000:]}")
    started = time.monotonic()
    work_done = threading.Event()
    converged: dict[str, float] = {}
    loops = [
        threading.Thread(target=harness.sync_loop, args=(node, work_done, converged))
        for node in nodes
    ]
    for loop in loops:
        loop.start()
    created: dict[str, list[str]] = {}
    workers = []
    for index, node in enumerate(nodes):
        point = seeded["points"][0 if index < 2 else 1]
        workers.append(node.python(WORK.format(
            index=index, point=point, people=options.people_per_node, name=node.name)))  # fmt: skip
    for node, worker in zip(nodes, workers, strict=True):
        out, err = worker.communicate(timeout=options.timeout)
        if worker.returncode != 0:
            raise RuntimeError(f"{node.name} work failed: {err[-2000:]}")
        created[node.name] = [line for line in out.split() if line != "done"]
    _log("work done on every node")
    # The link goes down for a while, then comes back.
    proxy.faults.down = True
    time.sleep(options.down_seconds)
    proxy.faults.down = False
    link_back = time.monotonic()
    work_done.set()
    for loop in loops:
        loop.join(options.timeout)
    _log(f"converged: {sorted(converged)}")
    if len(converged) < len(nodes):
        result.problems.append(f"only {sorted(converged)} converged in time")
    # One clean sync each: every node takes what the others did to the people it holds.
    proxy.faults = Faults(cut_before=0, cut_after=0, replay=0, max_delay=0)
    for node in nodes:
        node.run("node", "sync")
    _log("final syncs done")
    server_records = json.loads(harness.server_run("shell", "--no-imports", "-c", DUMP_RECORDS))
    nodes_records = {node.name: node.records() for node in nodes}
    result.problems.extend(_compare(nodes_records, server_records))
    result.problems.extend(_check_counts(harness, seeded, created, options))
    result.figures = {
        "nodes": len(nodes),
        "records_synced": int(harness.server_run("shell", "--no-imports", "-c", COUNT_APPLIED)),
        "records_compared": sum(len(r) for r in nodes_records.values()),
        **proxy.counts.as_dict(),
        "sync_processes_killed": harness.restarts,
        "conflicts_listed": int(harness.server_run("shell", "--no-imports", "-c", COUNT_CONFLICTS)),
        "conflicts_expected": options.shared_people,
        "converge_seconds_after_link_back": round(
            max(converged.values(), default=link_back) - link_back, 2
        ),
        "scenario_seconds": round(time.monotonic() - started, 1),
        "lost_or_different": len(result.problems),
    }
    if result.figures["conflicts_listed"] != options.shared_people:
        result.problems.append(
            f"{result.figures['conflicts_listed']} conflicts listed, "
            f"{options.shared_people} expected"
        )
    result.figures.update(_throughput(harness, seeded, options, template))


def _log(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _first_sync(nodes: list[FieldNode]) -> None:
    for node in nodes:
        for _attempt in range(40):
            if node.run("node", "sync", check=False).returncode == 0:
                break
        else:
            raise RuntimeError(f"{node.name}: no sync got through the chaos in 40 attempts")


COUNT_APPLIED = (
    "from routecare.sync.models import AppliedChange; print(AppliedChange.objects.count())"
)
COUNT_CONFLICTS = (
    "from routecare.sync.models import SyncConflict; print(SyncConflict.objects.count())"
)
COUNT_PEOPLE = """
import json
from routecare.people.models import Encounter, Person
print(json.dumps({"people": Person.objects.count(), "encounters": Encounter.objects.count(),
                  "ids": [str(p) for p in Person.objects.values_list("pk", flat=True)]}))
"""


def _check_counts(
    harness: Harness, seeded: dict[str, Any], created: dict[str, list[str]], options: ChaosOptions
) -> list[str]:
    counts = json.loads(harness.server_run("shell", "--no-imports", "-c", COUNT_PEOPLE))
    expected = set(seeded["shared"]) | {pk for ids in created.values() for pk in ids}
    problems = []
    missing = expected - set(counts["ids"])
    extra = set(counts["ids"]) - expected
    if missing:
        problems.append(f"{len(missing)} people lost")
    if extra:
        problems.append(f"{len(extra)} people duplicated or unexpected")
    if counts["encounters"] != len(expected):
        problems.append(f"{counts['encounters']} encounters for {len(expected)} people")
    return problems


def _throughput(
    harness: Harness, seeded: dict[str, Any], options: ChaosOptions, template: FieldNode
) -> dict[str, Any]:
    """One more node registers people offline, then pushes its whole backlog on a clean link:
    how many changes per second the server ingests."""
    if options.throughput_people <= 0:
        return {}
    node = FieldNode(harness.directory / "node-bulk", "node-bulk")
    node.migrate_like(template)
    node.run("node", "enroll", f"http://127.0.0.1:{harness.port}", seeded["codes"][-1])
    node.run("node", "sync")
    worker = node.python(WORK.format(
        index=options.nodes, point=seeded["points"][1], people=options.throughput_people,
        name="bulk"))  # fmt: skip
    _out, err = worker.communicate(timeout=options.timeout)
    if worker.returncode != 0:
        raise RuntimeError(f"bulk node work failed: {err[-2000:]}")
    # A thousand people are thousands of changes: as long as the scenario may take.
    timed = json.loads(node.says(PUSH_TIMED, timeout=options.timeout).splitlines()[-1])
    return {
        "throughput_changes": timed["changes"],
        "throughput_changes_per_second": round(timed["changes"] / timed["seconds"], 1),
    }


def as_json(result: ChaosResult) -> str:
    return json.dumps({**result.figures, "problems": result.problems[:50]}, indent=2)
