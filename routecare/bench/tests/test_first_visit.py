"""The bench's first visit of a public page in Chromium (issue 19, item 4): the page within the
50 KB budget, downloaded once, and the offline prefetch counted apart."""

from __future__ import annotations

import os

import pytest

from routecare.bench.directory import first_visit_in_browser
from routecare.demo.loader import load_demo
from routecare.orgs.models import ServicePoint

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_first_visit_is_light_counted_once_and_the_prefetch_apart(
    allow_async_unsafe: None,
) -> None:
    load_demo()
    figures = first_visit_in_browser("HN")
    if "skipped" in figures:
        if os.environ.get("ROUTECARE_REQUIRE_BROWSER"):  # as the browser fixture does in CI
            pytest.fail(f"ROUTECARE_REQUIRE_BROWSER is set but {figures['skipped']}")
        pytest.skip(figures["skipped"])
    assert 0 < figures["public_first_visit_bytes"] <= 50 * 1024
    # The page, its two scripts and the service worker's script: the page itself only once.
    assert figures["public_first_visit_document_requests"] == 1
    own_points = ServicePoint.objects.filter(
        national_society__country_code="HN", visibility=ServicePoint.Visibility.PUBLIC
    ).count()
    # Each of the country's point pages, the FAQ, the feedback form and the offline page.
    assert figures["public_offline_prefetch_requests"] >= own_points + 3
    assert figures["public_offline_prefetch_bytes"] > 0
