"""Open now (issue 19, item 2): a point's status and whether it is open now are different
things, and the list, the point's page, the API and the booklet say the same, from the hours in
the point's time zone, never from a cache older than the next opening or closing."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pypdfium2
import pytest
from django.test import Client
from django.utils import timezone

from routecare.core import person_texts
from routecare.directory.hours import next_change, opening_line, opening_state
from routecare.orgs.models import NationalSociety, Network, ServicePoint

SKOPJE = zoneinfo.ZoneInfo("Europe/Skopje")
# Friday 4 December 2026 in Skopje.
FRIDAY = dt.date(2026, 12, 4)


def _at(hour: int, minute: int, day: dt.date = FRIDAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SKOPJE)


@pytest.fixture
def gevgelija(db: None) -> ServicePoint:
    """A North Macedonian point open 08:00–18:00 every day, and a Greek one on the route."""
    network = Network.objects.create(slug="balkans", name="Western Balkans route")
    mk = NationalSociety.objects.create(
        network=network, name="Red Cross of North Macedonia", country_code="MK",
        time_zone="Europe/Skopje",
    )  # fmt: skip
    gr = NationalSociety.objects.create(
        network=network, name="Hellenic Red Cross", country_code="GR", time_zone="Europe/Athens"
    )
    hours = [{"day": day, "opens": "08:00", "closes": "18:00"} for day in range(7)]
    ServicePoint.objects.create(
        national_society=gr, code="grc-athens", name="Athens centre", visibility="public",
        latitude=Decimal("37.98"), longitude=Decimal("23.73"), opening_hours=hours,
    )  # fmt: skip
    return ServicePoint.objects.create(
        national_society=mk, code="mkd-gevgelija", name="Gevgelija transit centre",
        visibility="public", latitude=Decimal("41.14"), longitude=Decimal("22.50"),
        opening_hours=hours,
    )  # fmt: skip


def _clock(monkeypatch: pytest.MonkeyPatch, moment: dt.datetime) -> None:
    """The server's clock reads ``moment`` (as the token cache's tests do)."""
    monkeypatch.setattr(timezone, "now", lambda: moment.astimezone(dt.UTC))


def _page(address: str) -> str:
    return Client().get(address).content.decode()


def _list_line(lang: str, query: str = "?country=MK") -> str:
    page = Client().get(f"/{lang}/services/{query}").content.decode()
    article = page[page.index('data-code="mkd-gevgelija"') :]
    return article[: article.index("</article>")]


def _detail(lang: str) -> str:
    return Client().get(f"/{lang}/services/mkd-gevgelija/?country=MK").content.decode()


def _api() -> dict[str, object]:
    answer = Client().get("/api/v1/public/service-points?country=MK").json()
    found: dict[str, object] = next(p for p in answer if p["code"] == "mkd-gevgelija")
    return found


def _booklet(lang: str) -> str:
    response = Client().get(f"/{lang}/services/booklet.pdf?country=MK")
    assert response.status_code == 200
    document = pypdfium2.PdfDocument(response.content)
    try:
        return "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()


def test_at_nine_past_midnight_every_view_says_closed_now_opens_at_eight(
    gevgelija: ServicePoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clock(monkeypatch, _at(0, 9))
    closed = "Closed now, opens at 08:00"
    assert closed in _list_line("en")
    assert "Open now" not in _list_line("en")
    detail = _detail("en")
    assert closed in detail
    assert "Open now" not in detail
    api = _api()
    assert api["open_now"] is False
    assert api["status"] == "open"
    assert api["open_until"] is None
    assert api["next_opening"] == "2026-12-04T08:00:00+01:00"
    booklet = _booklet("en")
    assert closed in booklet
    assert "2026-12-04 00:09 UTC+01:00" in booklet  # when "closed now" was true
    # The filter agrees: nothing is open now.
    assert 'data-code="mkd-gevgelija"' not in _page("/en/services/?country=MK&open_now=1")


def test_at_ten_every_view_says_open_until_six_in_the_page_language(
    gevgelija: ServicePoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clock(monkeypatch, _at(10, 0))
    assert "Open now, until 18:00" in _list_line("en")
    assert "Open now, until 18:00" in _detail("en")
    farsi = person_texts.text("open_until", "fa") % {"time": "18:00"}
    assert farsi in _list_line("fa")
    assert farsi in _detail("fa")
    assert farsi in _booklet("fa").replace("\r\n", "").replace("\n", "")
    api = _api()
    assert api["open_now"] is True
    assert api["open_until"] == "2026-12-04T18:00:00+01:00"
    assert api["next_opening"] is None
    assert 'data-code="mkd-gevgelija"' in _page("/en/services/?country=MK&open_now=1")


def test_the_status_word_shows_only_when_it_is_not_the_usual_open(
    gevgelija: ServicePoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clock(monkeypatch, _at(10, 0))
    spanish = _list_line("es")
    assert "Abierto ahora, hasta las 18:00" in spanish
    assert "Abierto ·" not in spanish  # "Abierto · Abierto ahora" repeated itself
    gevgelija.status = ServicePoint.Status.TEMPORARILY_CLOSED
    gevgelija.save()
    for text in (_list_line("es"), _detail("es")):
        assert person_texts.text("status_temporarily_closed", "es") in text
        assert "abre" not in text  # no opening time for a point that is not operating
        assert "Abierto ahora" not in text
    api = _api()
    assert (api["status"], api["open_now"], api["next_opening"]) == (
        "temporarily-closed", False, None,
    )  # fmt: skip


def test_after_closing_the_next_opening_is_tomorrow_and_after_a_free_day_its_day(
    gevgelija: ServicePoint,
) -> None:
    texts = person_texts.texts_for("en")
    state = opening_state(gevgelija, _at(19, 0))
    assert opening_line(state, texts) == "Closed now, opens tomorrow at 08:00"
    gevgelija.opening_hours = [{"day": 0, "opens": "08:00", "closes": "18:00"}]  # Mondays
    state = opening_state(gevgelija, _at(19, 0))  # Friday evening
    assert opening_line(state, texts) == "Closed now, opens Monday at 08:00"
    assert state.next_opens == _at(8, 0, dt.date(2026, 12, 7))
    fa = person_texts.texts_for("fa")
    assert fa["day_0"] in opening_line(state, fa)


def test_a_period_past_midnight_is_open_until_its_closing_the_next_morning(
    gevgelija: ServicePoint,
) -> None:
    texts = person_texts.texts_for("en")
    gevgelija.opening_hours = [{"day": 4, "opens": "20:00", "closes": "06:00"}]  # Friday night
    late = opening_state(gevgelija, _at(23, 30))
    assert late.open_now
    assert late.until == _at(6, 0, FRIDAY + dt.timedelta(days=1))
    assert opening_line(late, texts) == "Open now, until 06:00"
    early = opening_state(gevgelija, _at(5, 0, FRIDAY + dt.timedelta(days=1)))
    assert opening_line(early, texts) == "Open now, until 06:00"
    after = opening_state(gevgelija, _at(6, 0, FRIDAY + dt.timedelta(days=1)))
    assert not after.open_now
    assert opening_line(after, texts) == "Closed now, opens Friday at 20:00"


def test_touching_periods_are_one_opening(gevgelija: ServicePoint) -> None:
    gevgelija.opening_hours = [
        {"day": 4, "opens": "08:00", "closes": "12:00"},
        {"day": 4, "opens": "12:00", "closes": "18:00"},
    ]
    assert opening_state(gevgelija, _at(10, 0)).until == _at(18, 0)


def test_the_next_change_is_the_next_opening_closing_or_new_day(gevgelija: ServicePoint) -> None:
    assert next_change([gevgelija], _at(0, 9)) == _at(8, 0)
    assert next_change([gevgelija], _at(17, 59)) == _at(18, 0)
    assert next_change([gevgelija], _at(18, 0)) == _at(0, 0, FRIDAY + dt.timedelta(days=1))
    gevgelija.status = ServicePoint.Status.TEMPORARILY_CLOSED
    assert next_change([gevgelija], _at(0, 9)) is None  # only an edit changes it


@pytest.mark.parametrize(
    "address",
    [
        "/en/services/?country=MK",
        "/en/services/mkd-gevgelija/?country=MK",
        "/api/v1/public/service-points?country=MK",
    ],
)
def test_an_answer_cached_at_17_59_is_not_served_at_18_00(
    gevgelija: ServicePoint, monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    _clock(monkeypatch, _at(17, 59))
    before = Client().get(address).content.decode()
    assert "18:00" in before
    assert Client().get(address).content.decode() == before  # from the cache within the minute
    _clock(monkeypatch, _at(18, 0))
    after = Client().get(address).content.decode()
    assert after != before
    if address.startswith("/api/"):
        assert '"open_now": false' in after or '"open_now":false' in after
    else:
        assert "Closed now, opens tomorrow at 08:00" in after


def test_a_booklet_drawn_at_17_59_is_not_served_at_18_00(
    gevgelija: ServicePoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clock(monkeypatch, _at(17, 59))
    assert "Open now, until 18:00" in _booklet("en")
    _clock(monkeypatch, _at(18, 0))
    booklet = _booklet("en")
    assert "Closed now, opens tomorrow at 08:00" in booklet
    assert "2026-12-04 18:00 UTC+01:00" in booklet
