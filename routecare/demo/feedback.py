"""Demo feedback and FAQ: what the feedback loop looks like on the Western Balkans route and
in Honduras (made once; loading the demo again adds nothing)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from routecare.access import Actor, build_actor
from routecare.demo.faq import FAQ
from routecare.feedback import actions, faq_actions
from routecare.feedback.models import FaqEntry, Feedback, Status
from routecare.orgs.models import NationalSociety, Network, ServicePoint

# (form token, country where it was given, about, kind, language, text, answer wanted)
FEEDBACK = (
    ("demo-feedback-si-1", "SI", "point:srb-obrenovac", "complaint", "fa",
     "در اوبرنوواتس به ما گفتند برای خانواده‌ها جا نیست و ما شب را بیرون ماندیم.",  # noqa: RUF001
     False),
    ("demo-feedback-si-2", "SI", "point:mkd-tabanovce", "praise", "ar",
     "شكراً للمتطوعين في تابانوفتسي، ساعدوا ابني المريض بسرعة.", False),
    ("demo-feedback-rs-1", "RS", "society:RS", "question", "ps",
     "ایا په سربیا کې د ماشومانو لپاره واکسین وړیا دي؟", True),
    ("demo-feedback-hn-1", "HN", "point:hnd-danli", "question", "es",
     "¿Dónde puedo cargar mi teléfono y llamar a mi familia en Danlí?", False),
    ("demo-feedback-hn-2", "HN", "point:hnd-danli", "suggestion", "ht",
     "Tanpri mete plis dlo pou timoun yo nan liy la.", False),
)  # fmt: skip


def _focal(country: str, point: ServicePoint | None = None) -> Actor:
    user = get_user_model().objects.get(username=f"{country.lower()}-focal")
    actor = build_actor(user, point.pk if point else None, via="command")
    if actor is None:
        raise RuntimeError(f"demo user {user} has no membership")
    return actor


def load_feedback() -> None:
    for token, country, about, kind, language, text, answer in FEEDBACK:
        society = NationalSociety.objects.select_related("network").get(country_code=country)
        contact: dict[str, Any] = {"contact_consent": True, "contact_method": "whatsapp",
                   "contact_value": "+381 60 000 0000"} if answer else {}  # fmt: skip
        actions.submit_feedback(
            about=actions.parse_about(society.network, about, public_only=False),
            category=kind, text=text, language=language, form_token=token,
            received_by=society, **contact,
        )  # fmt: skip
    serbia = _focal("RS")
    for item in Feedback.objects.filter(about_society__country_code="RS", status=Status.NEW):
        actions.change_status(serbia, item, Status.ACKNOWLEDGED)
    entries: dict[str, list[FaqEntry]] = {}
    for country, tags, public, texts in FAQ:
        network = Network.objects.filter(societies__country_code=country).first()
        if network is None or (
            country not in entries and FaqEntry.objects.filter(network=network).exists()
        ):
            continue  # no such network in this demo, or its FAQ was made by an earlier load
        focal = _focal(country)
        entry = faq_actions.create_entry(focal, texts=texts, tags=tags, public=public)
        entries.setdefault(country, []).append(faq_actions.approve_entry(focal, entry))
    if entries.get("HN"):
        # The Danlí question is the one the first entry of Honduras answers.
        asked = Feedback.objects.get(submission_key=actions.submission_key("demo-feedback-hn-1"))
        faq_actions.link_question(_focal("HN"), asked, entries["HN"][0])
