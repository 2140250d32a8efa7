import datetime as dt
from collections.abc import Callable

from django.test import Client
from django.utils import timezone

from routecare.accounts.actions import DEFAULT_TOKEN_LIFETIME, create_api_token, token_digest
from routecare.accounts.models import ApiToken
from routecare.api import TOKEN_FAILURES_PER_HOUR
from routecare.audit.models import AuditEvent
from routecare.conftest import Society


def test_tokens_are_stored_as_digests_only(own: Society) -> None:
    token, raw = create_api_token(own.volunteer, "tablet", own.point)
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.digest == token_digest(raw)
    assert raw not in (stored.digest, stored.prefix)
    assert raw.startswith(stored.prefix)


def test_token_page_shows_a_new_token_once(own: Society, web: Callable[..., Client]) -> None:
    client = web(own.volunteer, own.point)
    created = client.post(
        "/accounts/api-tokens/",
        {"name": "tablet", "service_point": own.point.pk, "lifetime_days": "7"},
    )
    token = ApiToken.objects.get()
    assert token.expires_at is not None
    assert dt.timedelta(days=6) < token.expires_at - timezone.now() <= dt.timedelta(days=7)
    assert AuditEvent.objects.filter(object_type="api_token", actor=own.volunteer).exists()
    assert b"rct_" in created.content
    assert created["Cache-Control"] == "no-store"
    again = client.get("/accounts/api-tokens/")
    assert token.prefix.encode() in again.content
    assert created.content.count(b"rct_") > again.content.count(b"rct_")


def test_revoked_and_expired_tokens_are_refused(own: Society) -> None:
    token, raw = create_api_token(own.volunteer, "tablet", own.point)
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    assert client.get("/api/v1/me").status_code == 200
    token.revoked_at = timezone.now()
    token.save()
    assert client.get("/api/v1/me").status_code == 401
    expired, raw_expired = create_api_token(
        own.volunteer, "old", own.point, expires_at=timezone.now() - dt.timedelta(days=1)
    )
    assert expired.active is False
    assert (
        Client(headers={"Authorization": f"Bearer {raw_expired}"}).get("/api/v1/me").status_code
        == 401
    )


def test_tokens_always_expire(own: Society) -> None:
    token, _raw = create_api_token(own.volunteer, "tablet", own.point)
    assert token.expires_at is not None
    assert token.expires_at - timezone.now() <= DEFAULT_TOKEN_LIFETIME


def test_bad_token_form_input_creates_nothing(own: Society, web: Callable[..., Client]) -> None:
    response = web(own.volunteer, own.point).post(
        "/accounts/api-tokens/", {"name": "", "lifetime_days": "3650"}
    )
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    assert not ApiToken.objects.exists()


def test_garbage_credentials_are_refused(db: None) -> None:
    for header in ("Bearer nonsense", "Bearer rct_nonsense", "Basic Zm9vOmJhcg==", ""):
        response = Client(headers={"Authorization": header}).get("/api/v1/me")
        assert response.status_code == 401
        assert response.json() == {"detail": "A valid API token is needed."}


def test_tokens_of_deactivated_users_stop_working(own: Society) -> None:
    _token, raw = create_api_token(own.volunteer, "tablet", own.point)
    own.volunteer.is_active = False
    own.volunteer.save()
    assert Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/me").status_code == 401


def test_users_revoke_their_own_tokens(own: Society, web: Callable[..., Client]) -> None:
    token, _raw = create_api_token(own.volunteer, "tablet", own.point)
    web(own.volunteer, own.point).post(f"/accounts/api-tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_me_and_service_points(own: Society) -> None:
    _token, raw = create_api_token(own.volunteer, "tablet", own.point)
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    me = client.get("/api/v1/me").json()
    assert me["role"] == "volunteer"
    assert me["service_point"]["code"] == own.point.code
    codes = {point["code"] for point in client.get("/api/v1/service-points").json()}
    assert codes == {own.point.code, own.second_point.code}


def test_openapi_schema_and_docs_are_published(db: None) -> None:
    schema = Client().get("/api/v1/openapi.json")
    assert schema.status_code == 200
    assert "/api/v1/people/lookup" in schema.json()["paths"]
    assert Client().get("/api/v1/docs").status_code == 200


def test_an_address_guessing_tokens_is_refused_for_the_hour(own: Society) -> None:
    _token, raw = create_api_token(own.volunteer, "real", own.point)
    guessing = Client(headers={"Authorization": "Bearer rct_not-a-real-token"})
    statuses = [guessing.get("/api/v1/faq").status_code for _ in range(TOKEN_FAILURES_PER_HOUR)]
    assert set(statuses) == {401}
    assert guessing.get("/api/v1/faq").status_code == 429
    # From that address even a real token waits: the guesser may have found it.
    real = Client(headers={"Authorization": f"Bearer {raw}"})
    assert real.get("/api/v1/faq").status_code == 429
    assert real.get("/api/v1/faq", REMOTE_ADDR="10.9.8.7").status_code == 200
