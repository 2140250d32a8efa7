"""Opening hours: ``[{"day": 0-6 (Monday = 0), "opens": "08:00", "closes": "18:00"}]`` in the
service point's local time (its National Society's time zone).

A point's *status* (open, temporarily closed, closed) is what its staff set; whether it is open
*now* follows from its hours and the clock. Every page, the API and the booklet ask
``opening_state`` and word it with ``opening_line``, so that they cannot disagree; cached
answers carry the moment it next changes (``next_change``) in their key.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from routecare.orgs.models import ServicePoint, valid_period

if TYPE_CHECKING:
    from routecare.directory.entries import PublicPoint

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


# A valid period as minutes from its day's midnight: (weekday, opens, closes); closes <= opens
# runs past midnight.
Period = tuple[int, int, int]
# Minutes from a day's local midnight, (start, end), sorted and joined.
Window = tuple[tuple[int, int], ...]
_DAY = 24 * 60
_HORIZON = _DAYS_AFTER * _DAY


def periods_of(opening_hours: object) -> tuple[Period, ...]:
    """The valid periods of a point's ``opening_hours`` (one saved before hours were validated
    is left out), in minutes."""
    if not isinstance(opening_hours, list):
        return ()
    return tuple(
        (period["day"], _minutes(period["opens"]), _minutes(period["closes"]))
        for period in opening_hours
        if valid_period(period)
    )


def day_window(periods: Iterable[Period], weekday: int) -> Window:
    """The periods of the days from yesterday to a week ahead of a day that is ``weekday``, in
    minutes from that day's midnight, joined: what ``_periods`` gives as moments when the
    time zone keeps one offset over those days."""
    spans = []
    for offset in range(-_DAYS_BEFORE, _DAYS_AFTER + 1):
        for day, opens, closes in periods:
            if day == (weekday + offset) % 7:
                start = offset * _DAY + opens
                spans.append((start, offset * _DAY + closes + (0 if opens < closes else _DAY)))
    return tuple(_joined(spans))


def week_of(periods: Iterable[Period]) -> tuple[Window, ...]:
    """``day_window`` for each weekday, Monday first (what a precomputed entry keeps)."""
    kept = tuple(periods)
    return tuple(day_window(kept, weekday) for weekday in range(7))


@dataclass(frozen=True)
class WeeklyHours:
    """A point's hours as "open now" reads them: its time zone, its valid periods and, when
    precomputed (directory.precomputed), each weekday's ``day_window``."""

    zone: str
    periods: tuple[Period, ...]
    week: tuple[Window, ...] | None = None

    @classmethod
    def of(cls, point: ServicePoint) -> WeeklyHours:
        return cls(point.national_society.time_zone, periods_of(point.opening_hours))

    def window(self, weekday: int) -> Window:
        if self.week is not None:
            return self.week[weekday]
        return day_window(self.periods, weekday)


@functools.lru_cache(maxsize=1024)
def _zone(name: str) -> zoneinfo.ZoneInfo:
    """The named zone, UTC for a name that is none. Kept here: zoneinfo holds only its last 8
    zones strongly, and a network's 11 were read from disk again on every public page."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


_steady_days: dict[tuple[str, dt.date], bool] = {}


def _steady(zone: zoneinfo.ZoneInfo, day: dt.date) -> bool:
    """The zone keeps one UTC offset from the day before ``day`` to ten days after: a period's
    local times are then its moments at a fixed offset. Offsets change at most twice a year,
    never twice within a day; a window over a change is read moment by moment instead."""
    key = (zone.key, day)
    steady = _steady_days.get(key)
    if steady is None:
        if len(_steady_days) > 4096:
            _steady_days.clear()
        offsets = {
            dt.datetime.combine(
                day + dt.timedelta(days=offset), dt.time(0), tzinfo=zone
            ).utcoffset()
            for offset in range(-_DAYS_BEFORE, _DAYS_AFTER + 3)
        }
        steady = _steady_days[key] = len(offsets) == 1
    return steady


def _periods(hours: WeeklyHours, local: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """The opening periods of the days around ``local`` as UTC moments, overlapping and
    touching ones joined (a period that closes before it opens runs past midnight)."""
    zone = local.tzinfo
    found = []
    for offset in range(-_DAYS_BEFORE, _DAYS_AFTER + 1):
        day = local.date() + dt.timedelta(days=offset)
        for weekday, opens, closes in hours.periods:
            if weekday != day.weekday():
                continue
            end_day = day if opens < closes else day + dt.timedelta(days=1)
            start = dt.datetime.combine(day, _time(opens), tzinfo=zone).astimezone(dt.UTC)
            end = dt.datetime.combine(end_day, _time(closes), tzinfo=zone).astimezone(dt.UTC)
            found.append((start, end))
    return _joined(found)


def _time(minutes: int) -> dt.time:
    return dt.time(minutes // 60, minutes % 60)


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


def opening_state(point: ServicePoint | PublicPoint, now: dt.datetime) -> OpeningState:
    """The one answer to "is it open now?" for every page, the API and the booklet."""
    hours = WeeklyHours.of(point) if isinstance(point, ServicePoint) else point.hours
    return state_of(hours, point.status, now)


_MINUTE_US = 60_000_000


def state_of(hours: WeeklyHours, status: str, now: dt.datetime) -> OpeningState:
    """``opening_state`` from a point's hours and status (precomputed or not)."""
    zone = _zone(hours.zone)
    local = now.astimezone(zone)
    known = bool(hours.periods)
    state = OpeningState(at=local, status=status, known=known, open_now=False)
    if status != ServicePoint.Status.OPEN or not known:
        return state
    if not _steady(zone, local.date()):
        return _state_by_moments(hours, state)
    # One offset over the window: minutes from the local midnight are elapsed time.
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = ((local.hour * 60 + local.minute) * 60 + local.second) * 1_000_000 + local.microsecond
    for start, end in hours.window(local.weekday()):
        if start * _MINUTE_US <= elapsed < end * _MINUTE_US:
            until = midnight + dt.timedelta(minutes=end) if end < _HORIZON else None
            return OpeningState(local, status, True, True, until=until)
        if start * _MINUTE_US > elapsed:
            opens = midnight + dt.timedelta(minutes=start)
            return OpeningState(local, status, True, False, next_opens=opens)
    return state


def _state_by_moments(hours: WeeklyHours, state: OpeningState) -> OpeningState:
    """``state_of`` over a change of offset: each period's opening and closing as moments."""
    local, status = state.at, state.status
    now = local.astimezone(dt.UTC)
    zone = local.tzinfo
    horizon = dt.datetime.combine(
        local.date() + dt.timedelta(days=_DAYS_AFTER), dt.time(0), tzinfo=zone
    )
    for start, end in _periods(hours, local):
        if start <= now < end:
            # Open through the whole week ahead: no closing time to give.
            until = end.astimezone(zone) if end < horizon else None
            return OpeningState(local, status, True, True, until=until)
        if start > now:
            return OpeningState(local, status, True, False, next_opens=start.astimezone(zone))
    return state


def is_open(point: ServicePoint | PublicPoint, now: dt.datetime) -> bool:
    """Open at ``now``: operating and inside one of its opening periods."""
    return opening_state(point, now).open_now


def next_change(
    points: Iterable[ServicePoint | PublicPoint], now: dt.datetime
) -> dt.datetime | None:
    """The earliest moment what is said of any of the points changes (for cached answers)."""
    changes = []
    # Precomputed points with the same hours share one WeeklyHours (entries.hours_from_json):
    # the clock says the same of those with the same status.
    shared: dict[tuple[int, str], dt.datetime | None] = {}
    for point in points:
        if isinstance(point, ServicePoint):
            changes.append(opening_state(point, now).next_change)
            continue
        key = (id(point.hours), point.status)
        if key not in shared:
            shared[key] = opening_state(point, now).next_change
        changes.append(shared[key])
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
