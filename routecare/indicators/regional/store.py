"""A network's protected years, computed ahead and kept in the database.

Protecting a year's blocks as one system (``system.protect_unit``) takes seconds of CPU
where some figures are small, far too long for a request and too long to repeat whenever a
cache expires. So the periodic job ``indicators.regional`` computes each network's year when
its figures changed and keeps what the dashboards need: each block's figures as read from the
rollups and the cells to hide (``RegionalBlock``). A regional dashboard reads its block's row,
never the rollups: the figures and the pattern that protects them are always of one moment,
so no view shows a figure with another moment's pattern. Years tied by a week of 1 January
with figures (``chain``) are computed and kept as one system, in one computation.

A year is stale once a figure it reads changed: rollups rebuilt for one of its days (the
refresh marks it, ``changed``), a training or a referral recorded. Until the job has
computed it again the dashboards show the year as it was (they say when it was computed); a
request computes it itself only when nothing was kept yet, when the network's points or
routes changed (the pattern would not fit the views), or when it has been stale for longer
than ``REGIONAL_PATTERN_LAG`` seconds (no worker running).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from routecare.core import caching
from routecare.core.models import JobLock
from routecare.indicators.models import Granularity, RegionalBlock, RegionalYear
from routecare.indicators.regional.blocks import Block, block_of, straddling_week
from routecare.indicators.regional.cells import STAR, Cells, Data, Key, Places, load
from routecare.indicators.regional.system import Namespace, Protected, protect_years, unit_blocks
from routecare.indicators.rollups import CACHE_KIND
from routecare.indicators.selectors import View, network_view
from routecare.orgs.models import NationalSociety, Network

logger = logging.getLogger(__name__)

JOB = "indicators.regional"  # the periodic job (registered in apps.py)
HOLD = dt.timedelta(hours=1)  # how long the job holds its lock for each year it computes


def _lag() -> dt.timedelta:
    return dt.timedelta(seconds=int(getattr(settings, "REGIONAL_PATTERN_LAG", 900)))


# Which years a change touches -----------------------------------------------------------


def years_of(days: Iterable[dt.date]) -> set[int]:
    """The years whose blocks read these days: the day's own, and the year of the quarter its
    week belongs to (the week of 1 January may be the previous year's last quarter's)."""
    found: set[int] = set()
    for day in days:
        found.add(day.year)
        found.add(block_of(day, Granularity.WEEK).first.year)
    return found


def changed(days: Iterable[dt.date], societies: Iterable[Any]) -> None:
    """The years of these days stale for the networks of these societies (inside the caller's
    transaction: a rollup rebuild, a training, a referral)."""
    years = years_of(days)
    society_ids = {str(s) for s in societies}
    if not years or not society_ids:
        return
    networks = NationalSociety.objects.filter(pk__in=society_ids).values("network_id")
    RegionalYear.objects.filter(network_id__in=networks, year__in=years).update(
        changes=F("changes") + 1, stale_since=Coalesce(F("stale_since"), Value(timezone.now()))
    )


# What is kept -------------------------------------------------------------------------------


def places_digest(places: Places) -> str:
    """What the views' layout depends on besides the figures: the network's societies, points
    (their society, their kind) and route stops."""
    view = places.view
    parts = [
        sorted(str(s.pk) for s in view.societies),
        sorted((str(p.pk), str(p.national_society_id), str(p.kind)) for p in view.points),
        sorted(str(r.pk) for r in view.routes),
        sorted((str(route), sorted(points)) for route, points in places.on_route.items()),
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _encode(value: Any) -> Any:
    """A key as JSON: tuples as lists, dates as {"d": ISO date}."""
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    if isinstance(value, dict):
        return dt.date.fromisoformat(value["d"])
    return value


def _time(value: Any) -> Any:
    return STAR if value == STAR else dt.date.fromisoformat(value)


def _iso(value: Any) -> Any:
    return value if value == STAR else value.isoformat()


def _document(data: Data) -> dict[str, Any]:
    """A block's figures as JSON."""
    return {
        "people": [
            [*key[:3], _iso(key[3]), *key[4:], figures] for key, figures in data.people.items()
        ],
        "patterns": sorted(list(pattern) for pattern in data.patterns),
        "active": {
            point: sorted(d.isoformat() for d in days) for point, days in data.active.items()
        },
        "services": [
            [point, _iso(time), code, pair] for (point, time, code), pair in data.services.items()
        ],
        "trained": [
            [society, point, _iso(time), n] for (society, point, time), n in data.trained.items()
        ],
        "referrals": [[point, _iso(time), n] for (point, time), n in data.referrals.items()],
    }


def pack(protected: Protected) -> bytes:
    """A block's figures and hidden cells, compressed JSON (nothing pickled)."""
    document = {
        "open": protected.open,
        **_document(protected.cells.data),
        "hidden": [_encode(key) for key in protected.hidden],
    }
    return zlib.compress(json.dumps(document, separators=(",", ":")).encode(), 6)


def figures_digest(places_digest: str, data: dict[Namespace, Data]) -> str:
    """What a computation's result depends on: the places and every block's figures (in any
    order they were read)."""
    digest = hashlib.sha256(places_digest.encode())
    for space in sorted(data):
        document = _document(data[space])
        for name in sorted(document):
            part = document[name]
            ordered = sorted(part) if isinstance(part, list) else sorted(part.items())
            digest.update(json.dumps([space[0], space[1].isoformat(), name, ordered]).encode())
    return digest.hexdigest()


@dataclass
class Kept:
    """A block as kept: its figures and hidden cells, shared by the requests of a process
    (never changed: each request builds its own cells over it)."""

    data: Data
    hidden: frozenset[Key]
    open: bool


def unpack(block: Block, payload: bytes) -> Kept:
    document = json.loads(zlib.decompress(payload))
    data = Data(block)
    for *key, figures in document["people"]:
        data.people[(*key[:3], _time(key[3]), *key[4:])] = list(figures)
    data.patterns = {tuple(pattern) for pattern in document["patterns"]}
    for point, days in document["active"].items():
        data.active[point] = {dt.date.fromisoformat(d) for d in days}
    for point, time, code, pair in document["services"]:
        data.services[(point, _time(time), code)] = list(pair)
    for society, point, time, n in document["trained"]:
        data.trained[(society, point, _time(time))] = n
    for point, time, n in document["referrals"]:
        data.referrals[(point, _time(time))] = n
    hidden = frozenset(_decode(key) for key in document["hidden"])
    return Kept(data, hidden, bool(document["open"]))


# Computing a year ----------------------------------------------------------------------------


def linked(view: View, year: int) -> bool:
    """Whether ``year`` and the next share a week with figures (the week of 1 January, when
    that is not a Monday): its figures are sums over days of both years."""
    monday = straddling_week(year)
    return monday is not None and not load(view, Block(Granularity.WEEK, monday, (monday,))).empty()


def chain(view: View, year: int) -> list[int]:
    """The consecutive years protected with ``year`` as one system: those its straddling weeks
    tie to it, one after another (usually the year alone, or two around a new year)."""
    first = last = year
    while linked(view, first - 1):
        first -= 1
    while linked(view, last):
        last += 1
    return list(range(first, last + 1))


# The last few computations' kept blocks in this process, by the figures they were computed
# from (``figures_digest``): the same figures give the same blocks, so a year marked stale by
# a change that changed no figure, or made again from the same figures (a network's points
# saved unchanged, the tests' demo data), is not suppressed again.
_COMPUTED: OrderedDict[str, dict[Namespace, bytes]] = OrderedDict()
_COMPUTED_MAX = 4


def forget_computed() -> None:
    """Drop this process's computations (a benchmark of the computation itself)."""
    _COMPUTED.clear()


def compute(view: View, network: Any, year: int) -> dict[int, RegionalYear]:
    """The network's year, and the years tied to it (``chain``), protected now as one system
    (``protect_years``) and kept, replacing what was: one computation for all of them, so a
    view over two of them never mixes patterns."""
    years = chain(view, year)
    for each in years:
        RegionalYear.objects.get_or_create(network_id=network, year=each)
    # Changes after this read make the new pattern stale again.
    changes = dict(
        RegionalYear.objects.filter(network_id=network, year__in=years).values_list(
            "year", "changes"
        )
    )
    places = Places.of(view)
    digest = places_digest(places)
    started = timezone.now()
    data = {(b.granularity, b.first): load(view, b) for y in years for b in unit_blocks(y)}
    key = figures_digest(digest, data)
    payloads = _COMPUTED.get(key)
    if payloads is None:
        blocks = protect_years(view, years, places, data)
        payloads = {space: pack(protected) for space, protected in blocks.items()}
        _COMPUTED[key] = payloads
        while len(_COMPUTED) > _COMPUTED_MAX:
            _COMPUTED.popitem(last=False)
    _COMPUTED.move_to_end(key)
    computation = uuid.uuid4()
    entries: dict[int, RegionalYear] = {}
    with transaction.atomic():
        for entry in RegionalYear.objects.select_for_update().filter(
            network_id=network, year__in=years
        ):
            entry.blocks.all().delete()
            RegionalBlock.objects.bulk_create(
                RegionalBlock(year=entry, granularity=g, first=first, payload=payload)
                for (g, first), payload in payloads.items()
                if first.year == entry.year
            )
            entry.computed_changes = changes[entry.year]
            entry.computed_at = started
            # Changes marked while it was computed are not in it: stale since it began.
            entry.stale_since = started if entry.changes > changes[entry.year] else None
            entry.computation = computation
            entry.places = digest
            entry.save(
                update_fields=[
                    "computed_changes",
                    "computed_at",
                    "stale_since",
                    "computation",
                    "places",
                ]
            )
            entries[entry.year] = entry
        # Dashboards cached from the years as they were are not served again.
        caching.changed_with_transaction(CACHE_KIND)
    return entries


def _fits(entry: RegionalYear | None, digest: str, now: dt.datetime) -> bool:
    """Whether a kept year may be shown: computed over these places, and fresh, stale for
    less than the lag, or being computed again by the job right now (a request computing it
    too would hold a server process for as long)."""
    if entry is None or entry.computed_at is None or entry.places != digest:
        return False
    if not entry.stale:
        return True
    since = entry.stale_since or entry.computed_at
    return since > now - _lag() or _job_running(now)


def _job_running(now: dt.datetime) -> bool:
    return JobLock.objects.filter(name=JOB, held_until__gt=now).exists()


# Kept blocks decoded once per process: a few, each a block's figures, by row and computation
# (a computation writes new rows: a row's content never changes while its year's computation
# does not).
_DECODED: OrderedDict[tuple[int, uuid.UUID], Kept] = OrderedDict()
_DECODED_MAX = 32


def _decoded(rows: dict[tuple[int, uuid.UUID], Block]) -> dict[tuple[int, uuid.UUID], Kept] | None:
    """These kept rows decoded (None when one was replaced meanwhile)."""
    missing = {key[0]: key for key in rows if key not in _DECODED}  # by row
    if missing:
        for pk, computation, payload in RegionalBlock.objects.filter(pk__in=missing).values_list(
            "pk", "year__computation", "payload"
        ):
            if (pk, computation) == missing[pk]:
                _DECODED[missing[pk]] = unpack(rows[missing[pk]], bytes(payload))
    found = {}
    for key in rows:
        if key not in _DECODED:
            return None
        _DECODED.move_to_end(key)
        found[key] = _DECODED[key]
    while len(_DECODED) > max(_DECODED_MAX, len(rows)):
        _DECODED.popitem(last=False)
    return found


@dataclass
class Read:
    """A block's protected figures as a dashboard shows them, and when they were computed."""

    protected: Protected
    computed_at: dt.datetime


def read(view: View, blocks: list[Block]) -> list[Read]:
    """The blocks' figures and patterns as kept for the network (computed here only when
    nothing fitting was kept: see the module), all of one computation where their years are
    tied (``chain``)."""
    places = Places.of(view)
    if not view.societies:  # a network without societies: nothing to protect or keep
        return [
            Read(Protected(Cells(places, load(view, b)), {}, set(), open=True), timezone.now())
            for b in blocks
        ]
    network = view.societies[0].network_id
    digest = places_digest(places)
    years = sorted({block.first.year for block in blocks})
    for _attempt in range(3):
        now = timezone.now()
        entries = {
            e.year: e for e in RegionalYear.objects.filter(network_id=network, year__in=years)
        }
        computed: set[int] = set()
        for year in years:
            if year not in computed and not _fits(entries.get(year), digest, now):
                fresh = compute(view, network, year)
                computed |= set(fresh)
                entries.update(fresh)
        # One statement: the rows of years computed together are all of one computation.
        wanted = {(entries[b.first.year].pk, b.granularity, b.first): b for b in blocks}
        rows = RegionalBlock.objects.filter(
            year_id__in={pk for pk, _g, _f in wanted},
            granularity__in={g for _pk, g, _f in wanted},
            first__in={f for _pk, _g, f in wanted},
        ).values_list("pk", "year__computation", "year_id", "granularity", "first")
        by_block = {(y, g, f): (pk, c) for pk, c, y, g, f in rows if (y, g, f) in wanted}
        if len(by_block) < len(wanted):  # replaced meanwhile: read again
            continue
        kept = _decoded({pk: wanted[key] for key, pk in by_block.items()})
        if kept is None:
            continue
        found = []
        for block in blocks:
            entry = entries[block.first.year]
            one = kept[by_block[(entry.pk, block.granularity, block.first)]]
            shown = Protected(Cells(places, one.data), {}, set(one.hidden), open=True)
            found.append(Read(shown, entry.computed_at or now))
        return found
    raise LookupError("the kept regional blocks kept changing while read")


def protected(view: View, block: Block) -> Read:
    """One block's figures and pattern as kept (``read``)."""
    return read(view, [block])[0]


# The periodic job ----------------------------------------------------------------------------


def due_years(today: dt.date) -> set[int]:
    """The years the job keeps ready even before anyone asks: the current one, and the one of
    the current quarter of weeks."""
    return years_of([today])


def refresh_all(now: dt.datetime | None = None) -> str:
    """Every network's stale or missing years computed again (the periodic job)."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    done = []
    for network in Network.objects.filter(societies__isnull=False).distinct():
        view = network_view(network.pk)
        if view is None:
            continue
        digest = places_digest(Places.of(view))
        kept = {e.year: e for e in RegionalYear.objects.filter(network=network)}
        years = sorted(
            {year for year, e in kept.items() if e.stale or e.places != digest}
            | {year for year in due_years(today) if year not in kept or not kept[year].computed_at}
        )
        computed: set[int] = set()
        for year in years:
            if year in computed:  # computed with a year tied to it
                continue
            # A large network's year can take longer than the job's lock lasts: held on while
            # it computes, so requests keep showing the kept year rather than computing too.
            JobLock.objects.filter(name=JOB, held_until__gt=timezone.now()).update(
                held_until=timezone.now() + HOLD
            )
            fresh = compute(view, network.pk, year)
            computed |= set(fresh)
            done.append(f"{network.slug} {'+'.join(str(y) for y in sorted(fresh))}")
    return f"computed: {', '.join(done)}" if done else "nothing to compute"
