"""Requests that never reach an API operation still answer in the API's JSON vocabulary."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client

from routecare.conftest import Society


def test_an_unmatched_api_path_is_a_json_404(own: Society, api: Callable[..., Client]) -> None:
    client = api(own.volunteer, own.point)
    # An id with a slash matches no route: Django's resolver answers before ninja does.
    answer = client.get("/api/v1/people/abc/def/card")
    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/json"
    assert answer.json() == {"detail": "Not found."}


def test_a_json_404_is_translated(own: Society, api: Callable[..., Client]) -> None:
    answer = api(own.volunteer, own.point).get("/api/v1/nothing/here", HTTP_ACCEPT_LANGUAGE="es")
    assert answer.status_code == 404
    assert answer.json()["detail"] != "Not found."


def test_pages_outside_the_api_keep_the_html_404(client: Client) -> None:
    answer = client.get("/no/such/page/")
    assert answer.status_code == 404
    assert answer["Content-Type"].startswith("text/html")


def test_a_malformed_multipart_body_is_a_json_400_and_reads_nothing(
    own: Society, api: Callable[..., Client]
) -> None:
    client = api(own.volunteer, own.point)
    answer = client.generic(
        "POST",
        "/api/v1/cards/read-photo",
        b'--xyz\r\nContent-Disposition: form-data; name="photo"; filename="a.png"\r\n',
        content_type="multipart/form-data; boundary=",
    )
    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/json"
    assert answer.json() == {"detail": "The request body could not be read."}


def test_a_malformed_multipart_body_to_a_page_is_the_html_400(client: Client) -> None:
    answer = client.generic(
        "POST", "/accounts/sign-in/", b"--", content_type="multipart/form-data; boundary="
    )
    assert answer.status_code in (400, 403)
    assert answer["Content-Type"].startswith("text/html")


def test_the_published_schema_is_built_once_per_language(db: None) -> None:
    from django.utils import translation

    from routecare.api import api

    first = api.get_openapi_schema(path_prefix="/api/v1/")
    assert api.get_openapi_schema(path_prefix="/api/v1/") is first  # not rebuilt per request
    with translation.override("es"):
        assert api.get_openapi_schema(path_prefix="/api/v1/") is not first
    assert Client().get("/api/v1/openapi.json").json()["info"]["title"] == "RouteCare API"
