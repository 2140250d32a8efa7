"""State changes of the server's sync pages made by staff (nodes are enrolled and revoked in
``routecare.sync.nodes``)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from routecare.access import Actor, Rule, allows
from routecare.audit.actions import record_event
from routecare.sync import merge, registry
from routecare.sync.models import SyncConflict


class Choice(enum.StrEnum):
    SERVER = "server"  # keep the value the server has
    NODE = "node"  # take the value the node sent
    COMBINE = "combine"  # list fields: both lists' items, once each


CHOICES = frozenset(choice.value for choice in Choice)


@dataclass(frozen=True)
class Resolution:
    conflict: SyncConflict
    written: bool  # False when the record no longer exists (erased or purged meanwhile)


def chosen_value(conflict: SyncConflict, choice: Choice) -> Any:
    if choice is Choice.SERVER:
        return conflict.server_value
    if choice is Choice.NODE:
        return conflict.node_value
    server, node = conflict.server_value, conflict.node_value
    if not all(value is None or isinstance(value, list) for value in (server, node)):
        raise ValidationError(_("Only two lists can be combined: keep one value or the other."))
    # A union with nothing removed: from an empty base, neither side deleted anything.
    return merge.merge_sets([], server or [], node or [])


def resolve_conflict(actor: Actor, conflict: SyncConflict, choice: str) -> Resolution:
    """Write the chosen value through the owning app's own update (its validation, rules and
    audit apply as for any change) and close the conflict; all or nothing.

    Keeping the server's value writes nothing: the record keeps what it holds now, even when
    it changed online after the conflict was found (writing the value seen then would undo
    that change). Taking the node's value, or combining, over a value that changed here since
    is refused: the conflict is shown again with the current value, to choose again."""
    if not allows(actor, Rule.COORDINATION) or (
        conflict.national_society_id != actor.national_society_id
    ):
        raise Http404
    try:
        picked = Choice(choice)
    except ValueError:
        raise ValidationError(
            _("Unknown choice: keep the server's value, take the node's value or combine both.")
        ) from None
    with transaction.atomic():
        locked = SyncConflict.objects.select_for_update().get(pk=conflict.pk)
        if locked.resolved_at is not None:
            raise ValidationError(_("This conflict was already resolved: nothing was changed."))
        value = chosen_value(locked, picked)
        syncable = registry.syncable(locked.label)
        if syncable is None or syncable.update is None:
            raise ValidationError(_("This kind of record can no longer be changed here."))
        record = (
            syncable.model._default_manager.select_for_update().filter(pk=locked.record_id).first()
        )
        writes = record is not None and picked is not Choice.SERVER
        current = syncable.serialize(record).get(locked.field) if writes else None
        changed_since = writes and current != locked.server_value
        if changed_since:
            locked.server_value = current
            locked.save(update_fields=["server_value"])
        else:
            if writes:
                syncable.update(actor, record, {locked.field: value})
            locked.resolved_at, locked.resolved_by = timezone.now(), actor.user
            locked.save(update_fields=["resolved_at", "resolved_by"])
            record_event(
                actor, "change", "sync_conflict", locked.pk, person_id=locked.person_id,
                fields=[locked.field],
                detail=f"resolved {locked.label}: {picked.value}"
                + ("" if record is not None else " (record gone)"),
            )  # fmt: skip
    if changed_since:
        raise ValidationError(
            _(
                "This value changed here since the conflict was found: the conflict now shows "
                "the current value. Nothing was changed; choose again."
            )
        )
    return Resolution(locked, written=record is not None)
