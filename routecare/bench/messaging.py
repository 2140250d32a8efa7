"""Helpdesk figures (issue 23), served as in production: gunicorn receives signed WhatsApp
deliveries on loopback, the task worker (``db_worker``) answers them through a loopback fake of
the Graph API (``messaging.loopback``), on the bench's database.

- ``webhook_ack_ms``: the webhook's answer to each of ``ACK_DELIVERIES`` deliveries sent at
  ``ACK_RATE`` a second (target p95 ≤ 100 ms);
- ``replay``: ``REPLAYED`` deliveries each sent 10 times, each time 5 identical ones at once:
  the messages kept beyond one per delivery (target 0) and the answers beyond one;
- ``answer_ms``: from a person's message leaving their phone (the webhook's request) to the
  bot's answer reaching the platform, with the worker running (target p95 ≤ 2,000 ms), over
  conversations that go through the menu, the notice and a directory question.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
from django.conf import settings

from routecare.bench.deliveries import signed_headers, whatsapp_text
from routecare.bench.directory import BENCH_COUNTRY, ensure_long_route
from routecare.bench.stats import summarise
from routecare.messaging.channels import address_digest, external_key
from routecare.messaging.loopback import FakePlatforms
from routecare.messaging.models import Channel, ChannelKind, Contact, Message
from routecare.orgs.models import NationalSociety

Log = Callable[[str], None]

SLUG = "bench-whatsapp"
NUMBER_ID = "100000000000001"
SECRETS = {"app_secret": "bench-app-secret", "access_token": "bench-token", "verify_token": "v"}
ACK_RATE = 100  # deliveries a second
ACK_DELIVERIES = 1500
REPLAYED = 40
CONVERSATIONS = 40
# A person reads the answer before writing again: with 40 conversations, about 10 messages a
# second reach the worker (36,000 an hour, a very busy helpdesk).
READING_SECONDS = 3.0
# What each bench conversation says (Spanish: the menu's number, consent, a question).
SCRIPT = ("hola", "2", "1", "agua Bench point 250")
TARGETS = {"webhook_ack_p95_ms_max": 100, "replay_duplicates_max": 0, "answer_p95_ms_max": 2000}


def _channel() -> Channel:
    ensure_long_route()
    society = NationalSociety.objects.get(country_code=BENCH_COUNTRY)
    channel, _ = Channel.objects.update_or_create(
        slug=SLUG,
        defaults={"national_society": society, "kind": ChannelKind.WHATSAPP,
                  "platform_id": NUMBER_ID, "emergency_number": "112", "active": True},
    )  # fmt: skip
    # Each run starts without the last run's contacts (their messages go with them).
    Contact.objects.filter(channel=channel).delete()
    return channel


def _delivery(sender: str, wamid: str, text: str) -> bytes:
    return whatsapp_text(NUMBER_ID, sender, wamid, text)


def _headers(raw: bytes) -> dict[str, str]:
    return signed_headers(SECRETS["app_secret"], raw)


@contextmanager
def _served(fake: FakePlatforms, log: Log) -> Iterator[str]:
    """gunicorn and the task worker on this database, sending to the fake."""
    # Here, not above: the load test's module reads the bench's CPU calibration (a cycle).
    from routecare.bench.load.run import _bin
    from routecare.bench.served import database_url, server_environment, serving

    extra = {
        "ROUTECARE_MESSAGING_SECRETS": json.dumps({SLUG: SECRETS}),
        "ROUTECARE_WHATSAPP_API": f"{fake.url}/v21.0",
        "ROUTECARE_LOOKUP_KEY": settings.ROUTECARE_LOOKUP_KEY,
        # The database queue, as on a server (never run in the request).
        "ROUTECARE_TASKS": "database",
    }
    env = server_environment(database_url()) | extra
    with serving(log, extra_env=extra) as (port, _shape), tempfile.TemporaryFile("w+") as output:
        # At a lower CPU priority than gunicorn, as docs/operations.md runs it: a webhook's
        # acknowledgement is what the platforms wait for; an answer may take a second.
        nice = shutil.which("nice") or "/usr/bin/nice"
        argv = [nice, "-n", "10", _bin("routecare"), "db_worker", "--queue-name=*",
                "--interval=0.05"]  # fmt: skip
        worker = subprocess.Popen(  # noqa: S603
            argv, env=env, stdout=output, stderr=output, start_new_session=True
        )
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            worker.terminate()
            worker.wait(timeout=30)


def _post(client: httpx.Client, url: str, raw: bytes) -> tuple[int, float]:
    started = time.perf_counter()
    response = client.post(url, content=raw, headers=_headers(raw))
    return response.status_code, (time.perf_counter() - started) * 1000


def _acks(base: str, log: Log, deliveries: int) -> dict[str, Any]:
    """Deliveries at a steady rate from many numbers, each answered by the webhook."""
    log(f"messaging: {deliveries} deliveries at {ACK_RATE} a second")
    url = f"{base}/messaging/whatsapp/{SLUG}/"
    local = threading.local()
    started = time.perf_counter()

    def send(n: int) -> tuple[int, float]:
        time.sleep(max(0.0, started + n / ACK_RATE - time.perf_counter()))
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=30)
        raw = _delivery(f"3897{n % 300:07d}", f"wamid.BENCHACK{n:06d}", "hola")
        return _post(local.client, url, raw)

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(send, range(deliveries)))
    elapsed = time.perf_counter() - started
    statuses = {code for code, _ in results}
    return {
        "deliveries": deliveries,
        "rate_sent_per_s": round(deliveries / elapsed, 1),
        "statuses": sorted(statuses),
        "ms": summarise([ms for _, ms in results]),
    }


def _replay(base: str, log: Log, replayed: int) -> dict[str, Any]:
    """Each delivery 10 times, 5 identical ones at once each time."""
    log(f"messaging: {replayed} deliveries, each 10 times x 5 at once")
    url = f"{base}/messaging/whatsapp/{SLUG}/"
    wamids = [f"wamid.BENCHREPLAY{n:04d}" for n in range(replayed)]
    statuses: list[int] = []
    with ThreadPoolExecutor(max_workers=5) as pool:
        clients = [httpx.Client(timeout=30) for _ in range(5)]
        for _round in range(10):
            for n, wamid in enumerate(wamids):
                raw = _delivery(f"3898{n:07d}", wamid, "hola")
                at_once = [pool.submit(_post, client, url, raw) for client in clients]
                statuses += [future.result()[0] for future in at_once]
        for client in clients:
            client.close()
    channel = Channel.objects.get(slug=SLUG)
    keys = [external_key(channel, wamid) for wamid in wamids]
    kept = Message.objects.filter(external_id__in=keys).count()
    return {
        "deliveries": replayed,
        "requests": len(statuses),
        "statuses": sorted(set(statuses)),
        "kept": kept,
        "duplicates": kept - replayed,
    }


def _answers(
    base: str, fake: FakePlatforms, log: Log, conversations: int, reading: float
) -> dict[str, Any]:
    """Conversations at once, each message sent when the last one is answered and read."""
    log(f"messaging: {conversations} conversations of {len(SCRIPT)} messages, worker answering")
    url = f"{base}/messaging/whatsapp/{SLUG}/"

    def answered_after(number: str, since: float, deadline: float) -> float | None:
        while time.perf_counter() < deadline:
            for (_path, body), at in zip(list(fake.sent), list(fake.sent_at), strict=False):
                if body.get("to") == number and at >= since:
                    return at
            time.sleep(0.02)
        return None

    def converse(n: int) -> list[float]:
        number = f"3899{n + 1:07d}"
        waits: list[float] = []
        # People do not all write in the same second: the conversations start spread over
        # one reading time, so messages reach the worker at a steady rate.
        time.sleep(max(n, 0) * reading / max(conversations, 1))
        with httpx.Client(timeout=30) as client:
            for step, text in enumerate(SCRIPT):
                sent = time.perf_counter()
                status, _ms = _post(client, url, _delivery(number, f"wamid.BENCHANS{n}-{step}",
                                                            text))  # fmt: skip
                answered = answered_after(number, sent, sent + 30) if status == 200 else None
                waits.append(((answered or sent + 30) - sent) * 1000)
                time.sleep(reading)
        return waits

    converse(-1)  # one conversation first, unmeasured: the worker's caches warm as on a server
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=conversations) as pool:
        waits = [ms for found in pool.map(converse, range(conversations)) for ms in found]
    elapsed = time.perf_counter() - started
    return {"messages": len(waits), "messages_per_s": round(len(waits) / elapsed, 1),
            "unanswered": sum(ms >= 30_000 for ms in waits), "ms": summarise(waits)}  # fmt: skip


def _drained(timeout: float = 300) -> float:
    """Wait until the worker has answered what the last phase left queued; the answers a
    second it managed meanwhile."""
    waiting = Message.objects.filter(channel__slug=SLUG, status="received")
    before, started = waiting.count(), time.perf_counter()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and waiting.exists():
        time.sleep(0.2)
    return round((before - waiting.count()) / (time.perf_counter() - started), 1)


def measure_messaging(
    log: Log,
    *,
    deliveries: int = ACK_DELIVERIES,
    replayed: int = REPLAYED,
    conversations: int = CONVERSATIONS,
    reading: float = READING_SECONDS,
) -> dict[str, Any]:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line a request otherwise
    _channel()
    with FakePlatforms(SECRETS["access_token"], "unused:token") as fake, _served(fake, log) as base:
        answers = _answers(base, fake, log, conversations, reading)
        acks = _acks(base, log, deliveries)
        acks["worker_answers_per_s_after"] = _drained()
        replay = _replay(base, log, replayed)
        _drained()
    answered_once = _answered_once(replayed)
    figures: dict[str, Any] = {
        "webhook_ack_ms": acks,
        "replay": {**replay, "answered_more_than_once": answered_once},
        "answer_ms": answers,
    }
    figures["meets_targets"] = bool(
        acks["ms"]["p95"] <= TARGETS["webhook_ack_p95_ms_max"]
        and acks["statuses"] == [200]
        and replay["duplicates"] <= TARGETS["replay_duplicates_max"]
        and answered_once == 0
        and answers["ms"]["p95"] <= TARGETS["answer_p95_ms_max"]
        and answers["unanswered"] == 0
    )
    return figures


def _answered_once(replayed: int) -> int:
    """Replayed deliveries whose contact got more than one answer (each sent one message)."""
    numbers = {f"3898{n:07d}" for n in range(replayed)}
    channel = Channel.objects.get(slug=SLUG)
    digests = [address_digest(channel, number) for number in numbers]
    return sum(
        Message.objects.filter(contact=contact, direction="out").count() > 1
        for contact in Contact.objects.filter(channel=channel, address_digest__in=digests)
    )
