"""Opening hours: ``[{"day": 0-6 (Monday = 0), "opens": "08:00", "closes": "18:00"}]`` in the
service point's local time (its National Society's time zone).

A point's *status* (open, temporarily closed, closed) is what its staff set; whether it is open
*now* follows from its hours and the clock. Every page, the API and the booklet ask
``opening_state`` and word it with ``opening_line``, so that they cannot disagree; cached
answers carry the moment it next changes (``next_change``) in their key.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from routecare.orgs.models import ServicePoint, valid_period

# The periods of the days around now that are looked at: yesterday's may run past midnight,
# and a week ahead always holds the next opening of a point open on some day.
_DAYS_BEFORE, _DAYS_AFTER = 1, 8


def zone_of(point: ServicePoint) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(point.national_society.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def local_now(point: ServicePoint, now: dt.datetime) -> dt.datetime:
    return now.astimezone(zone_of(point))


@dataclass(frozen=True)
class OpeningState:
    """Whether a point is open at ``at`` (its local time) and until when, or when it opens.

    ``until`` is None for a point open now whose hours never stop within the week; both
    ``until`` and ``next_opens`` are None for a point that is not operating or has no hours
    (``known`` False: ask on site)."""

    at: dt.datetime
    status: str
    known: bool
    open_now: bool
    until: dt.datetime | None = None
    next_opens: dt.datetime | None = None

    @property
    def operating(self) -> bool:
        return self.status == ServicePoint.Status.OPEN

    @property
    def next_change(self) -> dt.datetime | None:
        """When what is said of the point next changes: it opens or closes, or the local day
        turns (and "opens tomorrow" becomes "opens at"). None: only an edit changes it."""
        if not self.operating or not self.known:
            return None
        midnight = dt.datetime.combine(
            self.at.date() + dt.timedelta(days=1), dt.time(0), tzinfo=self.at.tzinfo
        )
        boundary = self.until if self.open_now else self.next_opens
        return min(time for time in (boundary, midnight) if time is not None)


def _periods(point: ServicePoint, local: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """The opening periods of the days around ``local`` as UTC moments, overlapping and
    touching ones joined (a period that closes before it opens runs past midnight)."""
    zone = local.tzinfo
    periods = [p for p in point.opening_hours or [] if valid_period(p)]
    found = []
    for offset in range(-_DAYS_BEFORE, _DAYS_AFTER + 1):
        day = local.date() + dt.timedelta(days=offset)
        for period in periods:
            if period["day"] != day.weekday():
                continue
            opens = dt.time.fromisoformat(period["opens"])
            closes = dt.time.fromisoformat(period["closes"])
            end_day = day if opens < closes else day + dt.timedelta(days=1)
            start = dt.datetime.combine(day, opens, tzinfo=zone).astimezone(dt.UTC)
            end = dt.datetime.combine(end_day, closes, tzinfo=zone).astimezone(dt.UTC)
            found.append((start, end))
    joined: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in sorted(found):
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
        else:
            joined.append((start, end))
    return joined


def opening_state(point: ServicePoint, now: dt.datetime) -> OpeningState:
    """The one answer to "is it open now?" for every page, the API and the booklet."""
    local = local_now(point, now)
    periods = _periods(point, local)
    state = OpeningState(at=local, status=point.status, known=bool(periods), open_now=False)
    if not state.operating or not periods:
        return state
    zone = local.tzinfo
    horizon = dt.datetime.combine(
        local.date() + dt.timedelta(days=_DAYS_AFTER), dt.time(0), tzinfo=zone
    )
    for start, end in periods:
        if start <= now < end:
            # Open through the whole week ahead: no closing time to give.
            until = end.astimezone(zone) if end < horizon else None
            return OpeningState(local, point.status, True, True, until=until)
        if start > now:
            return OpeningState(local, point.status, True, False, next_opens=start.astimezone(zone))
    return state


def is_open(point: ServicePoint, now: dt.datetime) -> bool:
    """Open at ``now``: operating and inside one of its opening periods."""
    return opening_state(point, now).open_now


def next_change(points: Iterable[ServicePoint], now: dt.datetime) -> dt.datetime | None:
    """The earliest moment what is said of any of the points changes (for cached answers)."""
    changes = [opening_state(point, now).next_change for point in points]
    return min((change for change in changes if change is not None), default=None)


def opening_line(state: OpeningState, texts: Mapping[str, str]) -> str:
    """ "Open now, until 18:00", "Closed now, opens tomorrow at 08:00", in the page's language
    (``texts``: ``person_texts.texts_for``). Empty when not operating (the status says so) or
    when the hours are unknown."""
    if not state.operating or not state.known:
        return ""
    if state.open_now:
        if state.until is None:
            return texts["open_now"]
        return texts["open_until"] % {"time": state.until.strftime("%H:%M")}
    opens = state.next_opens
    if opens is None:  # pragma: no cover - a known point always opens within the week
        return ""
    values: dict[str, Any] = {"time": opens.strftime("%H:%M")}
    days = (opens.date() - state.at.date()).days
    if days == 0:
        return texts["closed_opens_today"] % values
    if days == 1:
        return texts["closed_opens_tomorrow"] % values
    return texts["closed_opens_on"] % {**values, "day": texts[f"day_{opens.weekday()}"]}


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
