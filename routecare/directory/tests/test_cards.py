"""The public list's point cards, written in Python (``directory.cards``), say what the
``_opening.html`` template says on the detail page and in the booklet, in every state."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from routecare.conftest import Society
from routecare.core import person_texts
from routecare.directory import views
from routecare.directory.cards import opening_html, public_point_html
from routecare.directory.entries import PublicPoint

HOURS = [{"day": d, "opens": "08:00", "closes": "18:00"} for d in range(7)]


@pytest.mark.parametrize(
    ("status", "hours", "hour"),
    [
        ("open", HOURS, 10),  # open now, until 18:00
        ("open", HOURS, 21),  # closed now, opens 08:00
        ("open", [], 10),  # no hours given: ask on site
        ("temporarily-closed", HOURS, 10),
        ("closed", HOURS, 10),
    ],
)
@pytest.mark.parametrize("lang", ["en", "ar", "ur"])
def test_a_card_says_what_the_template_says(
    own: Society, status: str, hours: list[dict[str, object]], hour: int, lang: str
) -> None:
    point = own.point
    point.status, point.opening_hours, point.visibility = status, hours, "public"
    point.translations = {"ar": {"name": 'نقطة <"أ">'}} if lang == "ar" else {}
    point.save()
    # 3 December 2026 at that hour where the point is (Honduras, UTC-6).
    now = dt.datetime(2026, 12, 3, 6, 30, tzinfo=dt.UTC) + dt.timedelta(hours=hour)
    texts = person_texts.texts_for(lang)
    entry = views._card_context(PublicPoint.of(point), lang, now, texts)
    template = render_to_string(
        "directory/_opening.html",
        {
            "state": entry["state"],
            "opening_line": entry["opening_line"],
            "status_text": entry["status_text"],
            "texts": texts,
        },
    )
    assert opening_html(entry, texts) == template.split("#}", 1)[-1]
    entry |= {"hours_away": "2", "km": "12,5"}
    card = public_point_html(entry, lang, "HN", texts)
    assert card.startswith(f'<article class="point" data-code="{point.code}">')
    assert f'href="/{lang}/services/{point.code}/?country=HN"' in card
    assert template.split("#}", 1)[-1] in card
    assert texts["distance"] % {"km": "12,5", "hours": "2"} in card
    assert '<"' not in card  # names are escaped


def test_a_name_with_markup_is_escaped(own: Society) -> None:
    point = own.point
    point.name, point.visibility = "<script>x</script>", "public"
    point.latitude = Decimal("14.1")
    point.save()
    texts = person_texts.texts_for("en")
    entry = views._card_context(PublicPoint.of(point), "en", timezone.now(), texts)
    card = public_point_html(entry, "en", "", texts)
    assert "<script>" not in card
    assert "&lt;script&gt;x&lt;/script&gt;" in card
    assert f'href="/en/services/{point.code}/"' in card
