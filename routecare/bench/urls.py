"""The bench-only URLconf: the whole project plus the bare Django view.

Activated with ``override_settings(ROOT_URLCONF="routecare.bench.urls")`` while measuring; the
project's own URLconf never serves the bare view.
"""

from django.urls import include, path

from routecare.bench.views import bare

BARE_PATH = "bench/bare"

urlpatterns = [
    path(BARE_PATH, bare, name="bench-bare"),
    path("", include("routecare.urls")),
]
