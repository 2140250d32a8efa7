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
from typing import Any, TypeVar

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
    return _joined(found)


Moment = TypeVar("Moment", int, dt.datetime)


def _joined(spans: list[tuple[Moment, Moment]]) -> list[tuple[Moment, Moment]]:
    """Spans (start, end) sorted, overlapping and touching ones joined into one."""
    joined: list[tuple[Moment, Moment]] = []
    for start, end in sorted(spans):
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


# OpenStreetMap's opening_hours syntax (https://wiki.openstreetmap.org/wiki/Key:opening_hours):
# what map apps and OSM tools read. Two-letter day names, ASCII hyphens.
OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_DAY_MINUTES = 24 * 60


def _minutes(value: str) -> int:
    time = dt.time.fromisoformat(value)
    return time.hour * 60 + time.minute


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _osm_span(start: int, end: int) -> str:
    """A period as "08:00-18:00"; one past midnight as "22:00-02:00" (the next day's hours);
    a whole day as "00:00-24:00"; past midnight from a start so early that the wrapped form
    would read as a short period, in OSM's extended hours ("00:00-26:00")."""
    if end <= _DAY_MINUTES or end - _DAY_MINUTES >= start:
        return f"{_clock(start)}-{end // 60:02d}:{end % 60:02d}"
    return f"{_clock(start)}-{_clock(end - _DAY_MINUTES)}"


def _osm_days(days: list[int]) -> str:
    ranges: list[list[int]] = []
    for day in days:
        if ranges and day == ranges[-1][-1] + 1:
            ranges[-1].append(day)
        else:
            ranges.append([day])
    return ",".join(
        OSM_DAYS[run[0]] if len(run) == 1 else f"{OSM_DAYS[run[0]]}-{OSM_DAYS[run[-1]]}"
        for run in ranges
    )


def osm_opening_hours(point: ServicePoint) -> str:
    """The point's hours in OpenStreetMap's syntax: ``Mo-Fr 08:00-18:00; Sa 09:00-13:00``,
    ``24/7``, or "" when it has none (unknown, not closed).

    Days with the same periods share one rule. In OSM a later rule for a day replaces what an
    earlier rule said of it, including the hours that ran past midnight into it: so a day that
    has its own rule also names the hours it inherits from the night before ("Mo 22:00-02:00;
    Tu 00:00-02:00,08:00-18:00"), which reads the same whichever way a parser takes it."""
    own: dict[int, list[tuple[int, int]]] = {}
    for period in point.opening_hours or []:
        if not valid_period(period):
            continue
        start, end = _minutes(period["opens"]), _minutes(period["closes"])
        own.setdefault(period["day"], []).append(
            (start, end if end > start else end + _DAY_MINUTES)
        )
    days = {day: _joined(spans) for day, spans in own.items()}
    for day, spans in own.items():
        following = (day + 1) % 7
        if following in own:
            days[following] = _joined(
                days[following]
                + [(0, end - _DAY_MINUTES) for _, end in spans if end > _DAY_MINUTES]
            )
    if not days:
        return ""
    if len(days) == 7 and all(s[0][0] == 0 and s[0][1] >= _DAY_MINUTES for s in days.values()):
        return "24/7"
    rules: dict[str, list[int]] = {}
    for day in sorted(days):
        rules.setdefault(",".join(_osm_span(*span) for span in days[day]), []).append(day)
    return "; ".join(f"{_osm_days(group)} {spans}" for spans, group in rules.items())
