from collections.abc import Callable

from django.test import Client

from routecare.audit.models import AuditEvent
from routecare.conftest import Society
from routecare.people import shortcode
from routecare.people.models import Person


def _typo(code: str) -> str:
    compact = shortcode.normalise(code)
    assert compact is not None
    wrong = "Z" if compact[3] != "Z" else "Y"
    return compact[:3] + wrong + compact[4:]


def test_exact_code_opens_the_person_page(
    own: Society, own_person: Person, web: Callable[..., Client]
) -> None:
    response = web(own.volunteer, own.point).post(
        "/people/find/", {"code": own_person.short_code.lower().replace("-", " ")}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/people/{own_person.pk}/"
    assert AuditEvent.objects.filter(person_id=own_person.pk, detail="lookup").exists()


def test_htmx_lookup_returns_a_fragment(
    own: Society, own_person: Person, web: Callable[..., Client]
) -> None:
    response = web(own.volunteer, own.point).post(
        "/people/find/", {"code": own_person.short_code}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert f"/people/{own_person.pk}/".encode() in response.content


def test_a_typo_suggests_the_right_person(
    own: Society, own_person: Person, web: Callable[..., Client]
) -> None:
    response = web(own.volunteer, own.point).post(
        "/people/find/", {"code": _typo(own_person.short_code)}
    )
    assert response.status_code == 200
    assert own_person.short_code.encode() in response.content


def test_other_society_codes_are_not_found_or_suggested(
    own: Society, other_person: Person, web: Callable[..., Client]
) -> None:
    client = web(own.volunteer, own.point)
    for code in (other_person.short_code, _typo(other_person.short_code)):
        response = client.post("/people/find/", {"code": code})
        assert response.status_code == 200
        assert f"/people/{other_person.pk}/".encode() not in response.content
        assert b"No person with that short code." in response.content


def test_malformed_codes_are_explained(own: Society, web: Callable[..., Client]) -> None:
    response = web(own.volunteer, own.point).post("/people/find/", {"code": "hello!"})
    assert b"seven letters and digits" in response.content
    empty = web(own.volunteer, own.point).post("/people/find/", {"code": ""})
    assert b"This field is required." in empty.content


def test_api_lookup_finds_and_suggests(
    own: Society, own_person: Person, other_person: Person, api: Callable[..., Client]
) -> None:
    client = api(own.volunteer, own.point)
    exact = client.post(
        "/api/v1/people/lookup", {"code": own_person.short_code}, content_type="application/json"
    )
    assert exact.status_code == 200
    assert exact.json()["person"]["id"] == str(own_person.pk)
    typo = client.post(
        "/api/v1/people/lookup",
        {"code": _typo(own_person.short_code)},
        content_type="application/json",
    )
    assert typo.json()["person"] is None
    assert [p["id"] for p in typo.json()["suggestions"]] == [str(own_person.pk)]
    for code in (other_person.short_code, "RC-0000-000", "nonsense"):
        response = client.post(
            "/api/v1/people/lookup", {"code": code}, content_type="application/json"
        )
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


def test_malformed_and_unknown_ids_answer_404(own: Society, api: Callable[..., Client]) -> None:
    client = api(own.volunteer, own.point)
    for person_id in ("not-a-uuid", "00000000-0000-0000-0000-000000000000", "1' OR '1'='1"):
        assert client.get(f"/api/v1/people/{person_id}").status_code == 404
