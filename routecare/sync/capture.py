"""Where changes of synced models are noticed, in the transaction that makes them.

On a node, a save of a synced model writes an ``OutboxChange`` in the same transaction (a
power cut loses both or neither); changes applied from the server are not sent back. On the
server, a save bumps the record's version (immutable records keep version 1, and those with
a ``created_field`` have no version row at all), so a node's change can say which version it
started from, and a delete leaves an ``ErasedRecord``.
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
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from routecare.sync import clock, registry
from routecare.sync.models import (
    ErasedRecord,
    NodeState,
    OutboxChange,
    RecordVersion,
    SyncConflict,
)

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
        uid = f"sync-{syncable.label}"
        post_save.connect(_saved, sender=syncable.model, dispatch_uid=uid)
        post_delete.connect(_deleted, sender=syncable.model, dispatch_uid=uid)


def _saved(
    sender: type[models.Model],
    instance: models.Model,
    created: bool = False,
    raw: bool = False,
    **_: Any,
) -> None:
    if raw:
        return  # fixtures, restores, and rows a node receives from its server
    syncable = registry.syncable_for(sender)
    if syncable is None:
        return
    if is_node():
        if not _applying_remote.get():
            add_to_outbox(syncable.label, instance.pk)
    elif created:
        if not (syncable.immutable and syncable.created_field):
            new_version(syncable.label, instance.pk)
    elif not syncable.immutable:
        bump_version(syncable.label, instance.pk)


def _deleted(sender: type[models.Model], instance: models.Model, **_: Any) -> None:
    """On the server, a deleted record (erasure, purge) is remembered, so that nodes delete
    their copy and never send it back."""
    syncable = registry.syncable_for(sender)
    if syncable is None or is_node():
        return
    ErasedRecord.objects.get_or_create(label=syncable.label, record_id=instance.pk)
    RecordVersion.objects.filter(label=syncable.label, record_id=instance.pk).delete()
    if registry.is_person(syncable.label):
        # Conflicts keep both values (health data): they go with the person.
        SyncConflict.objects.filter(person_id=instance.pk).delete()


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


def new_version(label: str, record_id: uuid.UUID) -> None:
    """Version 1 of a record created here: one INSERT, no savepoint (on the write path of
    every encounter). The record's own INSERT just succeeded under this id, and a deleted
    record's version goes with it, so no version row can exist yet."""
    RecordVersion.objects.create(label=label, record_id=record_id)


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
