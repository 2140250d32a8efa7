"""Opening hours: ``[{"day": 0-6 (Monday = 0), "opens": "08:00", "closes": "18:00"}]`` in the
service point's local time (its National Society's time zone)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from routecare.orgs.models import ServicePoint


def local_now(point: ServicePoint, now: dt.datetime) -> dt.datetime:
    try:
        zone = zoneinfo.ZoneInfo(point.national_society.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return now.astimezone(zone)


def _time(text: str) -> dt.time | None:
    try:
        return dt.time.fromisoformat(text)
    except (TypeError, ValueError):
        return None


def is_open(point: ServicePoint, now: dt.datetime) -> bool:
    """Open at ``now``: status open and inside one of today's opening periods (a period that
    closes before it opens runs past midnight)."""
    if point.status != ServicePoint.Status.OPEN:
        return False
    local = local_now(point, now)
    clock = local.time()
    yesterday = (local.weekday() - 1) % 7
    for period in point.opening_hours or []:
        opens, closes = _time(str(period.get("opens"))), _time(str(period.get("closes")))
        if opens is None or closes is None:
            continue
        day = period.get("day")
        if opens < closes:
            if day == local.weekday() and opens <= clock < closes:
                return True
        elif (day == local.weekday() and clock >= opens) or (day == yesterday and clock < closes):
            return True
    return False


def by_day(point: ServicePoint) -> list[tuple[int, list[str]]]:
    """Each weekday with its periods as "08:00–18:00", Monday first; empty days left out."""
    days: dict[int, list[str]] = {}
    for period in sorted(point.opening_hours or [], key=_period_key):
        day = period.get("day")
        if isinstance(day, int) and 0 <= day <= 6:
            days.setdefault(day, []).append(f"{period.get('opens')}–{period.get('closes')}")
    return sorted(days.items())


def _period_key(period: dict[str, Any]) -> tuple[int, str]:
    day = period.get("day")
    return (day if isinstance(day, int) else 9, str(period.get("opens")))
