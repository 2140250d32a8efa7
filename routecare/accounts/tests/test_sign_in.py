import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from routecare.accounts.actions import ENROLMENT_KEY
from routecare.accounts.middleware import SIGNED_IN_AT
from routecare.audit.models import AuditEvent
from routecare.conftest import PASSWORD, Society


def _sign_in(client: Client, username: str, password: str = PASSWORD) -> Any:
    return client.post("/accounts/sign-in/", {"username": username, "password": password})


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def test_passwords_are_hashed_with_argon2(settings: Any) -> None:
    from routecare import settings as project_settings

    # The test suite swaps in a fast hasher; put the project's own list back.
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    assert make_password("a long passphrase").startswith("argon2$")


def test_volunteer_signs_in_and_picks_todays_service_point(own: Society) -> None:
    client = Client()
    response = _sign_in(client, "hn-vol")
    assert response.status_code == 302
    assert client.get("/people/register/")["Location"].startswith("/accounts/service-point/")
    picked = client.post(
        "/accounts/service-point/?next=/people/register/", {"service_point": own.second_point.pk}
    )
    assert picked["Location"] == "/people/register/"
    assert client.get("/people/register/").status_code == 200


def test_a_point_of_another_society_cannot_be_picked(own: Society, other: Society) -> None:
    client = Client()
    _sign_in(client, "hn-vol")
    response = client.post("/accounts/service-point/", {"service_point": other.point.pk})
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    assert "service_point_id" not in client.session


def test_wrong_password_gets_a_clear_message(own: Society) -> None:
    response = _sign_in(Client(), "hn-vol", "wrong")
    assert response.status_code == 200
    assert b"The user name or password is not right." in response.content


def test_repeated_failures_lock_the_account(own: Society) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "hn-vol", "wrong")
    locked = _sign_in(client, "hn-vol")
    assert locked.status_code == 429
    assert b"Too many failed sign-ins" in locked.content
    assert "_auth_user_id" not in client.session


def test_focal_point_must_pass_the_second_factor(own: Society) -> None:
    client = Client()
    _sign_in(client, "hn-focal")
    response = client.get("/orgs/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/")
    device = TOTPDevice.objects.get(user=own.focal_point)
    wrong = client.post("/accounts/two-factor/", {"code": "000000"})
    assert b"not right" in wrong.content
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    ok = client.post("/accounts/two-factor/?next=/orgs/staff/", {"code": _code(device)})
    assert ok["Location"] == "/orgs/staff/"
    assert client.get("/orgs/staff/").status_code == 200


def test_focal_point_without_device_enrols_one(own: Society) -> None:
    TOTPDevice.objects.filter(user=own.focal_point).delete()
    client = Client()
    _sign_in(client, "hn-focal")
    page = client.get("/accounts/two-factor/")
    assert b"data:image/svg+xml" in page.content
    assert not TOTPDevice.objects.filter(user=own.focal_point).exists()
    candidate = TOTPDevice(user=own.focal_point, key=client.session[ENROLMENT_KEY])
    client.post("/accounts/two-factor/", {"code": _code(candidate)})
    device = TOTPDevice.objects.get(user=own.focal_point)
    assert device.confirmed
    assert client.get("/audit/").status_code == 200
    assert AuditEvent.objects.filter(object_type="totp_device", actor=own.focal_point).exists()


def test_an_enrolment_key_belongs_to_one_session(own: Society) -> None:
    """Someone who learnt the password must not see the key the real user will confirm."""
    TOTPDevice.objects.filter(user=own.focal_point).delete()
    intruder, user = Client(), Client()
    for client in (intruder, user):
        _sign_in(client, "hn-focal")
        client.get("/accounts/two-factor/")
    intruder_key = intruder.session[ENROLMENT_KEY]
    assert intruder_key != user.session[ENROLMENT_KEY]
    candidate = TOTPDevice(user=own.focal_point, key=user.session[ENROLMENT_KEY])
    user.post("/accounts/two-factor/", {"code": _code(candidate)})
    assert TOTPDevice.objects.get(user=own.focal_point).key != intruder_key
    # With a device confirmed, no key is shown to anyone any more.
    assert b"data:image/svg+xml" not in intruder.get("/accounts/two-factor/").content


def test_malformed_codes_are_explained(own: Society) -> None:
    client = Client()
    _sign_in(client, "hn-focal")
    response = client.post("/accounts/two-factor/", {"code": "12ab"})
    assert b"Enter the six digits" in response.content


def test_sessions_end_after_the_absolute_timeout(own: Society, web: Callable[..., Client]) -> None:
    client = web(own.volunteer, own.point)
    assert client.get("/").status_code == 200
    session = client.session
    session[SIGNED_IN_AT] = time.time() - settings.ROUTECARE_SESSION_ABSOLUTE_SECONDS - 1
    session.save()
    assert client.get("/").status_code == 302


def test_idle_sessions_expire(own: Society) -> None:
    assert settings.SESSION_COOKIE_AGE <= 60 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST


def test_sign_out_needs_post(own: Society, web: Callable[..., Client]) -> None:
    client = web(own.volunteer, own.point)
    assert client.get("/accounts/sign-out/").status_code == 405
    client.post("/accounts/sign-out/")
    assert client.get("/").status_code == 302


def test_staff_pages_are_never_cached(own: Society, web: Callable[..., Client]) -> None:
    response = web(own.volunteer, own.point).get("/")
    assert response["Cache-Control"] == "no-store"


def test_open_redirects_are_refused(own: Society) -> None:
    client = Client()
    response = client.post(
        "/accounts/sign-in/?next=https://evil.example/",
        {"username": "hn-vol", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"
