"""Feedback along the route: who it reaches, who never sees it, how it is handled, and what
a person gets back (a receipt, an answer)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from routecare.access import Actor, build_actor
from routecare.conftest import sign_in_client
from routecare.feedback import actions, selectors
from routecare.feedback.models import Category, Feedback, FeedbackNote, Status
from routecare.feedback.tests.conftest import Balkans
from routecare.indicators import disclosure
from routecare.notifications.models import Notification


def _actor(user: User) -> Actor:
    actor = build_actor(user, None)
    assert actor is not None
    return actor


def _submit(balkans: Balkans, about: str, category: str = "complaint", **values: Any) -> Feedback:
    defaults: dict[str, Any] = {
        "text": "We were refused water at the border.",
        "language": "fa",
        "form_token": f"token-{about}-{category}-{Feedback.objects.count():04d}",
    }
    item, created = actions.submit_feedback(
        about=actions.parse_about(balkans.network, about, public_only=True),
        category=category, received_by=balkans.slovenia.society, **(defaults | values),
    )  # fmt: skip
    assert created
    return item


def test_it_reaches_the_society_it_is_about_not_the_one_that_took_it(
    balkans: Balkans, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        item = _submit(balkans, f"point:{balkans.serbia.point.code}")

    assert item.about_society == balkans.serbia.society
    serbian, slovenian = _actor(balkans.serbia.focal_point), _actor(balkans.slovenia.focal_point)
    assert list(selectors.inbox(serbian)) == [item]
    assert list(selectors.inbox(slovenian)) == []
    assert [r.reference for r in selectors.receipts(slovenian)] == [item.reference]
    assert selectors.receipts(serbian) == []
    # Notified: Serbia's focal points (not its safeguarding one, this is not sensitive).
    notified = set(Notification.objects.values_list("user__username", flat=True))
    assert notified == {"rs-focal"}
    assert "water" not in Notification.objects.get().title  # no content in notifications


def test_sensitive_feedback_reaches_safeguarding_focal_points_only(
    balkans: Balkans, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        item = _submit(balkans, f"point:{balkans.serbia.point.code}", category="sensitive")

    ordinary = [balkans.serbia.focal_point, balkans.serbia.coordinator, balkans.regional,
                balkans.slovenia.focal_point]  # fmt: skip
    for user in ordinary:
        actor = _actor(user)
        assert list(selectors.inbox(actor)) == []
        assert list(selectors.safeguarding_inbox(actor)) == []
        assert not actions.may_handle(actor, item)
    for user in (balkans.serbian_safeguarding, balkans.regional_safeguarding):
        actor = _actor(user)
        assert list(selectors.inbox(actor)) == []  # never in ordinary lists
        assert list(selectors.safeguarding_inbox(actor)) == [item]
    notified = set(Notification.objects.values_list("user__username", flat=True))
    assert notified == {"rs-safeguarding", "ifrc-safeguarding"}
    board = selectors.trends(_actor(balkans.regional), timezone.now().date())
    assert board is not None
    assert board.total == 0  # nor in trends
    pages = {
        balkans.serbia.focal_point: 404, balkans.serbian_safeguarding: 200,
        balkans.regional_safeguarding: 200, balkans.regional: 404,
    }  # fmt: skip
    for user, status in pages.items():
        assert sign_in_client(user).get(f"/feedback/{item.pk}/").status_code == status


def test_feedback_about_routecare_goes_to_the_ifrc_cluster(balkans: Balkans) -> None:
    item = _submit(balkans, "general", category="suggestion")
    assert item.about_society is None
    assert list(selectors.inbox(_actor(balkans.regional))) == [item]
    assert list(selectors.inbox(_actor(balkans.serbia.focal_point))) == []


def test_handling_times_assignment_notes_and_an_emailed_answer(
    balkans: Balkans, django_capture_on_commit_callbacks: Any
) -> None:
    item = _submit(
        balkans, f"society:{balkans.serbia.society.country_code}", category="question",
        contact_consent=True, contact_method="email", contact_value="p@example.org",
    )  # fmt: skip
    focal = _actor(balkans.serbia.focal_point)
    coordinator = _actor(balkans.serbia.coordinator)
    assert not actions.may_handle(coordinator, item)

    actions.change_status(focal, item, Status.ACKNOWLEDGED)
    actions.assign(focal, item, balkans.serbia.coordinator)
    assert list(selectors.inbox(coordinator)) == [item]
    with pytest.raises(ValidationError):
        actions.assign(focal, item, balkans.slovenia.coordinator)  # another society's
    actions.add_note(coordinator, item, "Checked with the team at the point.")
    with pytest.raises(ValidationError):
        actions.add_note(coordinator, item, "   ")
    with django_capture_on_commit_callbacks(execute=True):
        actions.respond(coordinator, item, "Water is free at every point; we are sorry.")
    actions.change_status(coordinator, item, Status.RESOLVED)

    item.refresh_from_db()
    assert item.acknowledged_at is not None
    assert item.resolved_at is not None
    assert item.acknowledged_at <= item.resolved_at
    assert FeedbackNote.objects.filter(feedback=item).count() == 1
    (sent,) = mail.outbox
    assert sent.to == ["p@example.org"]
    assert "free at every point" in sent.body
    assert item.responses.get().sent_at is not None
    with pytest.raises(ValidationError):
        actions.change_status(focal, item, Status.NEW)
    board = selectors.trends(focal, timezone.now().date() - dt.timedelta(days=1))
    assert board is not None
    assert board.acknowledge_hours_median is not None


def test_an_answer_needs_a_way_to_reach_the_person(balkans: Balkans) -> None:
    item = _submit(balkans, "general")
    with pytest.raises(ValidationError):
        actions.respond(_actor(balkans.regional), item, "Thanks")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"text": "   "}, "text"),
        ({"text": "x" * 2001}, "text"),
        ({"contact_value": "+38160123456"}, "contact_consent"),  # no consent
        ({"contact_consent": True, "contact_method": "email", "contact_value": "nope"},
         "contact_value"),
        ({"contact_consent": True, "contact_method": "sms", "contact_value": "0601234"},
         "contact_value"),  # no country code
        ({"contact_consent": True, "contact_method": "pigeon", "contact_value": "+381601"},
         "contact_method"),
        ({"form_token": "short"}, "form_token"),
        ({"language": "xx"}, "language"),
    ],
)  # fmt: skip
def test_bad_feedback_is_refused_and_nothing_stored(
    balkans: Balkans, values: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        _submit(balkans, "general", **values)
    assert field in refused.value.error_dict
    assert not Feedback.objects.exists()


def test_unknown_or_other_networks_places_are_refused(balkans: Balkans, own: Any) -> None:
    for about in ("point:nowhere", f"point:{own.point.code}", "society:XX", "elsewhere", ""):
        with pytest.raises(ValidationError):
            actions.parse_about(balkans.network, about, public_only=True)


def test_the_same_form_sent_twice_is_stored_once(balkans: Balkans) -> None:
    first = _submit(balkans, "general", form_token="x" * 20)
    again, created = actions.submit_feedback(
        about=actions.parse_about(balkans.network, "general", public_only=True),
        category="complaint", text="again", language="fa", form_token="x" * 20,
    )  # fmt: skip
    assert (again, created) == (first, False)
    assert Feedback.objects.count() == 1


def test_text_is_encrypted_at_rest(balkans: Balkans) -> None:
    from django.db import connection

    _submit(balkans, "general", text="a secret complaint")
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM feedback_feedback")
        (stored,) = cursor.fetchone()
    assert "secret" not in stored


def test_regional_trends_suppress_small_cells(balkans: Balkans) -> None:
    for n in range(7):
        _submit(balkans, f"society:{balkans.serbia.society.country_code}", form_token=f"t{n:020d}")
    _submit(balkans, f"society:{balkans.slovenia.society.country_code}", category="praise")
    board = selectors.trends(_actor(balkans.regional), timezone.now().date())
    assert board is not None
    shown = dict(zip(board.row_labels, board.protected.shown(disclosure.HIDDEN), strict=False))
    assert disclosure.HIDDEN in shown["Slovenian Red Cross"]
    assert "1" not in shown["Slovenian Red Cross"]  # neither the cell nor its row total
    assert "<5" not in [cell for row in board.protected.shown(disclosure.HIDDEN) for cell in row]
    own_board = selectors.trends(_actor(balkans.serbia.focal_point), timezone.now().date())
    assert own_board is not None
    assert own_board.total == 7
    assert own_board.protected.shown()[-1][0] == "7"  # its own figures are not suppressed


def test_a_category_is_one_of_the_known_ones() -> None:
    assert set(Category.values) == {"complaint", "praise", "question", "suggestion", "sensitive"}


def test_public_pages_store_once_rate_limit_and_answer(balkans: Balkans, settings: Any) -> None:
    settings.ROUTECARE_FEEDBACK_PER_HOUR = 3  # refused attempts count too
    client = Client()
    url = "/fa/feedback/?country=SI"
    page = client.get(url)
    assert page.status_code == 200
    assert 'dir="rtl"' in page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0")
    body = {"about": f"point:{balkans.serbia.point.code}", "category": "complaint",
            "text": "<script>alert(1)</script> refused", "form_token": "f" * 24}  # fmt: skip
    sent = client.post(url, body)
    assert sent.status_code == 200
    reference = Feedback.objects.get().reference
    assert reference in sent.content.decode()
    assert client.post(url, body).status_code == 200  # a reload: the same receipt
    assert Feedback.objects.count() == 1
    refused = client.post(url, body | {"text": "", "form_token": "g" * 24})
    assert refused.status_code == 400
    assert Feedback.objects.count() == 1
    assert client.post(url, body | {"form_token": "h" * 24}).status_code == 200
    assert client.post(url, body | {"form_token": "i" * 24}).status_code == 429
    assert client.post(url, body | {"website": "spam", "form_token": "j" * 24}).status_code == 400
    assert Feedback.objects.count() == 2

    item = Feedback.objects.get(reference=reference)
    detail = sign_in_client(balkans.serbia.focal_point).get(f"/feedback/{item.pk}/")
    assert "&lt;script&gt;" in detail.content.decode()  # inert
    assert "<script>alert" not in detail.content.decode()
    answer = client.post("/fa/feedback/answer/", {"reference": reference.lower()})
    assert answer.status_code == 200
    assert reference in answer.content.decode()
    assert client.post("/fa/feedback/answer/", {"reference": "FB-0000-0000"}).status_code == 404
    assert client.get("/xx/feedback/").status_code == 302
    assert client.get("/fa/feedback/").status_code == 200  # choose a country first
