"""Blocks of periods, and the filters regional staff may combine (see the package)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from django.utils.translation import gettext as _

from routecare.indicators.models import Granularity
from routecare.indicators.rollups import period_end, period_start
from routecare.indicators.selectors import Filters

# At most this many blocks in one view: 5 years by month, 8 quarters by week, 12 months by day.
MAX_BLOCKS: dict[str, int] = {Granularity.MONTH: 5, Granularity.WEEK: 8, Granularity.DAY: 12}
BREAKDOWNS = ("sex", "age_band", "population_group", "point")


@dataclass(frozen=True)
class Block:
    granularity: str
    first: dt.date  # the first day of the year, quarter or month
    periods: tuple[dt.date, ...]

    @property
    def day_from(self) -> dt.date:
        return self.periods[0]

    @property
    def day_to(self) -> dt.date:
        return period_end(self.periods[-1], self.granularity)


def _block_first(period: dt.date, granularity: str) -> dt.date:
    if granularity == Granularity.MONTH:
        return period.replace(month=1, day=1)
    if granularity == Granularity.WEEK:
        thursday = period + dt.timedelta(days=3)
        return thursday.replace(month=(thursday.month - 1) // 3 * 3 + 1, day=1)
    return period.replace(day=1)


def _after(first: dt.date, granularity: str) -> dt.date:
    """The first day of the next block."""
    if granularity == Granularity.MONTH:
        return first.replace(year=first.year + 1)
    if granularity == Granularity.WEEK:
        month = first.month + 3
        return first.replace(year=first.year + (month > 12), month=(month - 1) % 12 + 1)
    return (first + dt.timedelta(days=32)).replace(day=1)


def block_of(day: dt.date, granularity: str) -> Block:
    first = _block_first(period_start(day, granularity), granularity)
    after = _after(first, granularity)
    if granularity == Granularity.WEEK:
        # The Monday of the week whose Thursday is the quarter's first.
        cursor = first + dt.timedelta(days=(3 - first.weekday()) % 7) - dt.timedelta(days=3)
        shift = dt.timedelta(days=3)
    else:
        cursor, shift = first, dt.timedelta()
    periods = []
    while cursor + shift < after:
        periods.append(cursor)
        cursor = period_end(cursor, granularity)
    return Block(granularity, first, tuple(periods))


def straddling_week(year: int) -> dt.date | None:
    """The Monday of the week that holds the last days of ``year`` and the first of the next
    (None when 1 January is a Monday): its figures add up over days of both years."""
    new_year = dt.date(year + 1, 1, 1)
    monday = new_year - dt.timedelta(days=new_year.weekday())
    return None if monday == new_year else monday


def single_month(filters: Filters) -> dt.date | None:
    """The month of a view of one month by month."""
    if filters.granularity != Granularity.MONTH or not (filters.start and filters.end):
        return None
    month = period_start(filters.start, Granularity.MONTH)
    return month if month == period_start(filters.end, Granularity.MONTH) else None


def _all_blocks(filters: Filters, today: dt.date) -> list[Block]:
    granularity = filters.granularity
    last = block_of(filters.end or today, granularity)
    first = block_of(filters.start, granularity) if filters.start else last
    if first.first > last.first:
        first = last
    blocks = [first]
    while blocks[-1].first < last.first:
        blocks.append(block_of(_after(blocks[-1].first, granularity), granularity))
    return blocks


def blocks(filters: Filters, today: dt.date) -> list[Block]:
    """The blocks a regional view covers (the last ones, if more were asked for)."""
    month = single_month(filters)
    if month is not None:
        return [block_of(month, Granularity.MONTH)]
    return _all_blocks(filters, today)[-MAX_BLOCKS[filters.granularity] :]


def problem(filters: Filters, today: dt.date) -> str | None:
    """Why regional staff may not have these filters, or None."""
    chosen = [name for name in BREAKDOWNS if getattr(filters, name)]
    if single_month(filters) is not None:
        chosen.append("month")
    if len(chosen) > 1:
        return _(
            "Regional dashboards take one breakdown at a time: a sex, an age band, a group, "
            "a service point or a single month (each with any country and route)."
        )
    if single_month(filters) is None:
        limit = MAX_BLOCKS[filters.granularity]
        if len(_all_blocks(filters, today)) > limit:
            limits: dict[str, str] = {
                Granularity.MONTH: _("A regional dashboard covers at most 5 years by month."),
                Granularity.WEEK: _("A regional dashboard covers at most 8 quarters by week."),
                Granularity.DAY: _("A regional dashboard covers at most 12 months by day."),
            }
            return limits[filters.granularity]
    return None


def normalise(filters: Filters, today: dt.date) -> Filters:
    """The view regional staff get: whole blocks (or one month); a point's view is the
    point's, whatever the route."""
    covered = blocks(filters, today)
    month = single_month(filters)
    start, end = (month, month) if month else (covered[0].periods[0], covered[-1].periods[-1])
    return replace(filters, start=start, end=end, route=None if filters.point else filters.route)
