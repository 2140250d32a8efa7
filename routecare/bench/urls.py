"""The bench-only URLconf: the whole project plus the bare Django view and the floor.

Activated with ``override_settings(ROOT_URLCONF="routecare.bench.urls")`` while measuring; the
project's own URLconf never serves the bare view or the floor.
"""

from django.urls import include, path

from routecare.bench.views import bare, floor_lookup, floor_write

BARE_PATH = "bench/bare"
FLOOR_LOOKUP_PATH = "bench/floor/lookup"
FLOOR_WRITE_PREFIX = "bench/floor/people/"

urlpatterns = [
    path(BARE_PATH, bare, name="bench-bare"),
    path(FLOOR_LOOKUP_PATH, floor_lookup, name="bench-floor-lookup"),
    path(FLOOR_WRITE_PREFIX + "<uuid:person_id>/encounters", floor_write, name="bench-floor-write"),
    path("", include("routecare.urls")),
]
