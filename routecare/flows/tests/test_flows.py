"""Daily counts (entered or derived, corrections audited, impossible counts refused) and
alerts (downstream, network, societies; expiry; acknowledgement; dashboards)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from routecare.audit.models import AuditEvent
from routecare.conftest import Society, register
from routecare.flows import actions, selectors
from routecare.flows.models import DailyCount
from routecare.flows.tests.conftest import actor_at as _actor_at
from routecare.orgs.models import Route
from routecare.people import actions as people_actions


def test_a_coordinator_enters_and_corrects_a_count(own: Society) -> None:
    today = timezone.localdate()
    coordinator = own.actor("coordinator")
    actions.record_daily_count(coordinator, day=today, people=40, new_arrivals=25, departures=10)
    actions.record_daily_count(
        coordinator,
        day=today,
        people=42,
        new_arrivals=25,
        departures=10,
        by_sex_and_age={"female": {"18-59": 20}, "male": {"18-59": 22}},
    )
    count = DailyCount.objects.get()
    assert count.people == 42
    assert AuditEvent.objects.filter(object_type="daily_count", action="change").exists()
    assert selectors.day_count(own.point, today).source == "entered"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"people": -1}, "0 to 100000"),
        ({"people": 10, "departures": 11}, "More departures"),
        ({"people": 10, "new_arrivals": 11}, "More new arrivals"),
        ({"people": 10, "by_sex_and_age": {"female": {"18-59": 4}}}, "adds up to 4"),
        ({"people": 10, "by_sex_and_age": {"robot": {"18-59": 10}}}, "Unknown sex"),
    ],
)
def test_impossible_counts_are_refused(
    own: Society, values: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        actions.record_daily_count(own.actor("coordinator"), day=timezone.localdate(), **values)  # type: ignore[arg-type]
    assert not DailyCount.objects.exists()


def test_volunteers_do_not_enter_counts(own: Society) -> None:
    with pytest.raises(PermissionError):
        actions.record_daily_count(own.actor(), day=timezone.localdate(), people=1)


def test_without_an_entered_count_the_day_is_derived_from_encounters(own: Society) -> None:
    for sex in ("female", "male"):
        person = register(own, sex=sex)
        people_actions.record_encounter(own.actor(), person, services=[("water", 1)])
        people_actions.record_encounter(own.actor(), person, services=[("food", 1)])
    derived = selectors.day_count(own.point, timezone.localdate())
    assert derived.source == "derived"
    assert derived.people == 2
    assert derived.by_sex_and_age == {"female": {"18-59": 1}, "male": {"18-59": 1}}


def test_an_alert_from_darien_reaches_honduras_and_not_the_balkans(
    demo: None, web: Callable[..., Client]
) -> None:
    darien = _actor_at("pan-lajas-blancas", "focal")
    alert = actions.send_alert(
        darien,
        kind="group-movement",
        severity="warning",
        message="About 300 people left the jungle today heading north",
        scope="downstream",
        route=Route.objects.get(slug="darien-north"),
        group_size=300,
        direction="north",
    )
    honduras = _actor_at("hnd-danli", "volunteer")
    serbia = _actor_at("srb-belgrade", "volunteer")
    assert alert in selectors.active_alerts(honduras)
    assert selectors.active_alerts(serbia) == []
    upstream = _actor_at("col-necocli", "volunteer")
    assert selectors.active_alerts(upstream) == []
    later = timezone.now() + dt.timedelta(hours=49)
    assert selectors.active_alerts(honduras, later) == []
    # On the dashboards themselves.
    message = b"About 300 people left the jungle today"
    for code, shown in (("hnd-danli", True), ("gtm-esquipulas", True), ("srb-belgrade", False),
                        ("mkd-tabanovce", False)):  # fmt: skip
        actor = _actor_at(code, "volunteer")
        assert (message in web(actor.user, actor.service_point).get("/").content) is shown, code


def test_an_alert_shows_on_the_dashboard_and_is_acknowledged(
    own: Society, other: Society, web: Callable[..., Client]
) -> None:
    alert = actions.send_alert(
        own.actor("coordinator"),
        kind="closure",
        severity="critical",
        message="Point closed until Monday",
        scope="societies",
        societies=[other.society],
    )
    client = web(other.volunteer, other.point)
    assert b"Point closed until Monday" in client.get("/").content
    client.post(f"/flows/alerts/{alert.pk}/acknowledge/", {"next": "/"})
    assert alert.acknowledgements.get().national_society == other.society
    assert b"Point closed until Monday" not in web(own.volunteer, own.point).get("/").content


def test_alerts_to_other_networks_are_refused(own: Society, outsider: Society) -> None:
    with pytest.raises(ValidationError):
        actions.send_alert(
            own.actor("coordinator"),
            kind="security",
            severity="info",
            message="road blocked",
            scope="societies",
            societies=[outsider.society],
        )


def test_the_count_page_saves_a_count(own: Society, web: Callable[..., Client]) -> None:
    client = web(own.coordinator, own.point)
    today = timezone.localdate().isoformat()
    response = client.post(
        "/flows/counts/", {"day": today, "people": "12", "new_arrivals": "5", "departures": "3"}
    )
    assert response.status_code == 302
    page = client.get("/flows/counts/").content.decode()
    assert f'data-day="{today}"' in page
    assert DailyCount.objects.get().people == 12
    refused = client.post("/flows/counts/", {"day": today, "people": "5", "departures": "9"})
    assert b"More departures" in refused.content
    assert DailyCount.objects.get().people == 12


def test_the_alert_page_sends_an_alert(
    own: Society, other: Society, web: Callable[..., Client]
) -> None:
    client = web(own.coordinator, own.point)
    response = client.post(
        "/flows/alerts/new/",
        {
            "kind": "outbreak",
            "severity": "warning",
            "message": "Dengue peak",
            "scope": "network",
            "hours": "24",
        },
    )
    assert response.status_code == 302
    assert b"Dengue peak" in web(other.volunteer, other.point).get("/flows/alerts/").content


def test_api_counts_and_alerts(own: Society, other: Society, api: Callable[..., Client]) -> None:
    client = api(own.coordinator, own.point)
    today = timezone.localdate().isoformat()
    saved = client.post("/api/v1/flows/counts", {"day": today, "people": 9}, "application/json")
    assert saved.status_code == 200
    assert saved.json()["source"] == "entered"
    refused = client.post(
        "/api/v1/flows/counts", {"day": today, "people": 2, "departures": 5}, "application/json"
    )
    assert refused.status_code == 422
    assert client.get("/api/v1/flows/counts?days=2").json()[0]["people"] == 9
    sent = client.post(
        "/api/v1/flows/alerts",
        {"kind": "outbreak", "severity": "warning", "message": "measles", "scope": "network"},
        "application/json",
    )
    assert sent.status_code == 201
    listed = api(other.volunteer, other.point).get("/api/v1/flows/alerts").json()
    assert [a["message"] for a in listed] == ["measles"]
    assert api(own.volunteer, own.point).post(
        "/api/v1/flows/counts", {}, "application/json"
    ).status_code in (403, 422)
