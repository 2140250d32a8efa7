"""The node's side of sync: send the outbox to the server in resumable batches.

A change is frozen (its content read and kept) the first time it is sent, and sent again
with the same id and content until the server answers for it; it leaves the outbox only then.
A record's later change waits until its earlier one is answered, so that it can say which
server version it starts from.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from routecare.sync import capture, registry, rows
from routecare.sync.api import MAX_BATCH_BYTES
from routecare.sync.models import BaseRecord, NodeState, OutboxChange

logger = logging.getLogger(__name__)

ACKNOWLEDGED = {"applied", "merged", "conflict", "duplicate", "held"}
DROPPED = {"erased"}  # the server erased the record: the change goes, nothing is kept
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
    pulled: PullReport | None = None

    def summary(self) -> str:
        pulled = f"; pulled {self.pulled.summary()}" if self.pulled else ""
        return (
            f"{self.acknowledged} changes acknowledged, {self.refused} refused, "
            f"{self.waiting} waiting, in {self.batches} batches{pulled}"
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
                version = int(outcome.get("version") or 0)
                expected = int(frozen.get("base_version") or 0) + 1
                if kind != "applied" or version != expected:
                    # The server's record is not what this node sent (merged with changes
                    # made elsewhere): its values come down at the next pull.
                    version = 0
                BaseRecord.objects.update_or_create(
                    label=change.label, record_id=change.record_id,
                    defaults={"version": version, "values": frozen.get("values", {})},
                )  # fmt: skip
                change.delete()
                report.acknowledged += 1
            elif kind in DROPPED:
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


@dataclass
class PullReport:
    erased: int = 0
    reference_rows: int = 0
    records: int = 0
    skipped: int = 0  # records with changes of this node still waiting: next time
    pages: int = 0

    def summary(self) -> str:
        return (
            f"{self.erased} erased, {self.reference_rows} reference rows, "
            f"{self.records} records in {self.pages} pages"
        )


def _get_page(state: NodeState, client: httpx.Client, since: str, number: int) -> dict[str, Any]:
    try:
        response = client.get(
            state.server_url.rstrip("/") + "/api/v1/sync/pull",
            params={"since": since, "page": number},
            headers={
                "Authorization": f"Bearer {state.credential}",
                "X-RouteCare-Version": version("routecare"),
            },
            timeout=TIMEOUT,
        )
    except httpx.HTTPError as error:
        raise SyncUnavailable(f"no link to the server: {type(error).__name__}") from error
    if response.status_code != 200:
        raise SyncUnavailable(f"the server answered {response.status_code}")
    try:
        answer: dict[str, Any] = response.json()
    except ValueError as error:
        raise SyncUnavailable("the server's answer was not readable") from error
    return answer


def _erase(items: list[Any], report: PullReport) -> None:
    """First of all: what the server erased goes from this node, with any change of it
    still waiting (never sent back)."""
    # People first: what is theirs goes with them (encounters cannot be deleted on their own).
    for item in sorted(items, key=lambda item: not registry.is_person(str(item.get("label")))):
        syncable = registry.syncable(str(item.get("label")))
        if syncable is None:
            continue
        found = syncable.model._default_manager.filter(pk=item["record_id"])
        try:
            deleted, _kinds = found.delete() if found.exists() else (0, {})
        except PermissionError:
            deleted = 0  # immutable (an encounter): it goes with its person
        OutboxChange.objects.filter(record_id=item["record_id"]).delete()
        BaseRecord.objects.filter(record_id=item["record_id"]).delete()
        report.erased += 1 if deleted else 0
    # Records that went with them (a person's encounters): their waiting changes go too.
    for change in OutboxChange.objects.all():
        syncable = registry.syncable(change.label)
        if syncable and not syncable.model._default_manager.filter(pk=change.record_id).exists():
            change.delete()


def _install_references(references: list[Any], report: PullReport) -> None:
    by_label = {reference.label: reference for reference in registry.references()}
    for group in references:
        reference = by_label.get(str(group.get("label")))
        if reference is None:
            continue
        if reference.absent is not None:
            # The group is the whole of what this node may hold: the rest goes first.
            pk_name = reference.model._meta.pk.attname
            sent = [row.get(pk_name) for row in group.get("rows", [])]
            reference.absent(reference.model._default_manager.exclude(pk__in=sent))
        for row in group.get("rows", []):
            if rows.install(reference.model, row) is not None:
                report.reference_rows += 1


def _install_record(record: dict[str, Any], report: PullReport) -> None:
    syncable = registry.syncable(str(record.get("label")))
    if syncable is None:
        return
    row = record["row"]
    record_id = row[syncable.model._meta.pk.attname]
    if OutboxChange.objects.filter(label=syncable.label, record_id=record_id).exists():
        report.skipped += 1  # this node changed it too: its change goes up first
        return
    base = BaseRecord.objects.filter(label=syncable.label, record_id=record_id).first()
    if base is not None and base.version >= int(record.get("version") or 0):
        return  # already as new here
    if syncable.immutable and syncable.model._default_manager.filter(pk=record_id).exists():
        return  # made here, or pulled before: it never changes
    installed = rows.install(syncable.model, row)
    if installed is None:
        report.skipped += 1
        return
    for child_name, child_rows in (record.get("children") or {}).items():
        for child, fk in syncable.children:
            if child.__name__ != child_name:
                continue
            child._default_manager.filter(**{fk: installed.pk}).delete()
            for child_row in child_rows:
                rows.install(child, {**child_row, fk: installed.pk})
    BaseRecord.objects.update_or_create(
        label=syncable.label, record_id=installed.pk,
        defaults={"version": int(record.get("version") or 1), "values": record.get("values", {})},
    )  # fmt: skip
    report.records += 1


def pull(state: NodeState, client: httpx.Client | None = None, max_pages: int = 200) -> PullReport:
    """Everything that changed on the server since the last complete pull, page by page;
    ``pulled_until`` moves only when every page arrived and nothing had to wait."""
    report = PullReport()
    own = client is None
    client = client or httpx.Client(verify=server_verification())
    since = state.pulled_until.isoformat() if state.pulled_until else ""
    server_time = None
    try:
        for number in range(max_pages):
            answer = _get_page(state, client, since, number)
            report.pages += 1
            with transaction.atomic(), capture.applying_remote():
                if number == 0:
                    server_time = answer.get("server_time")
                    _erase(answer.get("erased", []), report)
                    _install_references(answer.get("references", []), report)
                    conflicts = answer.get("open_conflicts")
                    if isinstance(conflicts, int) and conflicts >= 0:
                        NodeState.objects.filter(pk=state.pk).update(open_conflicts=conflicts)
                for record in answer.get("records", []):
                    _install_record(record, report)
            if answer.get("complete"):
                break
        else:
            return report  # more pages than one sync takes: go on next time
    finally:
        if own:
            client.close()
    if server_time and not report.skipped:
        NodeState.objects.filter(pk=state.pk).update(
            pulled_until=dt.datetime.fromisoformat(server_time)
        )
    return report


def sync_now(client: httpx.Client | None = None) -> PushReport:
    state = NodeState.objects.first()
    if state is None:
        raise SyncUnavailable("this machine is not enrolled as a node")
    now = timezone.now()
    NodeState.objects.filter(pk=state.pk).update(last_attempt_at=now)
    try:
        report = push(state, client)
        # After the push: what this node changed is on the server before it pulls.
        report.pulled = pull(state, client)
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
