"""Where changes of synced models are noticed, in the transaction that makes them.

On a node, a save of a synced model writes an ``OutboxChange`` in the same transaction (a
power cut loses both or neither); changes applied from the server are not sent back. On the
server, a save bumps the record's version (immutable records keep version 1), so a node's
change can say which version it started from.
"""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.db.models.signals import post_save
from django.utils import timezone

from routecare.sync import clock, registry
from routecare.sync.models import NodeState, OutboxChange, RecordVersion

_applying_remote = contextvars.ContextVar("sync_applying_remote", default=False)


@contextlib.contextmanager
def applying_remote() -> Iterator[None]:
    """Changes written inside come from elsewhere: a node does not send them back."""
    token = _applying_remote.set(True)
    try:
        yield
    finally:
        _applying_remote.reset(token)


def is_node() -> bool:
    return bool(getattr(settings, "ROUTECARE_NODE", False))


def connect() -> None:
    for syncable in registry.all_syncables():
        post_save.connect(_saved, sender=syncable.model, dispatch_uid=f"sync-{syncable.label}")


def _saved(sender: type[models.Model], instance: models.Model, raw: bool = False, **_: Any) -> None:
    if raw:
        return  # fixtures and restores
    syncable = registry.syncable_for(sender)
    if syncable is None:
        return
    if is_node():
        if not _applying_remote.get():
            add_to_outbox(syncable.label, instance.pk)
    elif not syncable.immutable:
        bump_version(syncable.label, instance.pk)


def add_to_outbox(label: str, record_id: uuid.UUID) -> None:
    """One waiting change per record until it is first sent: later edits before that travel
    in the same change (its content is read when it is sent)."""
    if OutboxChange.objects.filter(
        label=label, record_id=record_id, frozen__isnull=True, state=OutboxChange.State.WAITING
    ).exists():
        return
    state = NodeState.objects.first()
    node_id = str(state.node_id) if state else str(uuid.UUID(int=0))
    hlc = clock.tick(state.last_hlc if state else "", node_id)
    if state is not None:
        NodeState.objects.filter(pk=state.pk).update(last_hlc=hlc)
    OutboxChange.objects.create(label=label, record_id=record_id, hlc=hlc)


def bump_version(label: str, record_id: uuid.UUID) -> int:
    now = timezone.now()
    versions = RecordVersion.objects.filter(label=label, record_id=record_id)
    if versions.update(version=F("version") + 1, changed_at=now):
        return current_version(label, record_id)
    try:
        with transaction.atomic():
            RecordVersion.objects.create(label=label, record_id=record_id, changed_at=now)
    except IntegrityError:  # created meanwhile by another writer
        versions.update(version=F("version") + 1, changed_at=now)
    return current_version(label, record_id)


def current_version(label: str, record_id: uuid.UUID) -> int:
    found = (
        RecordVersion.objects.filter(label=label, record_id=record_id)
        .values_list("version", flat=True)
        .first()
    )
    return int(found or 0)
