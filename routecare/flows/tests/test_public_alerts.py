"""Alerts marked public: staff write a public wording per language people read (apart from the
staff message), never for a group movement; bad wording is refused with a message and stores
nothing, through the action, the form and the API; only those who send alerts mark them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from routecare.audit.models import AuditEvent
from routecare.conftest import Society
from routecare.flows import actions
from routecare.flows.models import Alert

pytestmark = pytest.mark.django_db

STAFF_MESSAGE = "Closed after threats by a local group; staff withdrawn"
PUBLIC_ES = "El punto de Danlí está cerrado hasta el lunes. Vaya a El Paraíso."


def _send(society: Society, role: str = "coordinator", **values: Any) -> Alert:
    defaults: dict[str, Any] = {
        "kind": "closure", "severity": "warning", "message": STAFF_MESSAGE, "scope": "network",
    }  # fmt: skip
    defaults.update(values)
    return actions.send_alert(society.actor(role), **defaults)


def test_a_coordinator_marks_an_alert_public_in_the_languages_written(
    own: Society, other: Society
) -> None:
    alert = _send(own, public_texts={"es": f"  {PUBLIC_ES} ", "fa": "", "fr": "Fermé."})
    alert.refresh_from_db()
    # Trimmed; a blank box is a language not written.
    assert alert.public_texts == {"es": PUBLIC_ES, "fr": "Fermé."}
    assert alert.is_public
    event = AuditEvent.objects.get(object_type="alert", object_id=str(alert.pk))
    assert "public (es, fr)" in event.detail
    assert "Danlí" not in event.detail
    assert "Fermé" not in event.detail


def test_an_alert_without_public_wording_is_not_public(own: Society, other: Society) -> None:
    alert = _send(own)
    assert alert.public_texts == {}
    assert not alert.is_public
    assert "public" not in AuditEvent.objects.get(object_type="alert").detail


def test_a_focal_point_may_mark_an_alert_public(own: Society, other: Society) -> None:
    assert _send(own, "focal_point", public_texts={"en": "Closed today."}).is_public


def test_a_group_movement_is_never_public(own: Society, other: Society) -> None:
    with pytest.raises(ValidationError, match="never made public"):
        _send(own, kind="group-movement", group_size=300, public_texts={"es": "Grupo al norte"})
    assert not Alert.objects.exists()
    # Without public wording, the group movement goes to staff as before.
    assert not _send(own, kind="group-movement", group_size=300).is_public


@pytest.mark.parametrize(
    ("public_texts", "message"),
    [
        ({"xx": "Closed"}, "Unknown language xx"),
        ({"de": "Geschlossen"}, "Unknown language de"),
        ({"es": "a" * 501}, "500 characters"),
        ({"es": "Cerrado\x00"}, "control characters"),
        ({"ar": "مغلق\u202e"}, "direction-control"),
        ({"es": 5}, "by its code"),
        ("Cerrado", "by its code"),
        (["es", "Cerrado"], "by its code"),
    ],
)
def test_bad_public_wording_is_refused_and_nothing_is_stored(
    own: Society, other: Society, public_texts: Any, message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as refused:
        _send(own, public_texts=public_texts)
    assert "public_texts" in refused.value.message_dict
    assert not Alert.objects.exists()
    assert not AuditEvent.objects.filter(object_type="alert").exists()


def test_a_volunteer_cannot_mark_an_alert_public(
    own: Society, other: Society, web: Callable[..., Client], api: Callable[..., Client]
) -> None:
    with pytest.raises(PermissionError):
        _send(own, "volunteer", public_texts={"es": PUBLIC_ES})
    posted = web(own.volunteer, own.point).post(
        "/flows/alerts/new/",
        {"kind": "closure", "severity": "info", "message": "x", "scope": "network",
         "hours": "24", "public_es": PUBLIC_ES},
    )  # fmt: skip
    assert posted.status_code == 403
    sent = api(own.volunteer, own.point).post(
        "/api/v1/flows/alerts",
        {"kind": "closure", "message": "x", "scope": "network", "public_texts": {"es": "y"}},
        "application/json",
    )
    assert sent.status_code == 403
    assert not Alert.objects.exists()


def test_the_form_has_a_public_box_per_language_named_in_itself(
    own: Society, other: Society, web: Callable[..., Client]
) -> None:
    page = web(own.coordinator, own.point).get("/flows/alerts/").content.decode()
    assert "Public wording for people on the move (optional)" in page
    for code, name in (("en", "English"), ("es", "español"), ("fa", "فارسی"), ("ps", "پښتو")):
        assert f'name="public_{code}"' in page
        assert f">{name}:</label>" in page, code
    farsi = re.search(r'<textarea[^>]*name="public_fa"[^>]*>', page)
    assert farsi is not None
    assert 'dir="rtl"' in farsi.group()
    assert 'lang="fa"' in farsi.group()
    # Without JavaScript: plain textareas in the one form that posts.
    assert '<textarea name="public_ur"' in page


def test_the_form_sends_a_public_alert(
    own: Society, other: Society, web: Callable[..., Client]
) -> None:
    client = web(own.coordinator, own.point)
    answer = client.post(
        "/flows/alerts/new/",
        {"kind": "outbreak", "severity": "warning", "message": "Dengue peak, 3 cases at the HSP",
         "scope": "network", "hours": "24", "public_es": "Muchos casos de dengue en Danlí.",
         "public_en": "", "public_ar": "حمى الضنك في دانلي."},
    )  # fmt: skip
    assert answer.status_code == 302
    alert = Alert.objects.get()
    assert alert.public_texts == {
        "es": "Muchos casos de dengue en Danlí.",
        "ar": "حمى الضنك في دانلي.",
    }
    assert b"also sent to the public" in client.get("/flows/alerts/").content


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"kind": "group-movement", "public_es": "Grupo hacia el norte"}, "never made public"),
        ({"public_fr": "x" * 501}, "at most 500 characters"),
        ({"public_fa": "بسته\u202e"}, "direction-control"),
    ],
)
def test_the_form_refuses_bad_public_wording_without_a_500(
    own: Society, other: Society, web: Callable[..., Client], values: dict[str, str], message: str
) -> None:
    data = {"kind": "closure", "severity": "info", "message": STAFF_MESSAGE, "scope": "network",
            "hours": "24", **values}  # fmt: skip
    answer = web(own.coordinator, own.point).post("/flows/alerts/new/", data)
    assert answer.status_code == 200
    assert message in answer.content.decode()
    assert not Alert.objects.exists()


def test_the_api_marks_an_alert_public(
    own: Society, other: Society, api: Callable[..., Client]
) -> None:
    sent = api(own.coordinator, own.point).post(
        "/api/v1/flows/alerts",
        {"kind": "security", "message": STAFF_MESSAGE, "scope": "network",
         "public_texts": {"es": PUBLIC_ES, "en": "  "}},
        "application/json",
    )  # fmt: skip
    assert sent.status_code == 201
    assert sent.json()["public_texts"] == {"es": PUBLIC_ES}
    assert Alert.objects.get().public_texts == {"es": PUBLIC_ES}
    listed = api(other.volunteer, other.point).get("/api/v1/flows/alerts").json()
    assert listed[0]["public_texts"] == {"es": PUBLIC_ES}


@pytest.mark.parametrize(
    ("public_texts", "message"),
    [
        ({"xx": "Closed"}, "Unknown language xx"),
        ({"es": "a" * 501}, "at most 500 characters"),
        ({"es": "Cerrado\u202e"}, "direction-control"),
        ({"es": 5}, "Enter a valid value"),
        ("Cerrado", "Send a JSON object"),
        (["es"], "Send a JSON object"),
        (None, "Send a JSON object"),
    ],
)
def test_the_api_refuses_bad_public_wording_with_a_message(
    own: Society, other: Society, api: Callable[..., Client], public_texts: Any, message: str
) -> None:
    sent = api(own.coordinator, own.point).post(
        "/api/v1/flows/alerts",
        {"kind": "closure", "message": "x", "scope": "network", "public_texts": public_texts},
        "application/json",
    )
    assert sent.status_code == 422
    assert message in str(sent.json()["detail"])
    assert not Alert.objects.exists()


def test_the_api_refuses_a_public_group_movement(
    own: Society, other: Society, api: Callable[..., Client]
) -> None:
    sent = api(own.coordinator, own.point).post(
        "/api/v1/flows/alerts",
        {"kind": "group-movement", "message": "300 people left northwards", "scope": "network",
         "group_size": 300, "public_texts": {"es": "Un grupo sale hacia el norte"}},
        "application/json",
    )  # fmt: skip
    assert sent.status_code == 422
    assert sent.json()["detail"] == {
        "public_texts": ["A group movement is never made public: remove the public wording."]
    }
    assert not Alert.objects.exists()
