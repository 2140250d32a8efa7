"""The random-data cases of ``test_disclosure_granularities``, too slow for ``make test`` (a
few minutes each on SQLite): run them by path,
``pytest routecare/indicators/tests/attack_across_granularities.py``.

They are arithmetic on the figures read; that the figures are the same on both databases is
checked in both passes (``test_disclosure_granularities``' demo case and test_agreement.py),
so they run on SQLite only.
"""

from __future__ import annotations

import pytest
from django.conf import settings

from routecare.indicators.tests.test_disclosure_granularities import check_granularities


@pytest.mark.parametrize("seed", [11, 5, 3])
def test_no_small_count_is_recovered_across_granularities_on_random_data(
    db: None, seed: int
) -> None:
    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("random-data attacks run in the SQLite pass")
    check_granularities(seed)
