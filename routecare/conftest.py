"""Shared personas: staff of one National Society ("own"), the same of another ("other"),
a regional IFRC user, a partner, a system administrator and an anonymous visitor."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.cache import caches
from django.test import Client
from django.utils import translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from routecare.access import Actor, build_actor
from routecare.accounts.actions import create_api_token
from routecare.core import caching
from routecare.orgs.models import Membership, NationalSociety, Network, Role, ServicePoint
from routecare.people import actions
from routecare.people.models import Person

PASSWORD = "correct horse battery"

# The real-browser fixtures (page, browser, console_errors), for every app's browser tests.
pytest_plugins = ["routecare.core.tests.browser"]


@dataclass
class Society:
    society: NationalSociety
    point: ServicePoint
    second_point: ServicePoint
    volunteer: User
    coordinator: User
    focal_point: User
    partner: User

    def actor(self, role: str = "volunteer", point: ServicePoint | None = None) -> Actor:
        user = getattr(self, role)
        actor = build_actor(user, (point or self.point).pk)
        assert actor is not None
        return actor


def make_user(username: str, role: str, **membership: Any) -> User:
    user: User = get_user_model().objects.create_user(username=username, password=PASSWORD)
    Membership.objects.create(user=user, role=role, **membership)
    if role in (Role.FOCAL_POINT, Role.SYSADMIN):
        TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    return user


def _society(network: Network, code: str, name: str) -> Society:
    society = NationalSociety.objects.create(network=network, name=name, country_code=code)
    points = [
        ServicePoint.objects.create(
            national_society=society,
            code=f"{code.lower()}-{n}",
            name=f"{name} point {n}",
            latitude=Decimal("14.0"),
            longitude=Decimal("-86.5"),
            services=["first-aid", "water"],
        )
        for n in (1, 2)
    ]
    prefix = code.lower()
    return Society(
        society=society,
        point=points[0],
        second_point=points[1],
        volunteer=make_user(f"{prefix}-vol", Role.VOLUNTEER, national_society=society),
        coordinator=make_user(f"{prefix}-coord", Role.COORDINATOR, national_society=society),
        focal_point=make_user(f"{prefix}-focal", Role.FOCAL_POINT, national_society=society),
        partner=make_user(f"{prefix}-partner", Role.PARTNER, national_society=society),
    )


@pytest.fixture(autouse=True)
def tasks_run_at_once(settings: Any) -> None:
    """Background tasks run inside the test; the worker has a test of its own."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def no_platform_on_the_internet(settings: Any) -> None:
    """Tests never reach WhatsApp or Telegram: what a test does not point at a loopback fake
    (messaging.loopback) goes to a closed loopback port and fails as unreachable."""
    settings.ROUTECARE_WHATSAPP_API = "http://127.0.0.1:9/v21.0"
    settings.ROUTECARE_TELEGRAM_API = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def no_static_file_scans(settings: Any) -> None:
    """whitenoise indexes every static file each time a test client builds its middleware:
    from the finders (over half of the authorization walk's time) and from a ``staticfiles``
    folder left by `make serve` (a full suite went from minutes to hours, and a scan during a
    collectstatic failed). Tests do without both; the live server of the browser tests serves
    static files through Django's own handler, and test_healthz switches the finders back on."""
    settings.STATIC_ROOT = None
    settings.WHITENOISE_USE_FINDERS = False


@pytest.fixture(autouse=True)
def caches_in_the_process(settings: Any) -> None:
    """Caches stay in the process even where REDIS_URL is set, so no answer passes from one test
    to the next through Redis (core/tests/test_shared_cache.py tests Redis, a prefix each)."""
    settings.REDIS_URL = ""


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    """Each test starts without the answers an earlier one cached (core.caching)."""
    for store in caches.all():
        store.clear()
    caching.SHARED.clear()
    yield
    for store in caches.all():
        store.clear()
    caching.SHARED.clear()


@pytest.fixture(autouse=True)
def default_language() -> Iterator[None]:
    """Each test starts in the default language: Django's test client leaves the language of
    its last request active in the thread (LocaleMiddleware activates, nothing deactivates),
    so a test after one that asked in Arabic read Arabic messages."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def regional_figures_of_the_moment(settings: Any) -> None:
    """Regional dashboards show the figures of the moment: a kept year gone stale is computed
    again in the request rather than shown for a while (the lag has tests of its own)."""
    settings.REGIONAL_PATTERN_LAG = 0


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Argon2 is deliberately slow; tests that check hashing ask for it themselves."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def network(db: None) -> Network:
    return Network.objects.create(slug="americas", name="Americas route")


@pytest.fixture
def own(network: Network) -> Society:
    return _society(network, "HN", "Honduran Red Cross")


@pytest.fixture
def other(network: Network) -> Society:
    return _society(network, "GT", "Guatemalan Red Cross")


@pytest.fixture
def regional(network: Network) -> User:
    return make_user("regional", Role.REGIONAL, network=network)


@pytest.fixture
def sysadmin(db: None) -> User:
    user = make_user("root-admin", Role.SYSADMIN)
    user.is_staff = True
    user.is_superuser = True
    user.save()
    return user


def register(society: Society, **overrides: Any) -> Person:
    values: dict[str, Any] = {"sex": "female", "age_band": "18-59", "consent_language": "es"}
    values.update(overrides)
    return actions.register_person(society.actor(), **values)


@pytest.fixture
def own_person(own: Society) -> Person:
    person = register(own, languages=["es"])
    actions.record_encounter(
        own.actor(),
        person,
        services=[("first-aid", 1)],
        notes="blisters",
        follow_up=actions.FollowUpInput("re-check dressing"),
    )
    actions.update_health_summary(own.actor(), person, allergies=["penicillin"])
    return person


@pytest.fixture
def other_person(other: Society) -> Person:
    person = register(other)
    actions.record_encounter(
        other.actor(),
        person,
        services=[("water", 2)],
        follow_up=actions.FollowUpInput("other society follow-up"),
    )
    return person


def sign_in_client(user: User, point: ServicePoint | None = None) -> Client:
    """A browser session as ``user``: second factor verified, today's point chosen."""
    client = Client()
    client.force_login(user)
    session = client.session
    device = TOTPDevice.objects.filter(user=user).first()
    if device is not None:
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    if point is not None:
        session["service_point_id"] = str(point.pk)
    session.save()
    return client


@pytest.fixture
def web() -> Callable[..., Client]:
    return sign_in_client


def api_client(user: User, point: ServicePoint | None = None) -> Client:
    _token, raw = create_api_token(user, "test", point)
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture
def api() -> Callable[..., Client]:
    return api_client


@pytest.fixture
def outsider(db: None) -> Society:
    """Staff of a National Society in another network (the Western Balkans route)."""
    balkans = Network.objects.create(slug="balkans", name="Western Balkans route")
    return _society(balkans, "RS", "Red Cross of Serbia")
