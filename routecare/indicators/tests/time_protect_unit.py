"""CPU time of a year's protection (``regional.system.protect_unit``), on the demo data and
with random activity added (the seeds of the attacks): run by path, it prints the figures
and asserts nothing about them,
``pytest -s routecare/indicators/tests/time_protect_unit.py``.
"""

from __future__ import annotations

import hashlib
import time

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from routecare.demo.loader import load_demo
from routecare.indicators.regional import system
from routecare.indicators.regional.cells import Places, load
from routecare.indicators.tests.test_disclosure_filters import _network, _random_activity


@pytest.mark.parametrize("seed", [None, 11])
def test_cpu_time_of_a_years_protection(db: None, seed: int | None) -> None:
    load_demo()
    if seed is not None:
        _random_activity(seed)
    view, _ = _network(get_user_model().objects.get(username="americas-regional"))
    year = timezone.localdate().year
    started = time.process_time()
    places = Places.of(view)
    for block in system.unit_blocks(year):
        data = load(view, block)
        if not data.empty():
            system.system(view, block, places, data)
    systems = time.process_time() - started
    started = time.process_time()
    unit = system.protect_unit(view, year)
    whole = time.process_time() - started
    hidden = sum(len(protected.hidden) for protected in unit.values())
    # The pattern's fingerprint: the same before and after a change that keeps the result.
    pattern = sorted(
        (repr(space), sorted(map(repr, found.hidden))) for space, found in unit.items()
    )
    print(
        f"\nseed {seed}: protect_unit {whole:.2f} s of CPU, of which reading the blocks and "
        f"building their systems about {systems:.2f} s; {hidden} cells hidden, pattern "
        f"{hashlib.sha256(repr(pattern).encode()).hexdigest()[:12]}"
    )
    assert hidden, "the data has small counts"
