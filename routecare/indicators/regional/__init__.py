"""Regional staff's dashboards: every view they may ask for, protected as one system.

A regional user sees their network's figures with small counts hidden (``disclosure``), and
can ask for the same figures by country, route, service point, sex, age band, population
group and period. Each view alone may be protected, yet one view set against another gives a
small count away: all people less the men, the other sexes and the undisclosed leaves the
women of a month; a society's counted people less its other points' leaves one point's. So
every number any of those views shows is given one *meaning* — what is counted, at which
points, over which periods, for which sex, age band and group — the views' numbers with the
same meaning are one cell, and one suppression runs over all the cells with every way they
add up (over sexes, bands, groups, periods, registered and counted, societies, and, for what
is counted point by point, over points). Each view is then a slice of that one pattern.

To keep the system finite and small enough to compute per request:

- **Periods come in blocks**: whole years by month, whole quarters by week (a week belongs
  to the quarter of its Thursday), whole months by day. A regional view covers whole blocks
  (a range asked for is widened to them; none asked for: the current block), or one month by
  month. A view over several blocks adds their figures: a sum is shown only when every block's
  part of it is (it then says nothing the parts do not).
- **One breakdown at a time**: a sex, an age band, a population group, a service point or one
  month; the country and route filters combine with any of them.

What is counted day by day (counted people, consultations, events) adds up over days, so the
blocks of a year (by month, by week, by day) are protected together as one system, with the
equations between granularities (``system.protect_unit``): a cell hidden at one granularity
is not given away by another. The pattern of a year is cached as the dashboards are
(``rollups.CACHE_KIND``), and is the same in every process (it depends on the figures only),
so no two answers differ.
See docs/indicators.md, "Across views and filters".
"""

from routecare.indicators.regional.blocks import (
    block_of,
    blocks,
    normalise,
    problem,
    single_month,
)
from routecare.indicators.regional.board import build
from routecare.indicators.regional.store import protected
from routecare.indicators.regional.system import protect

__all__ = [
    "block_of",
    "blocks",
    "build",
    "normalise",
    "problem",
    "protect",
    "protected",
    "single_month",
]
