"""The helpdesk's part of ``make load``, on the run's side.

The servers get secrets of the run's own for the load test's WhatsApp channel
(``prepare.helpdesk_channel``), a lookup key of the run's own, and the address of a loopback
fake of the Graph API and the Telegram Bot API (``messaging.loopback``) instead of the
platforms', so every answer the task worker sends stays on this machine. Locust signs its
deliveries with the same app secret (``ROUTECARE_LOAD_WHATSAPP_APP_SECRET``).

After the run, the worker is given time to answer what is still queued, then the load database
says what was kept: inbound messages against the distinct message ids locust sent (a replayed
delivery must find its message already kept), duplicates (rows sharing a platform id: the
unique constraint says none), and the answers sent, which the fake counts too.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

import dj_database_url
import psycopg
from psycopg import sql

from routecare.bench.orchestrate import server_connection
from routecare.messaging.loopback import FakePlatforms
from routecare.messaging.models import Channel, DeliveryStatus, Direction, Message

APP_SECRET_ENV = "ROUTECARE_LOAD_WHATSAPP_APP_SECRET"  # noqa: S105 - a name, not a secret
# After locust stops, how long the worker may take to answer what is still queued.
DRAIN_TIMEOUT_SECONDS = 120


def run_secrets() -> dict[str, str]:
    """The channel's secrets for one run (nothing outside the run knows them)."""
    return {
        "app_secret": secrets.token_urlsafe(32),
        "access_token": secrets.token_urlsafe(32),
        "verify_token": secrets.token_urlsafe(16),
    }


def fake_platforms(channel_secrets: Mapping[str, str]) -> FakePlatforms:
    # No Telegram channel in the mix: the bot token only has to be one nobody sends.
    return FakePlatforms(channel_secrets["access_token"], secrets.token_hex(8))


def server_environment(
    slug: str, channel_secrets: Mapping[str, str], fake: FakePlatforms
) -> dict[str, str]:
    """What gunicorn and the worker need for the channel to start and answer to the fake."""
    return {
        "ROUTECARE_MESSAGING_SECRETS": json.dumps({slug: dict(channel_secrets)}),
        "ROUTECARE_LOOKUP_KEY": secrets.token_urlsafe(32),
        "ROUTECARE_WHATSAPP_API": f"{fake.url}/v21.0",
        "ROUTECARE_TELEGRAM_API": fake.url,
    }


def _connect(database_url: str) -> psycopg.Connection[Any]:
    params = dj_database_url.parse(database_url)
    return psycopg.connect(
        dbname=str(params.get("NAME") or ""), connect_timeout=5, autocommit=True,
        **server_connection(params),
    )  # fmt: skip


def _messages(db: psycopg.Connection[Any], slug: str) -> dict[str, Any]:
    """The channel's messages by direction and status, and inbound rows sharing a platform id."""
    query = sql.SQL(
        "SELECT m.direction, m.status, count(*) "
        "FROM {message} m JOIN {channel} c ON c.id = m.channel_id WHERE c.slug = %s "
        "GROUP BY m.direction, m.status"
    ).format(
        message=sql.Identifier(Message._meta.db_table),
        channel=sql.Identifier(Channel._meta.db_table),
    )
    rows = db.execute(query, (slug,)).fetchall()
    by_status: dict[str, dict[str, int]] = {Direction.INBOUND: {}, Direction.OUTBOUND: {}}
    for direction, status, count in rows:
        by_status.setdefault(direction, {})[status] = int(count)
    distinct_inbound = db.execute(
        sql.SQL(
            "SELECT count(*), count(DISTINCT m.external_id) FROM {message} m "
            "JOIN {channel} c ON c.id = m.channel_id WHERE c.slug = %s AND m.direction = %s"
        ).format(
            message=sql.Identifier(Message._meta.db_table),
            channel=sql.Identifier(Channel._meta.db_table),
        ),
        (slug, Direction.INBOUND),
    ).fetchone()
    kept, distinct = distinct_inbound or (0, 0)
    return {"by_status": by_status, "kept": int(kept), "same_id_rows": int(kept) - int(distinct)}


def _waiting(counted: Mapping[str, Any]) -> int:
    """Inbound messages the worker has not taken up, and answers written but not yet sent."""
    by_status = counted["by_status"]
    return int(by_status[Direction.INBOUND].get(DeliveryStatus.RECEIVED, 0)) + int(
        by_status[Direction.OUTBOUND].get(DeliveryStatus.QUEUED, 0)
    )


def after_run(database_url: str, slug: str, fake: FakePlatforms, *, worker: bool) -> dict[str, Any]:
    """What the load database and the fake say once the worker has caught up (or given up)."""
    started = time.monotonic()
    with _connect(database_url) as db:
        counted = _messages(db, slug)
        while worker and _waiting(counted) and time.monotonic() - started < DRAIN_TIMEOUT_SECONDS:
            time.sleep(1)
            counted = _messages(db, slug)
    inbound = counted["by_status"][Direction.INBOUND]
    outbound = counted["by_status"][Direction.OUTBOUND]
    return {
        "inbound_kept": counted["kept"],
        "inbound_same_id_rows": counted["same_id_rows"],
        "inbound_unanswered": int(inbound.get(DeliveryStatus.RECEIVED, 0)),
        "answers_by_status": dict(sorted(outbound.items())),
        "answers_at_fake": sum(1 for path, _body in list(fake.sent) if path.endswith("/messages")),
        "drain_seconds": round(time.monotonic() - started, 1),
    }
