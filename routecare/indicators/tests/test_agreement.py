"""Every role's views agree over the demo data: for regional staff, a focal point and a
coordinator, the dashboard page's figures and chart, the API, the CSV and XLSX exports and
libhxl's count by #country give the same numbers, hidden in the same places; and what regional
staff see of a society, when shown, is the society's own figure. The same check runs over the
bench's data in ``make bench`` (``routecare.bench.agreement``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.contrib.auth import get_user_model
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from routecare.bench import agreement
from routecare.demo.loader import load_demo
from routecare.orgs.models import Membership, NationalSociety, Route


def _persona(username: str) -> agreement.Persona:
    user = get_user_model().objects.get(username=username)
    TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
    point = Membership.objects.get(user=user).service_points.first()
    return agreement.Persona(user, point)


def test_every_roles_page_chart_api_and_exports_agree_over_the_demo_data(
    db: None, tmp_path: Path
) -> None:
    load_demo()
    honduras = NationalSociety.objects.get(country_code="HN")
    route = (
        Route.objects.filter(stops__service_point__national_society=honduras)
        .distinct()
        .order_by("slug")
        .first()
    )
    assert route is not None
    today = timezone.localdate()
    year = today.year
    whole_year = f"start={dt.date(year, 1, 1)}&end={dt.date(year, 12, 1)}"
    # Views over two blocks of periods of different lengths (two months by day, two
    # quarters by week): their total is the sum of the blocks' totals.
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    two_blocks = [
        f"granularity=day&start={last_month}",
        f"granularity=week&start={today - dt.timedelta(days=92)}",
    ]
    views = {
        "regional": ("americas-regional", [
            "", "granularity=day", "granularity=week", f"society={honduras.pk}",
            f"route={route.pk}", "sex=female", f"society={honduras.pk}&{whole_year}",
            *two_blocks,
        ]),
        "focal point": ("hn-focal", ["", "granularity=day", f"route={route.pk}", whole_year]),
        "coordinator": ("hn-coordinator", ["", "granularity=week"]),
    }  # fmt: skip
    check = agreement.Check()
    figures: dict[tuple[str, str], dict[str, str]] = {}
    for role, (username, queries) in views.items():
        persona = _persona(username)
        for query in queries:
            found = agreement.check_view(check, role, persona, query, tmp_path, f"{role} {query}")
            figures[(role, query)] = found or {}
    assert check.views == sum(len(queries) for _user, queries in views.values())
    assert check.disagreements == []
    # One definition, one number across roles: Honduras's year, as regional staff see it
    # (hidden or not) and as its focal point does.
    regional = figures[("regional", f"society={honduras.pk}&{whole_year}")]
    own = figures[("focal point", whole_year)]
    assert int(own["people-supported"]) > 0
    assert regional["people-supported"] == own["people-supported"]
    for code, shown in regional.items():
        if shown:
            assert shown == own[code], code
