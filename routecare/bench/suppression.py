"""The regional dashboard drawn cold: what a regional visitor waits for when no protected
year is kept for the view (``indicators.regional.store``: the periodic job keeps them, so
only a new network, new points or routes, or a worker stopped for longer than the lag bring
this about): the year of the view's blocks protected in the request. The bench's other
dashboard figures read the kept years (and the dashboards' caches)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client

from routecare.bench.indicators import NETWORK, REGIONAL_USER, VARIANTS
from routecare.bench.stats import summarise
from routecare.core import caching
from routecare.indicators.models import RegionalYear
from routecare.indicators.regional import store
from routecare.indicators.rollups import CACHE_KIND
from routecare.orgs.models import NationalSociety, Route

Log = Callable[[str], None]


def measure_cold_dashboards(
    repeats: int = 2, log: Log = print, views: int | None = None
) -> dict[str, Any]:
    """Each bench view of the regional dashboard (the first ``views`` of them) ``repeats``
    times, the network's kept years and every cache of dashboards dropped before each
    request."""
    client = Client()
    client.force_login(get_user_model().objects.get(username=REGIONAL_USER))
    route = Route.objects.filter(slug__startswith="bench-ind-").order_by("slug")[0]
    society = NationalSociety.objects.filter(network__slug=NETWORK).order_by("country_code")[0]
    timings: dict[str, list[float]] = {}
    for label, query in VARIANTS[:views]:
        log(f"indicators: {label} drawn cold")
        url = "/indicators/?" + query.format(route=route.pk, society=society.pk)
        for _ in range(repeats):
            RegionalYear.objects.filter(network__slug=NETWORK).delete()
            store.forget_computed()  # computed from the figures, not remembered
            caching.changed(CACHE_KIND)
            caching.SHARED.clear()
            began = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - began) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")
            timings.setdefault(label, []).append(elapsed)
    everything = [ms for values in timings.values() for ms in values]
    return {
        "regional_dashboard_cold_ms": summarise(everything),
        "regional_dashboard_cold_p95_ms_by_view": {
            label: summarise(values)["p95"] for label, values in timings.items()
        },
    }
