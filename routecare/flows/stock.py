"""Stock of key supplies per point: levels counted by coordinators, taken down by the
services recorded in encounters, low-stock warnings, and transfer requests between the
points of one society (supplies) or to the society (surge staff)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from routecare.access import Actor, may_edit_service_point
from routecare.audit.actions import record_event
from routecare.core import caching, fields
from routecare.flows.models import StockItem, StockKind, StockMovement, TransferRequest
from routecare.flows.stock_use import FOLLOWED, take_waiting
from routecare.flows.stock_use import use_for_encounter as use_for_encounter  # one, at once
from routecare.notifications.actions import notify
from routecare.orgs.models import Membership, Role, ServicePoint
from routecare.orgs.taxonomy import Service

MAX_LEVEL = 1_000_000
Status = TransferRequest.Status


def _require_point(actor: Actor, point: ServicePoint) -> None:
    if not may_edit_service_point(actor, point):
        raise PermissionError("stock is kept by the point's coordinators and focal points")


def point_staff(point: ServicePoint) -> list[User]:
    """Who hears about a point's stock: its coordinators (assigned there, or to no point)
    and the society's focal points."""
    members = Membership.objects.filter(
        Q(role=Role.FOCAL_POINT) | Q(service_points=point.pk) | Q(service_points=None),
        national_society_id=point.national_society_id,
        role__in=[Role.FOCAL_POINT, Role.COORDINATOR],
    ).select_related("user")
    return [member.user for member in members.distinct() if member.user.is_active]


# Movements that are events of their own: a field node sends them to its server (as the
# change, never the level). The others follow an encounter or a transfer request, which move
# the stock again wherever they are applied: saved without a signal, a node does not send them.
OWN_EVENTS = frozenset({StockMovement.Reason.COUNTED, StockMovement.Reason.DELIVERY})


def _move(
    item: StockItem,
    change: int,
    reason: str,
    by: User | None,
    encounter_id: uuid.UUID | None = None,
    movement_id: uuid.UUID | None = None,
) -> StockItem:
    """Change a level atomically (two encounters at once both count) and warn when it falls
    to its minimum."""
    was_low = item.is_low
    StockItem.objects.filter(pk=item.pk).update(
        level=F("level") + change, updated_at=timezone.now()
    )
    item.refresh_from_db(fields=["level", "updated_at"])
    movement = StockMovement(
        id=movement_id or uuid.uuid4(), item=item, change=change, level_after=item.level,
        reason=reason, by=by, encounter_id=encounter_id,
    )  # fmt: skip
    if reason in OWN_EVENTS:
        movement.save(force_insert=True)
    else:
        StockMovement.objects.bulk_create([movement])  # no post_save: see OWN_EVENTS
    if item.is_low and not was_low:
        warn_low(item)
    return item


def warn_low(item: StockItem) -> None:
    notify(
        point_staff(item.service_point),
        _("Low stock: %(item)s at %(point)s (%(level)d %(unit)s left)")
        % {
            "item": item.name,
            "point": item.service_point.name,
            "level": item.level,
            "unit": item.unit,
        },
        reverse("flows:stock"),
        urgent=True,
    )


@transaction.atomic
def save_item(
    actor: Actor,
    point: ServicePoint,
    *,
    kind: str,
    name: str,
    unit: str = "units",
    minimum: int = 0,
    service: str = "",
    level: int | None = None,
    item: StockItem | None = None,
) -> StockItem:
    """Add an item to a point's stock, or change its name, minimum or linked service; a
    level given is a count of what is on the shelf."""
    _require_point(actor, point)
    if item is not None and item.service_point_id != point.pk:
        raise PermissionError("an item of another point")
    if kind not in StockKind.values:
        raise ValidationError({"kind": _("Choose what kind of item it is.")})
    if not name.strip() or len(name) > 80:
        raise ValidationError({"name": _("Name the item in up to 80 characters.")})
    if not unit.strip() or len(unit) > 20:
        raise ValidationError({"unit": _("Give the unit in up to 20 characters.")})
    fields.STOCK_ITEM_NAME.check(name, "name")
    fields.STOCK_UNIT.check(unit, "unit")
    if not 0 <= minimum <= MAX_LEVEL:
        raise ValidationError({"minimum": _("Enter a number from 0 to 1000000.")})
    if service and service not in Service.values:
        raise ValidationError({"service": _("Choose a service from the list.")})
    clash = StockItem.objects.filter(service_point=point)
    if item is not None:
        clash = clash.exclude(pk=item.pk)
    if clash.filter(name__iexact=name.strip()).exists():
        raise ValidationError({"name": _("This point already has an item with that name.")})
    if service and clash.filter(service=service).exists():
        raise ValidationError({"service": _("Another item already follows that service.")})
    values = {"kind": kind, "name": name.strip(), "unit": unit.strip(), "minimum": minimum,
              "service": service}  # fmt: skip
    if item is None:
        item = StockItem.objects.create(service_point=point, **values)
        record_event(actor, "create", "stock_item", item.pk, detail=f"{point.code} {item.name}")
    else:
        changed = [key for key, value in values.items() if getattr(item, key) != value]
        StockItem.objects.filter(pk=item.pk).update(**values)
        caching.changed_with_transaction(FOLLOWED)  # update() sends no signal
        item.refresh_from_db()
        record_event(actor, "change", "stock_item", item.pk, fields=changed)
    if level is not None:
        count_level(actor, item, level)
    return item


@transaction.atomic
def count_level(actor: Actor, item: StockItem, level: int) -> StockItem:
    """What a coordinator counted on the shelf replaces the level."""
    _require_point(actor, item.service_point)
    if not 0 <= level <= MAX_LEVEL:
        raise ValidationError({"level": _("Enter a number from 0 to 1000000.")})
    # What was handed out before the count is off the shelf already: taken first, so that the
    # count is not followed by the stock of encounters it already saw.
    take_waiting(item.service_point_id)
    item = StockItem.objects.select_for_update().get(pk=item.pk)
    _move(item, level - item.level, StockMovement.Reason.COUNTED, actor.user)
    record_event(actor, "change", "stock_item", item.pk, fields=["level"])
    return item


@transaction.atomic
def record_movement(
    actor: Actor,
    item: StockItem,
    *,
    change: int,
    reason: str,
    movement_id: uuid.UUID | None = None,
) -> StockItem:
    """A movement made elsewhere (a field node, offline) as the change it made: a count there
    adds what it found more or less than that node had, so that two places, or the same
    movement sent twice, never count twice. Only movements of their own travel so."""
    _require_point(actor, item.service_point)
    if actor.service_point is None or item.service_point_id != actor.service_point.pk:
        raise PermissionError("a node moves the stock of its own point")
    if reason not in OWN_EVENTS:
        raise ValidationError(
            {"reason": _("Only counted and delivered stock is sent on its own: encounters and "
                         "transfer requests move the stock themselves.")}
        )  # fmt: skip
    if not isinstance(change, int) or isinstance(change, bool) or abs(change) > MAX_LEVEL:
        raise ValidationError({"change": _("Enter a number from -1000000 to 1000000.")})
    item = StockItem.objects.select_for_update().get(pk=item.pk)
    _move(item, change, reason, actor.user, movement_id=movement_id)
    record_event(actor, "change", "stock_item", item.pk, fields=["level"], detail=reason)
    return item


def low_stock(points: Iterable[ServicePoint]) -> list[StockItem]:
    return list(
        StockItem.objects.filter(service_point__in=list(points), level__lte=F("minimum"))
        .select_related("service_point")
        .order_by("service_point__name", "name")
    )


def items_at(actor: Actor, point: ServicePoint) -> list[StockItem]:
    """A point's stock, for the staff of its society."""
    if point.national_society_id != actor.national_society_id:
        raise PermissionError("another society's stock")
    return list(StockItem.objects.filter(service_point=point))


# Transfer requests ------------------------------------------------------------------------


def _transfer_title(transfer: TransferRequest, what: str) -> str:
    if transfer.kind == TransferRequest.Kind.STAFF:
        detail = _("%(n)d surge staff for %(point)s") % {
            "n": transfer.quantity,
            "point": transfer.requesting_point.name,
        }
    else:
        detail = _("%(n)d × %(item)s for %(point)s") % {
            "n": transfer.quantity,
            "item": transfer.item_name,
            "point": transfer.requesting_point.name,
        }
    return f"{what}: {detail}"


@transaction.atomic
def request_transfer(
    actor: Actor,
    *,
    kind: str,
    quantity: int,
    supplying_point: ServicePoint | None = None,
    item_name: str = "",
    item_kind: str = "",
    needed_by: dt.date | None = None,
    note: str = "",
) -> TransferRequest:
    """The actor's point asks a point of its society for supplies, or its society for staff."""
    point = actor.service_point
    if point is None or not may_edit_service_point(actor, point):
        raise PermissionError("requests are made by a point's coordinators")
    if kind not in TransferRequest.Kind.values:
        raise ValidationError({"kind": _("Choose supplies or surge staff.")})
    if not 1 <= quantity <= MAX_LEVEL:
        raise ValidationError({"quantity": _("Enter a number from 1 to 1000000.")})
    if len(note) > 300:
        raise ValidationError({"note": _("Keep the note under 300 characters.")})
    fields.TRANSFER_NOTE.check(note, "note")
    if needed_by is not None and needed_by < timezone.localdate():
        raise ValidationError({"needed_by": _("That day has passed.")})
    if kind == TransferRequest.Kind.SUPPLIES:
        if supplying_point is None or supplying_point.pk == point.pk:
            raise ValidationError({"supplying_point": _("Choose the point to ask.")})
        if not item_name.strip() or len(item_name) > 80:
            raise ValidationError({"item_name": _("Name the item in up to 80 characters.")})
        fields.STOCK_ITEM_NAME.check(item_name, "item_name")
        if item_kind not in StockKind.values:
            raise ValidationError({"item_kind": _("Choose what kind of item it is.")})
    if supplying_point is not None and (
        supplying_point.national_society_id != point.national_society_id
    ):
        raise ValidationError({"supplying_point": _("Choose a point of your own society.")})
    transfer = TransferRequest.objects.create(
        national_society_id=point.national_society_id, kind=kind, requesting_point=point,
        supplying_point=supplying_point, item_name=item_name.strip(), item_kind=item_kind,
        quantity=quantity, needed_by=needed_by, note=note.strip(), requested_by=actor.user,
        updated_by=actor.user,
    )  # fmt: skip
    record_event(actor, "create", "transfer_request", transfer.pk, detail=f"{kind} {quantity}")
    if supplying_point is not None:
        told = point_staff(supplying_point)
    else:
        told = [
            m.user
            for m in Membership.objects.filter(
                national_society_id=point.national_society_id, role=Role.FOCAL_POINT
            ).select_related("user")
        ]
    notify(told, _transfer_title(transfer, _("Request")), reverse("flows:transfers"), email=True)
    return transfer


def _may_supply(actor: Actor, transfer: TransferRequest) -> bool:
    if transfer.supplying_point is not None:
        return may_edit_service_point(actor, transfer.supplying_point)
    return actor.administers_society and actor.national_society_id == transfer.national_society_id


def next_steps(actor: Actor, transfer: TransferRequest) -> list[tuple[str, str]]:
    """The steps the actor may take on a request now, as (status, label)."""
    supplier = _may_supply(actor, transfer)
    requester = may_edit_service_point(actor, transfer.requesting_point)
    steps = {
        Status.REQUESTED: [(Status.DISPATCHED, supplier), (Status.DECLINED, supplier),
                           (Status.CANCELLED, requester)],
        Status.DISPATCHED: [(Status.RECEIVED, requester)],
    }.get(Status(transfer.status), [])  # fmt: skip
    return [(str(status), str(status.label)) for status, allowed in steps if allowed]


@transaction.atomic
def advance_transfer(actor: Actor, transfer: TransferRequest, status: str) -> TransferRequest:
    """requested → dispatched (by the supplier, who may also decline) → received (by the
    requesting point, who may also cancel a request not yet dispatched)."""
    transfer = TransferRequest.objects.select_for_update().get(pk=transfer.pk)
    supplier, requester = (
        _may_supply(actor, transfer),
        may_edit_service_point(actor, transfer.requesting_point),
    )
    allowed = {
        (Status.REQUESTED, Status.DISPATCHED): supplier,
        (Status.REQUESTED, Status.DECLINED): supplier,
        (Status.REQUESTED, Status.CANCELLED): requester,
        (Status.DISPATCHED, Status.RECEIVED): requester,
    }
    step = (transfer.status, status)
    if step not in allowed:
        raise ValidationError(
            {"status": _("A request that is %(now)s cannot become %(next)s.")
             % {"now": transfer.get_status_display(), "next": Status(status).label
                if status in Status.values else status}}
        )  # fmt: skip
    if not allowed[step]:
        raise PermissionError("not a party to this step of the request")
    if transfer.kind == TransferRequest.Kind.SUPPLIES and status in (
        Status.DISPATCHED,
        Status.RECEIVED,
    ):
        _move_supplies(actor, transfer, status)
    transfer.status = status
    transfer.updated_at = timezone.now()
    transfer.updated_by = actor.user
    transfer.save(update_fields=["status", "updated_at", "updated_by"])
    record_event(actor, "change", "transfer_request", transfer.pk, fields=["status"],
                 detail=status)  # fmt: skip
    other = transfer.requested_by if supplier and not requester else None
    told = [other] if other is not None else []
    if status == Status.RECEIVED and transfer.supplying_point is not None:
        told = point_staff(transfer.supplying_point)
    notify(told, _transfer_title(transfer, str(Status(status).label)), reverse("flows:transfers"))
    return transfer


def _move_supplies(actor: Actor, transfer: TransferRequest, status: str) -> None:
    if status == Status.DISPATCHED:
        item = StockItem.objects.filter(
            service_point=transfer.supplying_point, name__iexact=transfer.item_name
        ).first()
        if item is not None:
            if item.level < transfer.quantity:
                raise ValidationError(
                    {"quantity": _("Only %(n)d in stock here.") % {"n": item.level}}
                )
            _move(item, -transfer.quantity, StockMovement.Reason.DISPATCHED, actor.user)
        return
    item, _created = StockItem.objects.get_or_create(
        service_point=transfer.requesting_point,
        name__iexact=transfer.item_name,
        defaults={"name": transfer.item_name, "kind": transfer.item_kind or StockKind.OTHER},
    )
    _move(item, transfer.quantity, StockMovement.Reason.RECEIVED, actor.user)


def _visible_transfers(actor: Actor) -> QuerySet[TransferRequest]:
    """Requests of the actor's society that concern the actor: to or from their point, and
    all of them for focal points."""
    transfers = TransferRequest.objects.filter(national_society_id=actor.national_society_id)
    if actor.national_society_id is None:
        return transfers.none()
    if not actor.administers_society:
        point = actor.service_point
        if point is None:
            return transfers.none()
        transfers = transfers.filter(Q(requesting_point=point) | Q(supplying_point=point))
    return transfers.select_related("requesting_point", "supplying_point")


def transfers_for(actor: Actor) -> list[TransferRequest]:
    return list(_visible_transfers(actor)[:200])


def transfer_for(actor: Actor, transfer_id: uuid.UUID) -> TransferRequest:
    found = _visible_transfers(actor).filter(pk=transfer_id).first()
    if found is None:
        raise Http404
    return found
