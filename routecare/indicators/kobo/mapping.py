"""Mapping a Kobo submission to RouteCare fields.

A mapping names, for each RouteCare field, the Kobo question path that answers it
(``"group/question"``), or a fixed value (``{"value": "hnd-danli"}``). A repeat group maps as
``{"repeat": "group/rows", "sex": "group/rows/sex", ...}``: Kobo's JSON gives a repeat as a
list of objects keyed by full paths. Every problem is a ``MappingError`` with a message a
focal point can act on; it names questions, never answers about a person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from routecare.indicators.models import ImportTarget, TrainingAttendance, TrainingTopic
from routecare.orgs.taxonomy import AgeBand, Service, Sex, TriageColour

FIELDS: dict[str, dict[str, Any]] = {
    ImportTarget.DAILY_COUNT: {
        "required": ("service_point", "day", "people"),
        "optional": ("new_arrivals", "departures", "staff_on_duty"),
        "repeats": {"breakdown": ("sex", "age_band", "people")},
    },
    ImportTarget.TRAINING: {
        "required": ("title", "topic", "day"),
        "optional": ("service_point",),
        "repeats": {"attendance": ("role", "sex", "people")},
    },
    # A visit of a registered person, by the short code on their card: forms never hold
    # names. ``services`` is a select_multiple question (codes separated by spaces, one of
    # each); ``service_lines`` a repeat group of service and quantity.
    ImportTarget.ENCOUNTER: {
        "required": ("service_point", "person", "occurred_at"),
        "optional": ("services", "triage"),
        "repeats": {"service_lines": ("service", "quantity")},
    },
}
REQUIRED_REPEATS: dict[str, tuple[str, ...]] = {ImportTarget.TRAINING: ("attendance",)}


class MappingError(Exception):
    pass


def _is_source(value: Any) -> bool:
    return (isinstance(value, str) and bool(value.strip())) or (
        isinstance(value, dict) and set(value) == {"value"}
    )


def check(target: str, mapping: Any) -> None:
    """A mapping a connection can be saved with, or a MappingError saying what is wrong."""
    if target not in FIELDS:
        raise MappingError(_("Choose what the form's submissions become."))
    if not isinstance(mapping, dict):
        raise MappingError(_("The mapping is a JSON object of RouteCare fields."))
    spec = FIELDS[target]
    known = {*spec["required"], *spec["optional"], *spec["repeats"]}
    for name in mapping:
        if name not in known:
            raise MappingError(
                _("Unknown RouteCare field in the mapping: %(field)s") % {"field": name}
            )
    for name in spec["required"]:
        if not _is_source(mapping.get(name)):
            raise MappingError(_("The mapping needs a question for: %(field)s") % {"field": name})
    for name in spec["optional"]:
        if name in mapping and not _is_source(mapping[name]):
            raise MappingError(_("Map %(field)s to a question path or a value.") % {"field": name})
    if target == ImportTarget.ENCOUNTER and not {"services", "service_lines"} & set(mapping):
        raise MappingError(_("The mapping needs services or service_lines."))
    for name, parts in spec["repeats"].items():
        if name not in mapping:
            if name in REQUIRED_REPEATS.get(target, ()):
                raise MappingError(
                    _("The mapping needs the repeat group: %(field)s") % {"field": name}
                )
            continue
        group = mapping[name]
        if not isinstance(group, dict) or not isinstance(group.get("repeat"), str):
            raise MappingError(_("Map %(field)s as a repeat group.") % {"field": name})
        for part in parts:
            if not _is_source(group.get(part)):
                raise MappingError(
                    _("The repeat group %(field)s needs a question for: %(part)s")
                    % {"field": name, "part": part}
                )


def _value(row: Mapping[str, Any], source: Any, field: str) -> Any:
    if isinstance(source, dict):
        return source["value"]
    if source not in row or row[source] in ("", None):
        raise MappingError(
            _("No answer to %(question)s (for %(field)s).") % {"question": source, "field": field}
        )
    return row[source]


def _optional(row: Mapping[str, Any], mapping: Mapping[str, Any], field: str) -> Any:
    source = mapping.get(field)
    if source is None:
        return None
    if isinstance(source, str) and row.get(source) in ("", None):
        return None
    return _value(row, source, field)


def _number(value: Any, field: str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise MappingError(_("%(field)s is not a whole number.") % {"field": field}) from None
    if number < 0:
        raise MappingError(_("%(field)s cannot be negative.") % {"field": field})
    return number


def _day(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise MappingError(_("%(field)s is not a date (YYYY-MM-DD).") % {"field": field}) from None


def _choice(value: Any, allowed: list[str], field: str) -> str:
    text = str(value).strip()
    if text not in allowed:
        raise MappingError(_("%(field)s has an unknown value.") % {"field": field})
    return text


def _rows(
    row: Mapping[str, Any], group: Mapping[str, Any], field: str, required: bool = False
) -> list[Mapping[str, Any]]:
    if required and not row.get(group["repeat"]):
        raise MappingError(
            _("No answers in the repeat group %(question)s (for %(field)s); an XLSX export "
              "keeps repeat groups on other sheets, upload the JSON export.")
            % {"question": group["repeat"], "field": field}
        )  # fmt: skip
    rows = row.get(group["repeat"], [])
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise MappingError(_("The repeat group for %(field)s is not a list.") % {"field": field})
    return rows


def daily_count(row: Mapping[str, Any], mapping: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "service_point": str(_value(row, mapping["service_point"], "service_point")).strip(),
        "day": _day(_value(row, mapping["day"], "day"), "day"),
        "people": _number(_value(row, mapping["people"], "people"), "people"),
    }
    for field in ("new_arrivals", "departures", "staff_on_duty"):
        found = _optional(row, mapping, field)
        values[field] = None if found is None else _number(found, field)
    breakdown: dict[str, dict[str, int]] = {}
    if "breakdown" in mapping:
        group = mapping["breakdown"]
        for line in _rows(row, group, "breakdown"):
            sex = _choice(_value(line, group["sex"], "sex"), Sex.values, "sex")
            band = _choice(_value(line, group["age_band"], "age_band"), AgeBand.values, "age_band")
            people = _number(_value(line, group["people"], "people"), "people")
            breakdown.setdefault(sex, {})[band] = breakdown.get(sex, {}).get(band, 0) + people
    values["by_sex_and_age"] = breakdown
    return values


def training(row: Mapping[str, Any], mapping: Mapping[str, Any]) -> dict[str, Any]:
    title = str(_value(row, mapping["title"], "title")).strip()
    attendance: dict[tuple[str, str], int] = {}
    group = mapping["attendance"]
    for line in _rows(row, group, "attendance", required=True):
        role = _choice(_value(line, group["role"], "role"), TrainingAttendance.Role.values, "role")
        sex = _choice(_value(line, group["sex"], "sex"), Sex.values, "sex")
        people = _number(_value(line, group["people"], "people"), "people")
        attendance[(role, sex)] = attendance.get((role, sex), 0) + people
    point = _optional(row, mapping, "service_point")
    return {
        "title": title,
        "topic": _choice(_value(row, mapping["topic"], "topic"), TrainingTopic.values, "topic"),
        "day": _day(_value(row, mapping["day"], "day"), "day"),
        "service_point": None if point is None else str(point).strip(),
        "attendance": attendance,
    }


def _moment(value: Any, field: str) -> dt.datetime:
    """A moment with its offset, as Kobo's datetime questions and ``start``/``end`` give it."""
    moment = value if isinstance(value, dt.datetime) else None
    if moment is None:
        try:
            moment = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            moment = None
    if moment is None or moment.tzinfo is None:
        raise MappingError(
            _("%(field)s is not a date and time with its offset "
              "(e.g. 2026-11-20T10:15:00-06:00).") % {"field": field}
        )  # fmt: skip
    return moment


def encounter(row: Mapping[str, Any], mapping: Mapping[str, Any]) -> dict[str, Any]:
    services: dict[str, int] = {}
    chosen = _optional(row, mapping, "services")
    # A select_multiple answer names each chosen service once ("water water" is water once).
    for code in dict.fromkeys(str(chosen or "").split()):
        services[_choice(code, Service.values, "services")] = 1
    if "service_lines" in mapping:
        group = mapping["service_lines"]
        for line in _rows(row, group, "service_lines"):
            code = _choice(_value(line, group["service"], "service"), Service.values, "service")
            quantity = _number(_value(line, group["quantity"], "quantity"), "quantity")
            services[code] = services.get(code, 0) + quantity
    if not services:
        raise MappingError(_("No service delivered in the submission."))
    triage = _optional(row, mapping, "triage")
    return {
        "service_point": str(_value(row, mapping["service_point"], "service_point")).strip(),
        "person": str(_value(row, mapping["person"], "person")).strip(),
        "occurred_at": _moment(_value(row, mapping["occurred_at"], "occurred_at"), "occurred_at"),
        "services": sorted(services.items()),
        "triage": "" if triage is None else _choice(triage, TriageColour.values, "triage"),
    }
