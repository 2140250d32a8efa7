"""Starts and stops what ``make load`` runs, and writes its report.

1. The load database's base copy (PostgreSQL, ``<name>_base``, created if missing) is migrated
   and seeded by ``routecare load --prepare`` in a process of its own whose ``DATABASE_URL``
   points at it; then the load database is made afresh from it (``CREATE DATABASE … TEMPLATE``,
   seconds). Every run starts from the same data: what a run records (some fifty encounters a
   second, all today) never reaches the base, so it cannot make the next run's rollup refreshes
   and dashboards heavier.
2. gunicorn serves the project on a loopback port with production settings
   (``ROUTECARE_PRODUCTION``, DEBUG off, hashed static files, throw-away secrets), and the
   worker (``routecare periodic`` and ``db_worker``, both at a lower CPU priority, as
   docs/operations.md runs them) beside it as on a server. The helpdesk's WhatsApp channel
   starts with secrets of the run's own, and sends to a loopback fake of the platforms served
   from this process (``helpdesk``).
3. locust runs headless against it; the worker is given time to answer what is queued, the
   helpdesk's messages are counted, then everything is stopped and the summary printed.

With ``--instances 2`` (``make load-scale-out``) two gunicorn instances serve on the ports after
the load port, each with its own processes and caches, behind haproxy (Debian's package) on the
load port, balancing by the fewest open connections; their caches and invalidation counters are
shared through Redis (``LOAD_REDIS_URL``, default 127.0.0.1:6379) under a prefix of the run's
own, reached as a Redis user of the run's own (``ACL SETUSER``, a random password, only the
prefix's keys, removed with them at the end), as production requires a password.

Secrets: the Django ``SECRET_KEY`` is new on every run. The field keys encrypt the load
database's health data and cards, so they live as long as it does, in
``.local/load-field-keys`` (git ignores ``.local/``); without that file the database is
dropped and built again.
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from base64 import b64encode
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import IO, Any

import dj_database_url
import psycopg
import redis
from django.conf import settings
from psycopg import sql

from routecare.bench.load import helpdesk
from routecare.bench.load.cpu import CpuMeter, available, classifier
from routecare.bench.load.prepare import HELPDESK_SLUG
from routecare.bench.load.summary import TARGETS, parse_duration, summarise
from routecare.bench.measure import cpu_calibration_ms
from routecare.bench.orchestrate import _without_password, prepare_postgres, server_connection

Log = Callable[[str], None]

DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/routecare_load"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
# Chosen by measurement on the 2-core reference machine (docs/benchmarks.md, "Load test"):
# two processes, one a core, with four threads each to overlap database round trips.
DEFAULT_WORKERS = 2
DEFAULT_THREADS = 4
# Seconds gunicorn keeps an idle connection open, as behind a proxy that keeps its upstream
# connections (README, "Deploying": nginx's ``keepalive``); 0 closes each after one response.
DEFAULT_KEEP_ALIVE = 5
# The periodic jobs (the rollup refresh above all) and the task worker (the helpdesk's answers)
# yield the processors to the web server, as README, "Deploying" and docs/operations.md advise
# (``Nice=10``): the platforms wait for the webhook's acknowledgement, not for the answer.
WORKER_NICENESS = 10
STARTUP_TIMEOUT_SECONDS = 60
PREPARE_TIMEOUT_SECONDS = 3 * 3600


@dataclass(frozen=True)
class LoadOptions:
    users: int = 100
    spawn_rate: float = 7.0  # users started per second: 100 users in about 15 s
    duration: str = "5m"
    people: int = 100_000
    workers: int = DEFAULT_WORKERS
    threads: int = DEFAULT_THREADS
    keep_alive: int = DEFAULT_KEEP_ALIVE
    port: int = 8765
    database_url: str = DEFAULT_DATABASE_URL
    worker: bool = True  # the task worker and periodic jobs beside gunicorn
    seed: int = 7
    # Gunicorn instances: 1 serves on ``port``; more serve on the ports after it, behind haproxy
    # on ``port``, sharing caches through Redis (``redis_url``).
    instances: int = 1
    redis_url: str = DEFAULT_REDIS_URL


def local_dir() -> Path:
    path = Path(settings.LOCAL_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def field_keys(path: Path) -> tuple[str, bool]:
    """The load database's field keys, and whether they were made just now."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip(), False
    keys = "load1:" + b64encode(secrets.token_bytes(32)).decode()
    path.touch(mode=0o600)
    path.write_text(keys, encoding="utf-8")
    return keys, True


def _load_name(url: str) -> tuple[str, dict[str, Any]]:
    """The database's name (only one whose name says it is the load test's) and how to connect
    to its server."""
    params = dj_database_url.parse(url)
    name = str(params.get("NAME") or "")
    if "load" not in name:
        raise RuntimeError(f"refusing to drop {name!r}: its name does not contain 'load'")
    connect = server_connection(params)
    return name, connect


def drop_database(url: str) -> None:
    """Drop a load test database."""
    name, connect = _load_name(url)
    with psycopg.connect(dbname="postgres", connect_timeout=5, autocommit=True, **connect) as db:
        db.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def base_url(url: str) -> str:
    """The address of the load database's base copy: the same server, ``<name>_base``."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_base"))


def copy_database(base: str, url: str) -> None:
    """Make the load database afresh as a copy of its base (nobody may be connected to it)."""
    name, connect = _load_name(url)
    template, _connect = _load_name(base)
    with psycopg.connect(dbname="postgres", connect_timeout=5, autocommit=True, **connect) as db:
        db.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        db.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )


def environment(options: LoadOptions, keys: str, *, production: bool) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": options.database_url,
        "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE,
        "ROUTECARE_FIELD_KEYS": keys,
        # Throw-away: sessions and signed links of this run only.
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ROUTECARE_PRODUCTION": "true" if production else "false",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Plain http on loopback stands for the TLS proxy in front of a real server.
        "SECURE_COOKIES": "false",
        "LOG_LEVEL": "WARNING",
        # Collected static files stay out of the work tree (the tests' whitenoise would scan them).
        "STATIC_ROOT": str(local_dir() / "load-static"),
    }
    for name in ("SECRET_KEY_FILE", "ROUTECARE_FIELD_KEYS_FILE", "ROUTECARE_TASKS",
                 "ROUTECARE_MESSAGING_SECRETS_FILE", "ROUTECARE_LOOKUP_KEY_FILE"):  # fmt: skip
        env.pop(name, None)
    return env


def _run(argv: list[str], env: dict[str, str], timeout: float, log_stream: IO[str]) -> None:
    # A list argv and no shell: nothing from the environment is interpreted as a command.
    subprocess.run(  # noqa: S603
        argv, env=env, stdout=log_stream, stderr=log_stream, check=True, timeout=timeout
    )


def _start(argv: list[str], env: dict[str, str], log_stream: IO[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603
        argv, env=env, stdout=log_stream, stderr=log_stream, start_new_session=True
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group we started (gunicorn's master and its workers), then wait."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    """The last started first: the proxy and the worker before the servers they call."""
    for process in reversed(processes):
        _stop(process)


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"gunicorn did not answer /healthz within {STARTUP_TIMEOUT_SECONDS} s")


def instance_ports(options: LoadOptions) -> list[int]:
    """Where the gunicorn instances listen: the load port itself when alone, else the ports
    after it (haproxy takes the load port)."""
    if options.instances == 1:
        return [options.port]
    return [options.port + n for n in range(1, options.instances + 1)]


def gunicorn_argv(options: LoadOptions, port: int | None = None) -> list[str]:
    return [
        _bin("gunicorn"),
        "routecare.wsgi",
        f"--bind=127.0.0.1:{options.port if port is None else port}",
        f"--workers={options.workers}",
        f"--threads={options.threads}",
        f"--worker-class={'gthread' if options.threads > 1 else 'sync'}",
        f"--keep-alive={options.keep_alive}",
        "--worker-tmp-dir=/dev/shm",
    ]


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/sbin")
    if found is None:
        raise RuntimeError(
            "two or more instances run behind haproxy: apt-get install haproxy "
            "(make load-scale-out installs it when run as root)"
        )
    return found


def haproxy_config(options: LoadOptions) -> str:
    """haproxy in front of the instances, as a TLS proxy would be in production (without TLS on
    loopback): HTTP keep-alive both ways, the instance with the fewest open connections gets
    the next request, an instance that fails its health check gets none."""
    servers = "\n".join(
        f"    server web{n} 127.0.0.1:{port} check inter 2s"
        for n, port in enumerate(instance_ports(options), start=1)
    )
    return f"""global
    maxconn 4096
    log stdout format raw local0 warning

defaults
    mode http
    log global
    option http-keep-alive
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive {max(options.keep_alive, 1)}s

frontend load
    bind 127.0.0.1:{options.port}
    default_backend routecare

backend routecare
    balance leastconn
    option httpchk
    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host 127.0.0.1
    http-check expect status 200
{servers}
"""


@contextmanager
def redis_for_the_run(url: str) -> Iterator[tuple[str, str]]:
    """A Redis URL with a user and password of this run's own, and the key prefix it may use;
    the user and its keys are removed at the end. A URL that already carries a password is used
    as it is (its keys under the prefix are still removed)."""
    client: redis.Redis = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as error:
        message = f"two instances share their caches through Redis at {url}: {error}"
        raise RuntimeError(message) from error
    run_id = secrets.token_hex(6)
    prefix = f"routecare-load-{run_id}:"
    parts = urllib.parse.urlsplit(url)
    user = None
    if parts.password:
        shared = url
    else:
        user, password = f"routecare-load-{run_id}", secrets.token_urlsafe(24)
        client.execute_command(  # type: ignore[no-untyped-call]
            "ACL", "SETUSER", user, "reset", "on", f">{password}", f"~{prefix}*",
            "resetchannels", "+@all", "-@dangerous",
        )  # fmt: skip
        netloc = f"{user}:{urllib.parse.quote(password, safe='')}@{parts.hostname}"
        netloc += f":{parts.port}" if parts.port else ""
        shared = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    try:
        yield shared, prefix
    finally:
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            client.delete(key)
        if user is not None:
            client.acl_deluser(user)
        client.close()


def locust_argv(options: LoadOptions, host: str) -> list[str]:
    return [
        _bin("locust"),
        f"--locustfile={LOCUSTFILE}",
        "--headless",
        f"--users={options.users}",
        f"--spawn-rate={options.spawn_rate}",
        f"--run-time={options.duration}",
        f"--host={host}",
        "--only-summary",
        "--stop-timeout=10",
        "--loglevel=WARNING",
    ]


def _children_cpu_seconds() -> float:
    """CPU time of the child processes waited for so far (locust, once it exits)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _requests(results_path: Path) -> int:
    if not results_path.exists():
        return 0
    results = json.loads(results_path.read_text(encoding="utf-8"))
    return sum(int(entry["num_requests"]) for entry in results["stats"])


def run_load(options: LoadOptions, log: Log) -> dict[str, Any]:
    parse_duration(options.duration)  # fail early on a bad duration
    here = local_dir()
    keys, new_keys = field_keys(here / "load-field-keys")
    base = base_url(options.database_url)
    if new_keys:
        log("new field keys: the load database is built from scratch")
        drop_database(base)
    reason = prepare_postgres(base, fresh=False)
    if reason is not None:
        raise RuntimeError(reason)
    plan_path = here / "load-plan.json"
    results_path = here / "load-locust.json"
    results_path.unlink(missing_ok=True)
    server_log = here / "load-server.log"
    with server_log.open("w", encoding="utf-8") as log_stream:
        log(f"preparing the data ({options.people:,} people; the first run takes minutes)")
        _run(
            [_bin("routecare"), "load", "--prepare", f"--plan={plan_path}",
             f"--people={options.people}", f"--seed={options.seed}"],
            environment(replace(options, database_url=base), keys, production=False),
            PREPARE_TIMEOUT_SECONDS, sys.stderr,
        )  # fmt: skip
        began = time.perf_counter()
        copy_database(base, options.database_url)
        log(f"the load database copied from its base in {time.perf_counter() - began:.1f} s")
        serve_env = environment(options, keys, production=True)
        _run([_bin("routecare"), "collectstatic", "--no-input", "--verbosity=0"], serve_env,
             600, log_stream)  # fmt: skip
        host = f"http://127.0.0.1:{options.port}"
        # How fast and busy the machine is before our server runs (docs/benchmarks.md).
        load_before, cpu_before = os.getloadavg()[0], cpu_calibration_ms()
        started: list[subprocess.Popen[bytes]] = []
        channel_secrets = helpdesk.run_secrets()
        with ExitStack() as stack:
            # Entered first, left last: the worker may send until it is stopped.
            fake = stack.enter_context(helpdesk.fake_platforms(channel_secrets))
            serve_env |= helpdesk.server_environment(HELPDESK_SLUG, channel_secrets, fake)
            if options.instances > 1:
                proxy = haproxy_binary()
                shared, prefix = stack.enter_context(redis_for_the_run(options.redis_url))
                serve_env |= {"REDIS_URL": shared, "ROUTECARE_REDIS_PREFIX": prefix}
            stack.callback(_stop_all, started)
            for port in instance_ports(options):
                log(f"gunicorn on 127.0.0.1:{port}: {options.workers} workers x "
                    f"{options.threads} threads")  # fmt: skip
                server = _start(gunicorn_argv(options, port), serve_env, log_stream)
                started.append(server)
                _wait_until_up(f"http://127.0.0.1:{port}", server)
            servers = list(started)
            if options.instances > 1:
                config = here / "load-haproxy.cfg"
                config.write_text(haproxy_config(options), encoding="utf-8")
                log(f"haproxy on {host} in front of {options.instances} instances (Redis {prefix})")
                started.append(_start([proxy, "-db", "-f", str(config)], serve_env, log_stream))
                _wait_until_up(host, started[-1])
            if options.worker:
                started.append(
                    _start(["nice", "-n", str(WORKER_NICENESS), _bin("routecare"), "periodic"],
                           serve_env, log_stream)
                )  # fmt: skip
                started.append(
                    _start(["nice", "-n", str(WORKER_NICENESS), _bin("routecare"), "db_worker",
                            "--queue-name=*"], serve_env, log_stream)
                )  # fmt: skip
            database = str(dj_database_url.parse(options.database_url).get("NAME") or "")
            meter = CpuMeter(classifier([p.pid for p in started], database))
            meter.start()
            children_before = _children_cpu_seconds()
            log(f"locust: {options.users} users for {options.duration}")
            locust_env = {
                **os.environ,
                "ROUTECARE_LOAD_PLAN": str(plan_path),
                "ROUTECARE_LOAD_RESULTS": str(results_path),
                helpdesk.APP_SECRET_ENV: channel_secrets["app_secret"],
            }
            # Locust exits with 1 when any request failed: the summary says so.
            subprocess.run(  # noqa: S603
                locust_argv(options, host), env=locust_env, stdout=sys.stderr, check=False,
                timeout=parse_duration(options.duration) + 600,
            )  # fmt: skip
            load_after = os.getloadavg()[0]
            servers_alive = all(server.poll() is None for server in servers)
            requests = _requests(results_path)
            locust_seconds = _children_cpu_seconds() - children_before
            cpu = meter.stop(requests, locust_seconds) if available() else None
            log("the helpdesk: waiting for the worker's last answers, counting messages")
            helpdesk_figures = helpdesk.after_run(
                options.database_url, HELPDESK_SLUG, fake, worker=options.worker
            )
    if not results_path.exists():
        raise RuntimeError("locust saved no results: see its messages above")
    results = json.loads(results_path.read_text(encoding="utf-8"))
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    figures = summarise(results, users=options.users, spawn_rate=options.spawn_rate,
                        targets=TARGETS, cpu=cpu, helpdesk=helpdesk_figures)  # fmt: skip
    return {
        **figures,
        "users": options.users,
        "spawn_rate": options.spawn_rate,
        "duration": options.duration,
        "server": {
            "instances": options.instances,
            "proxy": "haproxy, leastconn" if options.instances > 1 else None,
            "shared_cache": "redis" if options.instances > 1 else "per process",
            "gunicorn_workers": options.workers,
            "gunicorn_threads": options.threads,
            "worker_class": "gthread" if options.threads > 1 else "sync",
            "keep_alive_seconds": options.keep_alive,
            "task_worker": options.worker,
            "periodic_niceness": WORKER_NICENESS,
            "task_worker_niceness": WORKER_NICENESS,
            "database": _without_password(options.database_url),
            "copied_from": _without_password(base),
            "stayed_up": servers_alive,
            "log": str(server_log),
        },
        "cpu": cpu,
        "data": plan["data"],
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1m": {"before": round(load_before, 2), "after": round(load_after, 2)},
            "cpu_calibration_ms": {"before": cpu_before, "after": cpu_calibration_ms()},
        },
        "options": asdict(options) | {"database_url": _without_password(options.database_url)},
    }
