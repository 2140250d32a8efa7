"""Stock taken by encounters: an encounter's request writes no stock; its own row says the
stock is still to be taken (``Encounter.stock_pending``, set in its INSERT when the point's
stock follows one of its services, or when it corrects another), and ``take_waiting`` takes it
later for many encounters at once, in one transaction per point: the waiting encounters locked
(skipped when another drain holds them), each item locked and moved once, the movements
inserted in one statement, and the encounters' marks cleared in the same transaction. A crash
before the commit leaves everything waiting; two drains never take the same encounter (locked
rows on PostgreSQL, one writer at a time on SQLite, and one "used" movement per encounter and
item). The periodic job runs it at every tick; where tasks run in the request (``make run``, a
field node) it runs right after the encounter's commit."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Min, Sum
from django.utils import timezone

from routecare.core import caching
from routecare.flows.models import StockItem, StockMovement
from routecare.orgs.models import ServicePoint
from routecare.people.models import Encounter, EncounterService

# Encounters taken per transaction: a bus of 300 people is one or two.
TAKE_BATCH = 500


@dataclass(frozen=True)
class _Taking:
    encounter_id: uuid.UUID
    point_id: uuid.UUID
    corrects_id: uuid.UUID | None
    services: dict[str, int]


def _quantities(services: Iterable[tuple[str, int]]) -> dict[str, int]:
    quantities: dict[str, int] = {}
    for service, quantity in services:
        quantities[service] = quantities.get(service, 0) + quantity
    return quantities


def use_for_encounter(
    point: ServicePoint,
    services: Iterable[tuple[str, int]],
    encounter_id: uuid.UUID,
    corrects_id: uuid.UUID | None = None,
) -> None:
    """Take the services one encounter delivered from the items that follow them; a
    correction (a voiding too) first gives back what the encounter it replaces holds."""
    with transaction.atomic():
        _take([_Taking(encounter_id, point.pk, corrects_id, _quantities(services))])


def _corrected_chain(encounter_id: uuid.UUID) -> list[uuid.UUID]:
    """The encounter and every one it corrects, back to the first. A correction's movements
    are what it gave back of the one before and what it took: only over the whole chain do
    they add up to what the latest holds (a correction of a correction gave back too much)."""
    chain: list[uuid.UUID] = []
    current: uuid.UUID | None = encounter_id
    while current is not None and current not in chain:
        chain.append(current)
        current = Encounter.objects.filter(pk=current).values_list("corrects_id", flat=True).first()
    return chain


def _held(chain: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """What the encounters of a chain took, per item, as their movements say."""
    held = (
        StockMovement.objects.filter(encounter_id__in=chain, reason=StockMovement.Reason.USED)
        .order_by()
        .values_list("item_id")
        .annotate(change=Sum("change"))
    )
    return {item_id: change for item_id, change in held if change}


def _take(takings: list[_Taking]) -> list[_Taking]:
    """Move the stock of ``takings``, in order, inside the caller's transaction; the takings
    left for later (a correction of an encounter whose own stock is not taken yet)."""
    points = {taking.point_id for taking in takings}
    items = {
        item.pk: item
        for item in StockItem.objects.select_for_update()
        .filter(service_point_id__in=points)
        .exclude(service="")
        .select_related("service_point")
        .order_by("pk")
    }
    following = {(item.service_point_id, item.service): item.pk for item in items.values()}
    taken_here: dict[uuid.UUID, dict[uuid.UUID, int]] = {}
    changes: list[tuple[uuid.UUID, dict[uuid.UUID, int]]] = []
    left: list[_Taking] = []
    for taking in takings:
        change: dict[uuid.UUID, int] = {}
        if taking.corrects_id is not None:
            chain = _corrected_chain(taking.corrects_id)
            waiting = Encounter.objects.filter(pk__in=chain, stock_pending=True)
            if waiting.exclude(pk__in=list(taken_here)).exists():
                left.append(taking)  # what it corrects takes its stock first
                continue
            held = _held(chain)
            for encounter_id in chain:
                for item_id, moved in taken_here.get(encounter_id, {}).items():
                    held[item_id] = held.get(item_id, 0) + moved
            for item_id, moved in held.items():
                change[item_id] = change.get(item_id, 0) - moved
        for service, quantity in taking.services.items():
            followed = following.get((taking.point_id, service))
            if followed is not None:
                change[followed] = change.get(followed, 0) - quantity
        change = {item_id: moved for item_id, moved in change.items() if moved}
        taken_here[taking.encounter_id] = change
        changes.append((taking.encounter_id, change))
    # Given back to an item that follows no service now, or of another point.
    missing = {item_id for _e, change in changes for item_id in change} - set(items)
    if missing:
        items |= (
            StockItem.objects.select_for_update()
            .select_related("service_point")
            .in_bulk(sorted(missing))
        )
    _apply(items, changes)
    return left


def _apply(
    items: dict[uuid.UUID, StockItem], changes: list[tuple[uuid.UUID, dict[uuid.UUID, int]]]
) -> None:
    """Each item moved once, one movement per encounter and item (one INSERT for all), and a
    warning for each item that fell to its minimum."""
    from routecare.flows.stock import warn_low  # which builds on this module

    now = timezone.now()
    levels = {item_id: item.level for item_id, item in items.items()}
    movements: list[StockMovement] = []
    for encounter_id, change in changes:
        for item_id, moved in change.items():
            levels[item_id] += moved
            movement = StockMovement(
                item_id=item_id, change=moved, level_after=levels[item_id], at=now,
                reason=StockMovement.Reason.USED, encounter_id=encounter_id,
            )  # fmt: skip
            movements.append(movement)
    if not movements:
        return
    for item_id in {movement.item_id for movement in movements}:
        item = items[item_id]
        was_low = item.is_low
        StockItem.objects.filter(pk=item_id).update(
            level=F("level") + (levels[item_id] - item.level), updated_at=now
        )
        item.level, item.updated_at = levels[item_id], now
        if item.is_low and not was_low:
            warn_low(item)
    StockMovement.objects.bulk_create(movements)  # no post_save: see OWN_EVENTS


def take_waiting(point_id: uuid.UUID, limit: int = TAKE_BATCH) -> int:
    """Take the stock of up to ``limit`` encounters of a point that wait for it, oldest first,
    in one transaction; how many were taken."""
    with transaction.atomic():
        waiting = list(
            Encounter.objects.select_for_update(skip_locked=True)
            .filter(service_point_id=point_id, stock_pending=True)
            .order_by("recorded_at", "pk")
            .values_list("pk", "corrects_id")[:limit]
        )
        if not waiting:
            return 0
        lines: dict[uuid.UUID, list[tuple[str, int]]] = {pk: [] for pk, _c in waiting}
        services = EncounterService.objects.filter(encounter_id__in=list(lines)).order_by("pk")
        for encounter_id, service, quantity in services.values_list(
            "encounter_id", "service", "quantity"
        ):
            lines[encounter_id].append((service, quantity))
        takings = [
            _Taking(pk, point_id, corrects_id, _quantities(lines[pk]))
            for pk, corrects_id in waiting
        ]
        left = {taking.encounter_id for taking in _take(takings)}
        taken = [pk for pk, _c in waiting if pk not in left]
        Encounter.objects.filter(pk__in=taken).stock_taken()
    return len(taken)


def take_all_waiting() -> str:
    """The periodic job: every point's waiting encounters, a batch at a time."""
    points = list(
        Encounter.objects.filter(stock_pending=True)
        .order_by()
        .values_list("service_point_id", flat=True)
        .distinct()
    )
    taken = 0
    for point_id in points:
        while True:
            count = take_waiting(point_id)
            taken += count
            if count < TAKE_BATCH:
                break
    return f"stock taken for {taken} encounters at {len(points)} points"


@dataclass(frozen=True)
class Waiting:
    """Encounters of a point whose stock is not taken yet: the levels shown are as of
    ``since`` (the oldest one's recording), ``count`` encounters behind."""

    count: int
    since: dt.datetime | None


def waiting_at(point: ServicePoint) -> Waiting:
    found = Encounter.objects.filter(service_point=point, stock_pending=True).aggregate(
        count=Count("pk"), since=Min("recorded_at")
    )
    return Waiting(count=found["count"], since=found["since"])


# The services a point's stock follows, per point (core.caching): an encounter at a point that
# follows none of its services (most) then waits for nothing. Saving an item drops the answers
# at once in its process (and in every process with a shared cache); another server process
# sees a newly followed service within this time.
FOLLOWED = "stock-followed"
FOLLOWED_SECONDS = 30


def followed_services(point_id: uuid.UUID) -> frozenset[str]:
    def read() -> frozenset[str]:
        items = StockItem.objects.filter(service_point_id=point_id).exclude(service="")
        return frozenset(items.values_list("service", flat=True))

    # A frozenset: shared as it is, no copy per encounter.
    return caching.remember(FOLLOWED, (str(point_id),), FOLLOWED_SECONDS, read, shared=True)


def _stock_follows(point_id: uuid.UUID, services: Sequence[str], corrects: bool) -> bool:
    # A correction gives back what the encounter it corrects took, whatever is followed now.
    return corrects or not followed_services(point_id).isdisjoint(services)


def tasks_run_in_request() -> bool:
    backend = str(settings.TASKS.get("default", {}).get("BACKEND", ""))
    return backend.endswith(".ImmediateBackend")


def _on_encounter(sender: object, encounter: Encounter, corrects: Encounter | None,
                  **kwargs: object) -> None:  # fmt: skip
    """Where tasks run in the request (``make run``, a field node), the stock is taken once
    the encounter is committed; elsewhere the worker's periodic job takes it."""
    if not encounter.stock_pending or not tasks_run_in_request():
        return
    from routecare.flows.tasks import take_stock

    point_id = str(encounter.service_point_id)
    transaction.on_commit(lambda: take_stock.enqueue(point_id))


def connect_signals() -> None:
    from routecare.people.signals import encounter_recorded, follow_stock

    follow_stock("flows-stock", _stock_follows)
    encounter_recorded.connect(_on_encounter, dispatch_uid="flows-stock-use")
    caching.drop_on_change(FOLLOWED, StockItem)
