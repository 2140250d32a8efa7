"""Entering daily counts and sending, acknowledging alerts: validated, audited."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from routecare.access import Actor, may_edit_service_point
from routecare.audit.actions import record_event
from routecare.core import fields
from routecare.core.languages import country_codes
from routecare.flows.models import Alert, AlertAcknowledgement, AlertKind, DailyCount, Severity
from routecare.orgs.models import NationalSociety, Role, Route, RouteStop, ServicePoint
from routecare.orgs.taxonomy import AgeBand, Sex

MAX_PEOPLE = 100_000
MAX_ALERT_DAYS = 14


def _require_coordinator(actor: Actor) -> ServicePoint:
    if actor.role not in (Role.COORDINATOR, Role.FOCAL_POINT) or actor.service_point is None:
        raise PermissionError("counts and alerts are for coordinators and focal points at a point")
    return actor.service_point


def _check_breakdown(people: int, by_sex_and_age: dict[str, dict[str, int]]) -> None:
    total = 0
    for sex, bands in by_sex_and_age.items():
        if sex not in Sex.values or not isinstance(bands, dict):
            raise ValidationError({"by_sex_and_age": _("Unknown sex: %s") % sex})
        for band, count in bands.items():
            if band not in AgeBand.values:
                raise ValidationError({"by_sex_and_age": _("Unknown age band: %s") % band})
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise ValidationError({"by_sex_and_age": _("Counts are whole numbers, 0 or more.")})
            total += count
    if by_sex_and_age and total != people:
        raise ValidationError(
            {
                "by_sex_and_age": _(
                    "The breakdown adds up to %(sum)d, not the %(people)d people counted."
                )
                % {"sum": total, "people": people}
            }
        )


@transaction.atomic
def record_daily_count(
    actor: Actor,
    *,
    day: dt.date,
    people: int,
    new_arrivals: int = 0,
    departures: int = 0,
    by_sex_and_age: dict[str, dict[str, int]] | None = None,
    nationalities: dict[str, int] | None = None,
    staff_on_duty: int | None = None,
) -> DailyCount:
    """Enter (or correct) the day's count at the actor's point: a second entry for the same
    day updates the first, and the correction is audited."""
    point = _require_coordinator(actor)
    today = timezone.localdate()
    if day > today:
        raise ValidationError({"day": _("That day has not come yet.")})
    if day < today - dt.timedelta(days=90):
        raise ValidationError({"day": _("Corrections go back 90 days at most.")})
    for name, value in (
        ("people", people),
        ("new_arrivals", new_arrivals),
        ("departures", departures),
    ):
        if not 0 <= value <= MAX_PEOPLE:
            raise ValidationError({name: _("Enter a number from 0 to 100000.")})
    if staff_on_duty is not None and not 0 <= staff_on_duty <= 10_000:
        raise ValidationError({"staff_on_duty": _("Enter a number of staff from 0 to 10000.")})
    if new_arrivals > people:
        raise ValidationError({"new_arrivals": _("More new arrivals than people counted.")})
    if departures > people:
        raise ValidationError({"departures": _("More departures than people present.")})
    breakdown = by_sex_and_age or {}
    _check_breakdown(people, breakdown)
    nationality_counts = nationalities or {}
    if any(code not in country_codes() for code in nationality_counts):
        raise ValidationError({"nationalities": _("Unknown country code.")})
    if sum(nationality_counts.values()) > people or any(v < 0 for v in nationality_counts.values()):
        raise ValidationError(
            {"nationalities": _("Nationalities add up to more than the people counted.")}
        )
    existing = DailyCount.objects.select_for_update().filter(service_point=point, day=day).first()
    values: dict[str, Any] = {
        "people": people,
        "new_arrivals": new_arrivals,
        "departures": departures,
        "by_sex_and_age": breakdown,
        "nationalities": nationality_counts,
        "staff_on_duty": staff_on_duty,
        "entered_by": actor.user,
        "updated_at": timezone.now(),
    }
    if existing is None:
        count = DailyCount.objects.create(service_point=point, day=day, **values)
        record_event(actor, "create", "daily_count", count.pk, detail=f"{point.code} {day}")
        return count
    changed = [name for name, value in values.items() if getattr(existing, name) != value]
    for name, value in values.items():
        setattr(existing, name, value)
    existing.save()
    record_event(
        actor, "change", "daily_count", existing.pk, fields=changed,
        detail=f"correction {point.code} {day}",
    )  # fmt: skip
    return existing


# The counts that add up when two places counted the same point and day (a field node and
# the server, or two nodes): they travel as what was added, never as the total.
COUNTERS = ("people", "new_arrivals", "departures", "by_sex_and_age", "nationalities")


def _whole(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_PEOPLE:
        raise ValidationError({name: _("Enter a number from 0 to 100000.")})
    return value


def check_counts(values: dict[str, Any]) -> None:
    """Counts added from two places: each is a whole number in range, breakdowns use known
    sexes, age bands and countries, and no part is more than the people counted (a breakdown
    given in one place only adds up to less: that is no error)."""
    people = _whole(values["people"], "people")
    for name in ("new_arrivals", "departures"):
        if _whole(values[name], name) > people:
            raise ValidationError({name: _("More than the people counted.")})
    breakdown, total = values["by_sex_and_age"], 0
    if not isinstance(breakdown, dict):
        raise ValidationError({"by_sex_and_age": _("Counts are whole numbers, 0 or more.")})
    for sex, bands in breakdown.items():
        if sex not in Sex.values or not isinstance(bands, dict):
            raise ValidationError({"by_sex_and_age": _("Unknown sex: %s") % sex})
        for band, count in bands.items():
            if band not in AgeBand.values:
                raise ValidationError({"by_sex_and_age": _("Unknown age band: %s") % band})
            total += _whole(count, "by_sex_and_age")
    nationalities = values["nationalities"]
    if not isinstance(nationalities, dict) or any(
        code not in country_codes() for code in nationalities
    ):
        raise ValidationError({"nationalities": _("Unknown country code.")})
    if total > people or sum(_whole(v, "nationalities") for v in nationalities.values()) > people:
        raise ValidationError({"by_sex_and_age": _("A breakdown adds up to more than people.")})


def _added(current: Any, more: Any) -> Any:
    """``current`` plus ``more``: numbers, or objects of numbers key by key."""
    if isinstance(current, dict) or isinstance(more, dict):
        current, more = current or {}, more or {}
        if not isinstance(current, dict) or not isinstance(more, dict):
            raise ValidationError({"by_sex_and_age": _("Counts are whole numbers, 0 or more.")})
        keys = list(dict.fromkeys([*current, *more]))
        summed = {key: _added(current.get(key), more.get(key)) for key in keys}
        return {key: value for key, value in summed.items() if value not in (0, {})}
    for value in (current, more):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ValidationError({"people": _("Counts are whole numbers, 0 or more.")})
    return int(current or 0) + int(more or 0)


@transaction.atomic
def add_to_daily_count(
    actor: Actor,
    *,
    day: dt.date,
    added: dict[str, Any],
    count_id: uuid.UUID | None = None,
    staff_on_duty: int | None = None,
    replace_staff: bool = False,
) -> DailyCount:
    """Add what was counted elsewhere (a field node, offline) to the day's count at the
    actor's point: numbers add, breakdowns add key by key, a correction there adds a negative
    difference. The day keeps one row (under ``count_id`` when it is new); a staff figure is
    taken when the day has none (or ``replace_staff``: changed there only). Saved with the
    time of the addition, so that indicators recompute the day."""
    point = _require_coordinator(actor)
    if day > timezone.localdate() + dt.timedelta(days=1):  # a node's day may be ahead of UTC
        raise ValidationError({"day": _("That day has not come yet.")})
    unknown = set(added) - set(COUNTERS)
    if unknown:
        raise ValidationError({"added": _("Unknown counts: %s") % ", ".join(sorted(unknown))})
    if staff_on_duty is not None and not 0 <= staff_on_duty <= 10_000:
        raise ValidationError({"staff_on_duty": _("Enter a number of staff from 0 to 10000.")})
    existing = DailyCount.objects.select_for_update().filter(service_point=point, day=day).first()
    if existing is None:
        try:
            with transaction.atomic():
                existing = DailyCount.objects.create(
                    id=count_id or uuid.uuid4(), service_point=point, day=day, people=0,
                    entered_by=actor.user,
                )  # fmt: skip
        except IntegrityError:  # made meanwhile by another writer: add to theirs
            existing = DailyCount.objects.select_for_update().get(service_point=point, day=day)
    values = {name: _added(getattr(existing, name), added.get(name)) for name in COUNTERS}
    check_counts(values)
    for name, value in values.items():
        setattr(existing, name, value)
    if existing.staff_on_duty is None or (replace_staff and staff_on_duty is not None):
        existing.staff_on_duty = staff_on_duty
    existing.entered_by = actor.user
    existing.updated_at = timezone.now()
    existing.save()
    record_event(
        actor, "change", "daily_count", existing.pk, fields=sorted(added),
        detail=f"added {point.code} {day}",
    )  # fmt: skip
    return existing


@transaction.atomic
def set_staff_on_duty(actor: Actor, count: DailyCount, staff_on_duty: int | None) -> DailyCount:
    """The day's staff figure, chosen by a coordinator when a field node and the server gave
    different ones (a sync conflict)."""
    if not may_edit_service_point(actor, count.service_point):
        raise PermissionError("a point's counts are kept by its coordinators and focal points")
    if staff_on_duty is not None and not 0 <= staff_on_duty <= 10_000:
        raise ValidationError({"staff_on_duty": _("Enter a number of staff from 0 to 10000.")})
    count.staff_on_duty, count.updated_at = staff_on_duty, timezone.now()
    count.save(update_fields=["staff_on_duty", "updated_at"])
    record_event(actor, "change", "daily_count", count.pk, fields=["staff_on_duty"])
    return count


def _downstream(route: Route, start: ServicePoint) -> list[ServicePoint]:
    stops = list(RouteStop.objects.filter(route=route).select_related("service_point"))
    positions = [stop.position for stop in stops if stop.service_point_id == start.pk]
    if not positions:
        raise ValidationError({"route": _("Your service point is not on that route.")})
    return [stop.service_point for stop in stops if stop.position > positions[0]]


def _public_texts(kind: str, public_texts: object) -> dict[str, str]:
    """The alert's public wording, checked; a group movement is never public: a message to
    the public about a group on the move is what smugglers and authorities look for."""
    value = {} if public_texts is None else public_texts
    texts = fields.ALERT_PUBLIC_TEXTS.check(value, "public_texts")
    if texts and kind == AlertKind.GROUP_MOVEMENT:
        raise ValidationError(
            {"public_texts": _("A group movement is never made public: remove the public wording.")}
        )
    return texts


@transaction.atomic
def send_alert(
    actor: Actor,
    *,
    kind: str,
    severity: str,
    message: str,
    scope: str,
    route: Route | None = None,
    societies: Sequence[NationalSociety] = (),
    group_size: int | None = None,
    direction: str = "",
    hours: int = 48,
    public_texts: dict[str, str] | None = None,
) -> Alert:
    """An alert to the points downstream on a route, to the whole network, or to chosen
    societies. It describes groups and places, never people. With ``public_texts`` it is
    also marked public: the messaging helpdesk sends that wording to its subscribers."""
    point = _require_coordinator(actor)
    if kind not in AlertKind.values:
        raise ValidationError({"kind": _("Choose the kind of alert.")})
    public = _public_texts(kind, public_texts)
    if severity not in Severity.values:
        raise ValidationError({"severity": _("Choose the severity.")})
    if not message.strip() or len(message) > 500:
        raise ValidationError({"message": _("Write the alert in under 500 characters.")})
    fields.ALERT_MESSAGE.check(message, "message")
    fields.ALERT_DIRECTION.check(direction, "direction")
    if not 1 <= hours <= MAX_ALERT_DAYS * 24:
        raise ValidationError({"hours": _("An alert lasts 1 hour to 14 days.")})
    if group_size is not None and not 1 <= group_size <= MAX_PEOPLE:
        raise ValidationError({"group_size": _("Enter a group size from 1 to 100000.")})
    if actor.network_id is None:
        raise PermissionError("alerts are sent within a network")
    network_points = ServicePoint.objects.filter(
        national_society__network_id=actor.network_id
    ).exclude(status=ServicePoint.Status.CLOSED)
    if scope == "downstream":
        if route is None or route.network_id != actor.network_id:
            raise ValidationError({"route": _("Choose a route of your network.")})
        targets = _downstream(route, point)
    elif scope == "network":
        targets = list(network_points.exclude(pk=point.pk))
    elif scope == "societies":
        chosen = [s for s in societies if s.network_id == actor.network_id]
        if not chosen:
            raise ValidationError({"societies": _("Choose societies of your network.")})
        targets = list(network_points.filter(national_society__in=chosen))
    else:
        raise ValidationError({"scope": _("Choose who receives the alert.")})
    if not targets:
        raise ValidationError({"scope": _("No service point would receive this alert.")})
    alert = Alert.objects.create(
        from_society_id=actor.society_id,
        from_point=point,
        from_user=actor.user,
        kind=kind,
        severity=severity,
        message=message.strip(),
        group_size=group_size,
        direction=direction.strip(),
        route=route if scope == "downstream" else None,
        expires_at=timezone.now() + dt.timedelta(hours=hours),
        public_texts=public,
    )
    alert.targets.set(targets)
    # That it is public and in which languages; never the public text itself.
    made_public = f", public ({', '.join(sorted(public))})" if public else ""
    record_event(
        actor, "create", "alert", alert.pk,
        detail=f"{kind} to {len(targets)} points{made_public}",
    )  # fmt: skip
    return alert


def acknowledge(actor: Actor, alert: Alert) -> AlertAcknowledgement:
    """The actor's society has seen the alert (once per society)."""
    if actor.national_society_id is None:
        raise PermissionError("acknowledging is for a society's staff")
    acknowledgement, _created = AlertAcknowledgement.objects.get_or_create(
        alert=alert, national_society_id=actor.national_society_id, defaults={"user": actor.user}
    )
    return acknowledgement
