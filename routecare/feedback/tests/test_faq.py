"""The FAQ: from a question asked in feedback to an approved answer a volunteer finds in
Spanish; versions, who approved, public entries, search on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from routecare.access import Actor
from routecare.conftest import Society, api_client, sign_in_client
from routecare.feedback import actions, faq_actions, search, selectors
from routecare.feedback.models import FaqStatus
from routecare.feedback.tests.conftest import Balkans


def _actor(society: Society, role: str) -> Actor:
    return society.actor(role)


def _question(balkans: Balkans, text: str, token: str) -> Any:
    item, _new = actions.submit_feedback(
        about=actions.parse_about(balkans.network, "society:RS", public_only=True),
        category="question", text=text, language="es", form_token=token * 20,
    )  # fmt: skip
    return item


def test_a_question_becomes_an_approved_answer_a_volunteer_finds(balkans: Balkans) -> None:
    serbia = balkans.serbia
    item = _question(balkans, "¿Dónde consigo medicación para la diabetes?", "a")
    focal = _actor(serbia, "focal_point")

    entry = faq_actions.draft_from_feedback(focal, item)
    assert entry.status == FaqStatus.DRAFT
    assert entry.texts.get().question.startswith("¿Dónde consigo medicación")
    with pytest.raises(ValidationError):  # no answer yet
        faq_actions.approve_entry(focal, entry)
    entry = faq_actions.edit_entry(
        focal, entry, tags=["medicines", "rs"], public=True,
        texts={"es": ("¿Dónde consigo medicamentos para la diabetes?",
                      "En los puntos de servicio con el símbolo 💊, gratis."),
               "fa": ("داروی دیابت را از کجا بگیرم؟", "در نقاط خدمات با نماد 💊، رایگان.")},
    )  # fmt: skip
    entry = faq_actions.approve_entry(focal, entry)
    # Asked again: counted under the entry.
    faq_actions.link_question(focal, _question(balkans, "medicinas diabetes?", "b"), entry)

    volunteer = _actor(balkans.slovenia, "volunteer")  # another society of the network
    for query in ("medicacion diabetes", "MEDICAMENTO", "diabet gratis", "insulina diabetes"):
        hits = selectors.search_faq(volunteer, query, "es")
        assert [hit.entry for hit in hits] == [entry], query
    assert selectors.search_faq(volunteer, "tren horario", "es") == []
    assert selectors.search_faq(volunteer, "دیابت", "fa")[0].entry == entry
    assert selectors.asked_this_month(entry) == 2
    assert len(selectors.questions_of(focal, entry)) == 2
    assert selectors.questions_of(volunteer, entry) == []  # counted, not shown
    history = [(v.number, v.change) for v in entry.versions.order_by("changed_at", "pk")]
    assert history == [(1, "created"), (2, "edited"), (2, "approved")]
    assert entry.approved_by == serbia.focal_point

    page = sign_in_client(balkans.slovenia.volunteer, balkans.slovenia.point).get(
        "/faq/?q=medicamento&language=es"
    )
    assert "medicamentos para la diabetes" in page.content.decode()
    public = Client().get("/es/faq/?country=SI&q=diabetes").content.decode()
    assert "medicamentos para la diabetes" in public


def test_drafts_and_retired_entries_stay_with_the_editors(balkans: Balkans) -> None:
    focal = _actor(balkans.serbia, "focal_point")
    volunteer = _actor(balkans.serbia, "volunteer")
    draft = faq_actions.create_entry(focal, texts={"en": ("Is water free?", "Yes.")}, tags=[])
    assert selectors.search_faq(volunteer, "water", "en") == []
    assert [h.entry for h in selectors.search_faq(focal, "water", "en")] == [draft]
    faq_actions.approve_entry(focal, draft)
    assert [h.entry for h in selectors.search_faq(volunteer, "water", "en")] == [draft]
    assert selectors.public_faq(balkans.network, "en") == []  # not public
    faq_actions.retire_entry(focal, draft)
    assert selectors.search_faq(volunteer, "water", "en") == []
    with pytest.raises(ValidationError):
        faq_actions.edit_entry(focal, draft, texts={"en": ("a", "b")}, tags=[], public=False)


@pytest.mark.parametrize(
    ("texts", "tags"),
    [
        ({"en": ("", "")}, []),
        ({"xx": ("Q?", "A")}, []),
        ({"en": ("Q" * 301, "A")}, []),
        ({"en": ("Q?", "A")}, ["weather"]),
        ({"en": ("Q?", "A")}, ["hn"]),  # a country of another network
    ],
)
def test_bad_entries_are_refused(
    balkans: Balkans, texts: dict[str, tuple[str, str]], tags: list[str]
) -> None:
    with pytest.raises(ValidationError):
        faq_actions.create_entry(_actor(balkans.serbia, "focal_point"), texts=texts, tags=tags)


def test_volunteers_read_but_do_not_write_or_approve(balkans: Balkans) -> None:
    volunteer = _actor(balkans.serbia, "volunteer")
    coordinator = _actor(balkans.serbia, "coordinator")
    with pytest.raises(PermissionError):
        faq_actions.create_entry(volunteer, texts={"en": ("Q?", "A")}, tags=[])
    entry = faq_actions.create_entry(coordinator, texts={"en": ("Q?", "A")}, tags=[])
    with pytest.raises(PermissionError):
        faq_actions.approve_entry(coordinator, entry)


def test_search_syntax_cannot_be_injected(balkans: Balkans) -> None:
    focal = _actor(balkans.serbia, "focal_point")
    entry = faq_actions.create_entry(focal, texts={"en": ("Where is a doctor?", "Ask.")}, tags=[])
    for query in ('doctor" OR "x', "doctor:*", "NEAR(doctor)", "doctor & !x | (", "'; DROP"):
        hits = selectors.search_faq(focal, query, "en")
        assert all(hit.entry == entry for hit in hits)
    assert search.words("  Médico, ¿dónde?  ") == ["medico", "donde"]


def test_the_api_runs_the_same_loop(balkans: Balkans) -> None:
    item = _question(balkans, "¿Puedo cargar mi teléfono?", "c")
    focal = api_client(balkans.serbia.focal_point, balkans.serbia.point)
    made = focal.post(f"/api/v1/feedback/{item.pk}/faq")
    assert made.status_code == 201
    entry_id = made.json()["id"]
    assert focal.post(f"/api/v1/feedback/{item.pk}/faq").status_code == 422  # once
    body = {"texts": {"es": {"question": "¿Puedo cargar mi teléfono?",
                             "answer": "Sí, en los puntos con enchufes."}},
            "tags": ["connectivity"], "public": False}  # fmt: skip
    edited = focal.put(f"/api/v1/faq/{entry_id}", body, content_type="application/json")
    assert edited.status_code == 200
    approved = focal.post(f"/api/v1/faq/{entry_id}/approve")
    assert approved.json()["status"] == "approved"
    assert approved.json()["asked_this_month"] == 1
    volunteer = api_client(balkans.slovenia.volunteer, balkans.slovenia.point)
    found = volunteer.get("/api/v1/faq?q=telefono&language=es").json()
    assert [entry["id"] for entry in found] == [entry_id]
    assert volunteer.post(f"/api/v1/faq/{entry_id}/retire").status_code == 403
    bad = focal.post("/api/v1/faq", {"texts": {"xx": {"question": "?"}}},
                     content_type="application/json")  # fmt: skip
    assert bad.status_code == 422
