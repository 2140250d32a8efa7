"""Directory figures: the public page's first-load size, and the directory API on a long route.

The long route is a bench-only network (created once, kept): 500 public points along one
route, in a country of its own, so the demo countries' pages stay as they are.
"""

from __future__ import annotations

import gzip
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders
from django.db import transaction
from django.test import Client

from routecare.bench.stats import summarise
from routecare.core import caching
from routecare.directory.selectors import PUBLIC_PAGES
from routecare.orgs.models import NationalSociety, Network, Route, RouteStop, ServicePoint

ROUTE_POINTS = 500
BENCH_COUNTRY = "XB"  # not a real country: a bench-only network
# What the list page loads besides itself (deferred; the map's libraries load on request).
SCRIPTS = ("directory/services.js", "directory/map.js")


@transaction.atomic
def ensure_long_route() -> ServicePoint:
    network, _ = Network.objects.get_or_create(slug="bench-route", defaults={"name": "Bench route"})
    society, _ = NationalSociety.objects.get_or_create(
        country_code=BENCH_COUNTRY, defaults={"name": "Bench Red Cross", "network": network}
    )
    route, created = Route.objects.get_or_create(
        slug="bench-long", defaults={"name": "Bench long route", "network": network}
    )
    if created:
        services = (["water", "first-aid"], ["water", "medicines", "health-primary"])
        points = ServicePoint.objects.bulk_create(
            ServicePoint(
                national_society=society,
                code=f"bench-{n:03d}",
                name=f"Bench point {n}",
                latitude=Decimal("10") + Decimal(n) / 100,
                longitude=Decimal("-80") + Decimal(n) / 200,
                services=services[n % 5 == 0],
                visibility="public",
                opening_hours=[{"day": d, "opens": "08:00", "closes": "18:00"} for d in range(7)],
            )
            for n in range(ROUTE_POINTS)
        )
        RouteStop.objects.bulk_create(
            RouteStop(
                route=route, position=n, service_point=point, hours_from_previous=Decimal("0.5")
            )
            for n, point in enumerate(points)
        )
    return ServicePoint.objects.get(code="bench-000")


def first_load_bytes(client: Client) -> dict[str, Any]:
    """The largest demo country's public page, as a browser first loads it: the page gzipped
    (as served) and its scripts gzipped (as whitenoise serves them); map tiles excluded."""
    script_bytes = 0
    for name in SCRIPTS:
        found = finders.find(name)
        script_bytes += len(gzip.compress(Path(str(found)).read_bytes())) if found else 0
    sizes = {}
    for country in NationalSociety.objects.exclude(country_code=BENCH_COUNTRY).values_list(
        "country_code", flat=True
    ):
        response = client.get(f"/en/services/?country={country}", HTTP_ACCEPT_ENCODING="gzip")
        sizes[country] = len(response.content)
    largest = max(sizes, key=lambda code: sizes[code])
    return {
        "country": largest,
        "page_gzip_bytes": sizes[largest],
        "script_gzip_bytes": script_bytes,
        "total_bytes": sizes[largest] + script_bytes,
        "requests": 1 + len(SCRIPTS),
    }


def measure_directory(requests: int) -> dict[str, Any]:
    start = ensure_long_route()
    client = Client()
    timings: dict[str, list[float]] = {"list": [], "next_along": []}
    urls = {
        "list": f"/api/v1/public/service-points?country={BENCH_COUNTRY}",
        "next_along": f"/en/services/?country={BENCH_COUNTRY}&from={start.code}&service=medicines",
    }
    for name, url in urls.items():
        for index in range(requests + 5):
            # Public pages are cached for a minute per address: measure drawing one, what the
            # first visitor of each minute waits for.
            caching.changed(PUBLIC_PAGES)
            began = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - began) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")
            if index >= 5:  # the first requests warm caches up
                timings[name].append(elapsed)
    return {
        "route_points": ROUTE_POINTS,
        "public_api_list_ms": summarise(timings["list"]),
        "public_page_next_along_ms": summarise(timings["next_along"]),
        "public_page_first_load": first_load_bytes(client),
    }
