"""The server applying the changes a node pushes: each in its own transaction, once.

``apply_batch`` answers one outcome per change. The same change again (same id, same
content) is ``duplicate``: acknowledged, nothing written. The same id with other content is
``mismatch`` (HTTP 409 for that change), recorded, never an overwrite. A change that needs a
record the server has not received yet is ``held`` and applied when that record arrives. A
field changed differently here and on the node since the version the node started from is a
``SyncConflict`` for a coordinator; the rest of the change applies. The change applies through
the app's own actions, acting as the staff member who made it, at the node's service point, so
tenant and role rules are those of an online write.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from routecare.access import Actor, build_actor
from routecare.audit.actions import record_event
from routecare.sync import capture, merge, registry
from routecare.sync.changes import Change, ChangeError, parse
from routecare.sync.models import AppliedChange, ErasedRecord, HeldChange, Node, SyncConflict

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    id: str
    outcome: str  # applied, merged, conflict, duplicate, held, erased, mismatch, refused
    status: int
    message: str = ""
    version: int = 0

    def as_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "outcome": self.outcome,
            "status": self.status,
            "message": self.message,
            "version": self.version,
        }


# The node whose change is being applied (None otherwise): for an app whose rule is about the
# node itself, beyond its staff and point (a card must be signed by that node's own key).
_origin: contextvars.ContextVar[Node | None] = contextvars.ContextVar("sync_origin", default=None)


def origin_node() -> Node | None:
    return _origin.get()


class RefusalError(Exception):
    """A change that cannot apply as sent; its message goes back to the node."""


@dataclass
class Seen:
    """What a batch's changes met before, read in a few queries for the whole batch (a
    change's own lookups would cost as many queries as changes). Stale within the batch is
    safe: the primary key of ``AppliedChange`` still decides, and a clash is read again."""

    applied: dict[uuid.UUID, tuple[str, int]]
    held: dict[uuid.UUID, tuple[str, str]]
    waited_for: set[str]
    actors: dict[str, Actor]

    @classmethod
    def read(cls, raw_changes: list[Any]) -> Seen:
        ids = []
        for raw in raw_changes:
            try:
                ids.append(uuid.UUID(str(raw.get("id"))) if isinstance(raw, dict) else None)
            except ValueError:
                continue
        wanted = [change_id for change_id in ids if change_id is not None]
        return cls(
            applied={
                pk: (digest, version)
                for pk, digest, version in AppliedChange.objects.filter(pk__in=wanted)
                .values_list("pk", "digest", "version")
                .iterator()
            },
            held={
                pk: (digest, waiting_for)
                for pk, digest, waiting_for in HeldChange.objects.filter(pk__in=wanted)
                .values_list("pk", "digest", "waiting_for")
                .iterator()
            },
            waited_for=set(HeldChange.objects.values_list("waiting_for", flat=True)),
            actors={},
        )


def apply_batch(
    node: Node, raw_changes: list[Any], now: dt.datetime | None = None
) -> list[Outcome]:
    now = now or timezone.now()
    seen = Seen.read(raw_changes)
    outcomes = [apply_one(node, raw, now, seen) for raw in raw_changes]
    Node.objects.filter(pk=node.pk).update(last_contact_at=now)
    return outcomes


def apply_one(node: Node, raw: Any, now: dt.datetime, seen: Seen | None = None) -> Outcome:
    raw_id = str(raw.get("id", "")) if isinstance(raw, dict) else ""
    try:
        change = parse(raw, now)
    except ChangeError as error:
        return Outcome(raw_id, "refused", 422, str(error))
    seen = seen or Seen.read([raw])
    known = _seen(change, seen)
    if known is not None:
        return known
    if _erased(change):
        # Erased here (on request, or purged): never written again; the node drops it.
        return Outcome(str(change.id), "erased", 410, _("This person's record was erased."))
    try:
        actor = seen.actors.get(change.by) or _actor(node, change.by)
        seen.actors[change.by] = actor
        missing = _missing_parent(change)
        if missing is not None:
            seen.waited_for.add(missing)
            return _hold(node, change, missing)
        outcome = _apply(node, actor, change)
    except RefusalError as error:
        return Outcome(str(change.id), "refused", 422, str(error))
    except IntegrityError:
        # Applied meanwhile by a concurrent request (the primary key decided): say which.
        return _known(change) or Outcome(str(change.id), "refused", 422, _("Not applied."))
    if change.key in seen.waited_for:
        release_held(change.key)
    return outcome


def _seen(change: Change, seen: Seen) -> Outcome | None:
    if change.id in seen.applied:
        digest, version = seen.applied[change.id]
        if digest == change.digest:
            return Outcome(str(change.id), "duplicate", 200, "", version)
        return _mismatch(change)
    if change.id in seen.held:
        digest, waiting_for = seen.held[change.id]
        if digest == change.digest:
            return Outcome(str(change.id), "held", 202, _("Waiting for %s.") % waiting_for)
        return _mismatch(change)
    return None


def _known(change: Change) -> Outcome | None:
    """What happened to this change id before, if it came already (read afresh)."""
    return _seen(change, Seen.read([change.as_wire()]))


def _erased(change: Change) -> bool:
    syncable = registry.known(change.label)
    keys = [
        (change.label, str(change.record_id)),
        *syncable.parents(change.record_id, change.values),
    ]
    match = Q()
    for label, record_id in keys:
        try:
            match |= Q(label=label, record_id=uuid.UUID(str(record_id)))
        except ValueError:
            continue
    return ErasedRecord.objects.filter(match).exists()


def _mismatch(change: Change) -> Outcome:
    logger.warning("sync change %s sent again with other content", change.id)
    return Outcome(
        str(change.id),
        "mismatch",
        409,
        _("This change id was already used with other content: nothing was overwritten."),
    )


def _actor(node: Node, username: str) -> Actor:
    user = User.objects.filter(username=username, is_active=True).first()
    actor = build_actor(user, node.service_point_id, via="sync") if user else None
    if actor is None or actor.service_point is None:
        raise RefusalError(_("That staff member may not record at this node's service point."))
    if actor.national_society_id != node.national_society_id:
        raise RefusalError(_("That staff member belongs to another National Society."))
    return actor


def _missing_parent(change: Change) -> str | None:
    syncable = registry.known(change.label)
    for label, record_id in syncable.parents(change.record_id, change.values):
        parent = registry.syncable(label)
        if parent is None:
            continue
        try:
            exists = parent.model._default_manager.filter(pk=record_id).exists()
        except (ValueError, ValidationError):
            raise RefusalError(_("A record it refers to has an invalid id.")) from None
        if not exists:
            return f"{label}:{record_id}"
    return None


def _hold(node: Node, change: Change, waiting_for: str) -> Outcome:
    try:
        with transaction.atomic():
            HeldChange.objects.create(
                id=change.id, node=node, waiting_for=waiting_for, change=change.as_wire(),
                digest=change.digest,
            )  # fmt: skip
    except IntegrityError:
        return _known(change) or Outcome(str(change.id), "held", 202)
    return Outcome(str(change.id), "held", 202, _("Waiting for %s.") % waiting_for)


def _apply(node: Node, actor: Actor, change: Change) -> Outcome:
    token = _origin.set(node)
    try:
        return _apply_as(node, actor, change)
    finally:
        _origin.reset(token)


def _apply_as(node: Node, actor: Actor, change: Change) -> Outcome:
    syncable = registry.known(change.label)
    conflicts: dict[str, tuple[Any, Any]] = {}
    outcome = AppliedChange.Outcome.APPLIED
    try:
        with transaction.atomic():
            record = syncable.model._default_manager.filter(pk=change.record_id).first()
            if record is None and change.op == "update" and syncable.update is None:
                raise RefusalError(_("No such record."))
            if record is None:
                syncable.create(actor, change.record_id, change.values)
            else:
                outcome, conflicts = _merge_into(actor, syncable, record, change)
            # Last, in the same transaction: a concurrent copy of this change fails here on
            # the primary key, and its effects roll back with it.
            applied = AppliedChange.objects.create(
                id=change.id, node=node, label=change.label, record_id=change.record_id,
                digest=change.digest, hlc=change.hlc, outcome=outcome,
                version=1 if syncable.immutable
                else capture.current_version(change.label, change.record_id) or 1,
            )  # fmt: skip
            for name, (server_value, node_value) in conflicts.items():
                _record_conflict(node, change, record, name, server_value, node_value)
            record_event(
                actor, "sync", change.label, change.record_id,
                fields=sorted(change.values), detail=f"node {node.pk}: {outcome}",
            )  # fmt: skip
    except (ValidationError, PermissionError, PermissionDenied, Http404) as error:
        raise RefusalError(_message(error)) from error
    except ObjectDoesNotExist as error:
        raise RefusalError(_("A record it refers to does not exist here.")) from error
    message = _("Conflicting fields: %s") % ", ".join(sorted(conflicts)) if conflicts else ""
    return Outcome(str(change.id), str(outcome), 200, message, applied.version)


def _merge_into(
    actor: Actor, syncable: registry.Syncable, record: Any, change: Change
) -> tuple[AppliedChange.Outcome, dict[str, tuple[Any, Any]]]:
    current = syncable.serialize(record)
    base = change.base if change.op == "update" else {}
    if change.op == "create":
        # The record exists: created here by the same change under another id (a retried
        # registration) or from a card. Same content: nothing to do; else merge from empty.
        base = {name: current.get(name) for name in change.values}
        differing = {k: v for k, v in change.values.items() if current.get(k) != v}
        # Counters are deltas: the same numbers again are more, never "already so".
        if not differing and not syncable.counters:
            return AppliedChange.Outcome.APPLIED, {}
        if syncable.immutable or syncable.update is None:
            raise RefusalError(_("This record exists already with other content."))
        base = {}
    merged = merge.merge(base, current, change.values, syncable.sets, syncable.counters)
    if merged.values:
        if syncable.update is None:
            raise RefusalError(_("This kind of record cannot be changed."))
        syncable.update(actor, record, merged.values)
    if merged.conflicts:
        return AppliedChange.Outcome.CONFLICT, merged.conflicts
    concurrent = capture.current_version(change.label, change.record_id) - 1 != change.base_version
    if concurrent and merged.values:
        return AppliedChange.Outcome.MERGED, {}
    return AppliedChange.Outcome.APPLIED, {}


def _record_conflict(
    node: Node, change: Change, record: Any, name: str, server_value: Any, node_value: Any
) -> None:
    syncable = registry.known(change.label)
    person_id = getattr(record, "person_id", None) or (
        record.pk if registry.is_person(change.label) else None
    )
    SyncConflict.objects.create(
        national_society_id=node.national_society_id, label=change.label,
        record_id=change.record_id, person_id=person_id, field=name,
        server_value=server_value, node_value=node_value,
        server_chosen_by=syncable.author(record) or _last_author(record),
        node_chosen_by=change.by, node=node,
        change_id=change.id,
    )  # fmt: skip


def _last_author(record: Any) -> str:
    for name in ("updated_by", "recorded_by", "created_by", "registered_by"):
        user = getattr(record, name, None)
        if user is not None:
            return str(user.get_username())
    return ""


def _message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or _("Not allowed.")


def release_held(key: str) -> int:
    """Apply the changes that were waiting for ``key``, now that it exists; each may release
    more (an encounter's follow-up waiting for the encounter). A change refused on release
    stays held, with the reason, for a coordinator to see: acknowledged changes are never
    dropped."""
    released = 0
    for held in list(HeldChange.objects.filter(waiting_for=key).select_related("node")):
        with transaction.atomic():
            if not HeldChange.objects.filter(pk=held.pk).delete()[0]:
                continue  # released meanwhile by another request
            outcome = apply_one(held.node, held.change, timezone.now())
            if outcome.outcome in ("refused", "mismatch"):
                HeldChange.objects.create(
                    id=held.pk, node=held.node, waiting_for=f"refused:{held.pk}",
                    change=held.change, digest=held.digest, received_at=held.received_at,
                    problem=outcome.message[:300],
                )  # fmt: skip
                continue
        released += 1
    return released


def held_count(node_id: uuid.UUID | None = None) -> int:
    held = HeldChange.objects.all()
    if node_id is not None:
        held = held.filter(node_id=node_id)
    return held.count()
