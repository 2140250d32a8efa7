"""A hybrid logical clock: wall time in milliseconds, a counter, the node id.

It orders a node's changes even when its clock steps back, and lets the server refuse a clock
far in the future. It orders events for display only: merges decide by versions, never by
these times (a node's clock can be wrong by hours).
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone

HLC_PATTERN = re.compile(r"^(\d{13})\.(\d{5})\.([0-9a-f-]{36})$")


def format_hlc(millis: int, counter: int, node_id: str) -> str:
    return f"{millis:013d}.{counter:05d}.{node_id}"


def tick(last: str, node_id: str, now: dt.datetime | None = None) -> str:
    """The next time after ``last`` (empty when none) on this node."""
    wall = int((now or timezone.now()).timestamp() * 1000)
    parsed = HLC_PATTERN.match(last) if last else None
    if parsed is None:
        return format_hlc(wall, 0, node_id)
    last_millis, last_counter = int(parsed.group(1)), int(parsed.group(2))
    if wall > last_millis:
        return format_hlc(wall, 0, node_id)
    return format_hlc(last_millis, min(last_counter + 1, 99999), node_id)


def wall_time(hlc: str) -> dt.datetime | None:
    """The wall time an HLC carries, or None when it is not one."""
    parsed = HLC_PATTERN.match(hlc)
    if parsed is None:
        return None
    return dt.datetime.fromtimestamp(int(parsed.group(1)) / 1000, tz=dt.UTC)
