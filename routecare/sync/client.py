"""The node's side of sync: send the outbox to the server in resumable batches.

A change is frozen (its content read and kept) the first time it is sent, and sent again
with the same id and content until the server answers for it; it leaves the outbox only then.
A record's later change waits until its earlier one is answered, so that it can say which
server version it starts from.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from routecare.sync import capture, registry
from routecare.sync.api import MAX_BATCH_BYTES
from routecare.sync.models import BaseRecord, NodeState, OutboxChange

logger = logging.getLogger(__name__)

ACKNOWLEDGED = {"applied", "merged", "conflict", "duplicate", "held"}
TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class SyncUnavailable(Exception):  # noqa: N818 - a state, not a bug
    """No link to the server, or the server refused the node as a whole."""


@dataclass
class PushReport:
    sent: int = 0
    acknowledged: int = 0
    refused: int = 0
    batches: int = 0
    waiting: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"{self.acknowledged} changes acknowledged, {self.refused} refused, "
            f"{self.waiting} waiting, in {self.batches} batches"
        )


def _freeze(change: OutboxChange) -> dict[str, Any] | None:
    """The change as it will be sent, kept so that every retry sends the same thing."""
    syncable = registry.known(change.label)
    record = syncable.model._default_manager.filter(pk=change.record_id).first()
    if record is None:
        return None  # gone from this node (purged): nothing to send
    values = syncable.serialize(record)
    base = BaseRecord.objects.filter(label=change.label, record_id=change.record_id).first()
    wire = {
        "id": str(change.pk),
        "label": change.label,
        "record_id": str(change.record_id),
        "op": "update" if base is not None and not syncable.immutable else "create",
        "base_version": base.version if base else 0,
        "base": {k: base.values.get(k) for k in values} if base else {},
        "values": values,
        "by": syncable.author(record) or "",
        "hlc": change.hlc,
    }
    frozen: dict[str, Any] = json.loads(json.dumps(wire, default=str))
    return frozen


def next_batch(limit_bytes: int = MAX_BATCH_BYTES - 4096) -> list[OutboxChange]:
    """Changes to send now, oldest first, at most ``limit_bytes`` of JSON."""
    batch: list[OutboxChange] = []
    size = 0
    earlier: set[tuple[str, str]] = set()
    for change in OutboxChange.objects.filter(state=OutboxChange.State.WAITING).order_by("hlc"):
        key = (change.label, str(change.record_id))
        if change.frozen is None:
            if key in earlier:
                continue  # waits for the earlier change of the same record
            frozen = _freeze(change)
            if frozen is None:
                change.delete()
                continue
            change.frozen = frozen
            change.save(update_fields=["frozen"])
        earlier.add(key)
        length = len(json.dumps(change.frozen)) + 1
        if batch and size + length > limit_bytes:
            break
        batch.append(change)
        size += length
    return batch


def _post(state: NodeState, client: httpx.Client, batch: list[OutboxChange]) -> list[Any]:
    waiting = OutboxChange.objects.filter(state=OutboxChange.State.WAITING).count()
    try:
        response = client.post(
            state.server_url.rstrip("/") + "/api/v1/sync/push",
            json={"changes": [change.frozen for change in batch], "backlog": waiting},
            headers={
                "Authorization": f"Bearer {state.credential}",
                "X-RouteCare-Version": version("routecare"),
            },
            timeout=TIMEOUT,
        )
    except httpx.HTTPError as error:
        raise SyncUnavailable(f"no link to the server: {type(error).__name__}") from error
    if response.status_code in (401, 403):
        raise SyncUnavailable(f"the server refused this node ({response.status_code})")
    if response.status_code != 200:
        raise SyncUnavailable(f"the server answered {response.status_code}")
    try:
        outcomes = response.json()["outcomes"]
    except (ValueError, KeyError, TypeError) as error:
        raise SyncUnavailable("the server's answer was not readable") from error
    if not isinstance(outcomes, list):
        raise SyncUnavailable("the server's answer was not readable")
    return outcomes


def _settle(batch: list[OutboxChange], outcomes: list[Any], report: PushReport) -> None:
    by_id = {str(o.get("id")): o for o in outcomes if isinstance(o, dict)}
    for change in batch:
        outcome = by_id.get(str(change.pk))
        if outcome is None:
            continue  # unanswered: sent again next time
        kind = str(outcome.get("outcome"))
        report.outcomes[kind] = report.outcomes.get(kind, 0) + 1
        with transaction.atomic():
            if kind in ACKNOWLEDGED:
                frozen = change.frozen or {}
                BaseRecord.objects.update_or_create(
                    label=change.label, record_id=change.record_id,
                    defaults={"version": int(outcome.get("version") or 0),
                              "values": frozen.get("values", {})},
                )  # fmt: skip
                change.delete()
                report.acknowledged += 1
            else:
                change.state = OutboxChange.State.REFUSED
                change.last_error = str(outcome.get("message", kind))[:300]
                change.save(update_fields=["state", "last_error"])
                report.refused += 1


def push(
    state: NodeState, client: httpx.Client | None = None, max_batches: int = 100
) -> PushReport:
    """Send the outbox until it is empty, the link fails or ``max_batches`` were sent."""
    report = PushReport()
    own = client is None
    client = client or httpx.Client(verify=server_verification())
    try:
        for _n in range(max_batches):
            batch = next_batch()
            if not batch:
                break
            for change in batch:
                change.attempts += 1
                change.save(update_fields=["attempts"])
            report.sent += len(batch)
            report.batches += 1
            outcomes = _post(state, client, batch)
            _settle(batch, outcomes, report)
    finally:
        if own:
            client.close()
        report.waiting = OutboxChange.objects.filter(state=OutboxChange.State.WAITING).count()
    return report


def server_verification() -> bool | str:
    """The society's certificate authority, when the node was given it at enrolment."""
    authority: str = getattr(settings, "ROUTECARE_SYNC_CA_FILE", "") or ""
    return authority or True


def sync_now(client: httpx.Client | None = None) -> PushReport:
    state = NodeState.objects.first()
    if state is None:
        raise SyncUnavailable("this machine is not enrolled as a node")
    now = timezone.now()
    NodeState.objects.filter(pk=state.pk).update(last_attempt_at=now)
    try:
        report = push(state, client)
    except SyncUnavailable as error:
        NodeState.objects.filter(pk=state.pk).update(last_error=str(error)[:200])
        raise
    NodeState.objects.filter(pk=state.pk).update(last_success_at=now, last_error="")
    return report


def sync_if_enrolled() -> str:
    """The periodic job: nothing on a server; on a node, one sync."""
    if not capture.is_node():
        return "not a node"
    try:
        return sync_now().summary()
    except SyncUnavailable as error:
        return f"not synced: {error}"
