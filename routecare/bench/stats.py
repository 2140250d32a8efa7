"""Summaries of measured durations."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: always a value that was measured, never an interpolation."""
    if not values:
        raise ValueError("no values to summarise")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summarise(durations_ms: Sequence[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(durations_ms, 50), 3),
        "p95": round(percentile(durations_ms, 95), 3),
        "p99": round(percentile(durations_ms, 99), 3),
        "mean": round(sum(durations_ms) / len(durations_ms), 3),
        "max": round(max(durations_ms), 3),
    }


def ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 2) if denominator > 0 else math.inf
