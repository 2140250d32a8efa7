"""What the load test's users do, through the real API and pages (locust, ``FastHttpUser``).

Five kinds of user, in the proportions of a busy network (weights below):

- **Service point staff** (volunteers at a point, each with a token bound to it): a person
  arrives and either says their short code (lookup) or shows their care card (card scan), then
  the staff member records the visit (encounter). Half the cards shown were issued by the
  staff member's own society, half upstream by another society of the network; for those the
  visit ends after the scan unless the society has its own record of the person.
- **Coordinators and focal points**: their dashboard (point or society, by month or by day)
  and the staff directory.
- **IFRC regional staff**: the network's dashboard, by month, by country.
- **People on the move** (no account): a country's public service list in their language, a
  service filter, "next along my way", a point's page, the public directory API.
- **WhatsApp's servers** delivering what people write to one society's helpdesk number: signed
  Cloud API notifications (``bench.deliveries``, as ``make bench-messaging`` sends them), each
  platform user carrying several conversations of distinct senders through the plan's script
  (menu, language, consent, questions), one message of one of them per delivery, a new sender
  when one ends; about one delivery in twenty is a replay of a recent one (same message id),
  as the platform retries, which must be acknowledged and not kept again.

Every request checks its status code: anything but the expected one counts as an error.
Users think between requests (``between(WAIT_MIN, WAIT_MAX)``), as people at a counter do.

Locust imports this file in its own process: it reads the plan ``prepare`` wrote (path in
``ROUTECARE_LOAD_PLAN``), the run's app secret of the helpdesk's channel
(``ROUTECARE_LOAD_WHATSAPP_APP_SECRET``) and nothing of Django.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import random
import secrets
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from locust import FastHttpUser, between, events, task
from locust.env import Environment

from routecare.bench.deliveries import signed_headers, whatsapp_text
from routecare.bench.load.summary import WEBHOOK_NAME, WEBHOOK_REPLAY_NAME

PLAN_ENV = "ROUTECARE_LOAD_PLAN"
RESULTS_ENV = "ROUTECARE_LOAD_RESULTS"
APP_SECRET_ENV = "ROUTECARE_LOAD_WHATSAPP_APP_SECRET"  # noqa: S105 - a name, not a secret
# Seconds a user waits between requests; with a few tens of ms per request, 100 users send
# about 160 requests a second.
WAIT_MIN, WAIT_MAX = 0.25, 0.9
# The public pages' languages, roughly as people on the routes use them.
LANGUAGES = ("es", "es", "es", "en", "fr", "ht", "ar", "fa", "ps", "ur")
# Typical quick visits: what is given, and how often.
VISITS: tuple[tuple[list[dict[str, Any]], str], ...] = (
    ([{"service": "water", "quantity": 2}, {"service": "information", "quantity": 1}], "green"),
    ([{"service": "first-aid", "quantity": 1}], "yellow"),
    ([{"service": "wash-hygiene", "quantity": 1}, {"service": "nfi", "quantity": 2}], "green"),
    ([{"service": "connectivity", "quantity": 1}], ""),
    ([{"service": "health-primary", "quantity": 1},
      {"service": "medicines", "quantity": 10}], "red"),
)  # fmt: skip
USERS_STARTED: Counter[str] = Counter()
# Share of the cards shown at a point that its own society issued.
OWN_CARD_SHARE = 0.5
# The helpdesk: conversations each platform user carries at once (a person writes again about
# every CONVERSATIONS x 0.6 s, having read the answer), the share of deliveries that are a
# replay, and how many recent deliveries a replay is drawn from.
CONVERSATIONS = 8
REPLAY_SHARE = 0.05
REPLAYABLE = 20
# What the platform users sent and were told: first deliveries (distinct message ids), replays,
# and the webhook's own count of messages kept and duplicates acknowledged.
WEBHOOK: Counter[str] = Counter()
_SENDERS = itertools.count(1)
_MESSAGE_IDS = itertools.count(1)
# Message ids of this locust process, unlike any other run's.
_RUN = secrets.token_hex(4).upper()


@functools.cache
def plan() -> dict[str, Any]:
    path = os.environ.get(PLAN_ENV)
    if not path:
        raise RuntimeError(f"{PLAN_ENV} names the plan written by `routecare load --prepare`")
    with open(path, encoding="utf-8") as stream:
        loaded: dict[str, Any] = json.load(stream)
    return loaded


@functools.cache
def _identities(kind: str) -> Iterator[dict[str, Any]]:
    """Hands out the plan's staff of one kind in turn: more users than staff share tokens."""
    return itertools.cycle(plan()[kind])


def _bearer(identity: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {identity['token']}"}


class RouteCareUser(FastHttpUser):
    """What every kind of user shares: the think time and a request that checks its status."""

    abstract = True
    wait_time = between(WAIT_MIN, WAIT_MAX)
    headers: dict[str, str]

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        # Counted as they start: when locust quits, its own counts are back to zero.
        USERS_STARTED[type(self).__name__] += 1

    def expect(
        self, method: str, path: str, status: int, name: str, body: Any = None
    ) -> dict[str, Any] | list[Any] | None:
        """One request; anything but ``status`` is a failure. The JSON answer, or None."""
        with self.client.request(
            method, path, name=name, json=body, headers=self.headers, catch_response=True
        ) as response:
            if response.status_code != status:
                response.failure(f"expected {status}, got {response.status_code}")
                return None
            if "json" not in (response.headers.get("Content-Type") or ""):
                return None
            try:
                answer: dict[str, Any] | list[Any] = response.json()
            except ValueError:
                response.failure("not JSON")
                return None
            return answer


class ServicePointStaff(RouteCareUser):
    """A volunteer at a point: identify the person (short code or card), record the visit."""

    weight = 72

    def on_start(self) -> None:
        identity = next(_identities("service_point_staff"))
        self.headers = _bearer(identity)
        self.country = identity["country"]
        self.codes: list[str] = plan()["codes"][identity["country"]]
        network_countries = [
            country for country, network in plan()["networks"].items()
            if network == identity["network"] and country != self.country
        ]  # fmt: skip
        self.own_cards: list[str] = plan()["cards"].get(self.country, [])
        self.upstream_cards = [
            text for country in network_countries for text in plan()["cards"].get(country, [])
        ]

    def record_visit(self, person_id: str) -> None:
        self.wait()  # type: ignore[no-untyped-call]  # asking what the person needs, handing it over
        services, triage = random.choice(VISITS)
        body: dict[str, Any] = {"services": services}
        if triage:
            body["triage"] = triage
        self.expect(
            "POST", f"/api/v1/people/{person_id}/encounters", 201,
            "/api/v1/people/[id]/encounters", body,
        )  # fmt: skip

    @task(6)
    def visit_with_short_code(self) -> None:
        answer = self.expect(
            "POST", "/api/v1/people/lookup", 200, "/api/v1/people/lookup",
            {"code": random.choice(self.codes)},
        )  # fmt: skip
        if isinstance(answer, dict) and answer.get("person"):
            self.record_visit(str(answer["person"]["id"]))

    @task(4)
    def visit_with_card(self) -> None:
        own = random.random() < OWN_CARD_SHARE or not self.upstream_cards
        pool = self.own_cards if own and self.own_cards else self.upstream_cards
        if not pool:
            return
        answer = self.expect(
            "POST", "/api/v1/cards/read", 200, "/api/v1/cards/read",
            {"text": random.choice(pool)},
        )  # fmt: skip
        if isinstance(answer, dict) and answer.get("local_person_id"):
            self.record_visit(str(answer["local_person_id"]))


class Coordinator(RouteCareUser):
    """Coordinators (their point's dashboard) and focal points (their society's)."""

    weight = 6

    def on_start(self) -> None:
        self.headers = _bearer(next(_identities("coordinators")))

    @task(3)
    def dashboard_by_month(self) -> None:
        self.expect("GET", "/api/v1/indicators", 200, "/api/v1/indicators (month)")

    @task(2)
    def dashboard_by_day(self) -> None:
        self.expect("GET", "/api/v1/indicators?granularity=day", 200, "/api/v1/indicators (day)")

    @task(2)
    def staff_directory(self) -> None:
        self.expect(
            "GET", "/api/v1/directory/service-points", 200, "/api/v1/directory/service-points"
        )


class RegionalStaff(RouteCareUser):
    """IFRC regional cluster: the network's aggregates."""

    weight = 2

    def on_start(self) -> None:
        identity = next(_identities("regional"))
        self.headers = _bearer(identity)
        self.countries = [
            country
            for country, network in plan()["networks"].items()
            if network == identity["network"]
        ]

    @task(2)
    def network_dashboard(self) -> None:
        self.expect("GET", "/api/v1/indicators", 200, "/api/v1/indicators (network)")

    @task(1)
    def country_dashboard(self) -> None:
        self.expect(
            "GET", f"/api/v1/indicators?country={random.choice(self.countries)}", 200,
            "/api/v1/indicators (network, one country)",
        )  # fmt: skip


class PersonOnTheMove(RouteCareUser):
    """No account: the public directory of the country they are in, in their language."""

    weight = 20

    def on_start(self) -> None:
        self.headers = {}
        country = random.choice(plan()["public"])
        self.country: str = country["country"]
        self.points: list[str] = country["points"]
        self.services: list[str] = country["services"]
        self.lang = random.choice(LANGUAGES)

    @task(4)
    def country_page(self) -> None:
        self.expect(
            "GET", f"/{self.lang}/services/?country={self.country}", 200,
            "/[lang]/services/?country",
        )  # fmt: skip

    @task(2)
    def service_filter(self) -> None:
        service = random.choice(self.services)
        self.expect(
            "GET", f"/{self.lang}/services/?country={self.country}&service={service}", 200,
            "/[lang]/services/?country&service",
        )  # fmt: skip

    @task(1)
    def next_along(self) -> None:
        start, service = random.choice(self.points), random.choice(self.services)
        self.expect(
            "GET", f"/{self.lang}/services/?country={self.country}&from={start}&service={service}",
            200, "/[lang]/services/?from (next along)",
        )  # fmt: skip

    @task(2)
    def point_page(self) -> None:
        self.expect(
            "GET", f"/{self.lang}/services/{random.choice(self.points)}/?country={self.country}",
            200, "/[lang]/services/[point]/",
        )  # fmt: skip

    @task(2)
    def public_api(self) -> None:
        self.expect(
            "GET", f"/api/v1/public/service-points?country={self.country}", 200,
            "/api/v1/public/service-points",
        )  # fmt: skip


@dataclass
class Conversation:
    """A person writing to the helpdesk: their number and where they are in the script."""

    sender: str
    step: int = 0


class WhatsAppPlatform(RouteCareUser):
    """Meta's servers delivering people's messages to the helpdesk's WhatsApp number."""

    weight = 11

    def on_start(self) -> None:
        self.headers = {}
        helpdesk = plan()["helpdesk"]
        self.path = f"/messaging/whatsapp/{helpdesk['slug']}/"
        self.number_id: str = helpdesk["phone_number_id"]
        self.script: list[str] = helpdesk["script"]
        self.app_secret = os.environ[APP_SECRET_ENV]
        self.conversations = [Conversation(new_sender()) for _ in range(CONVERSATIONS)]
        self.turn = itertools.cycle(range(CONVERSATIONS))
        self.recent: deque[bytes] = deque(maxlen=REPLAYABLE)

    @task
    def deliver(self) -> None:
        if self.recent and random.random() < REPLAY_SHARE:
            self.post(random.choice(self.recent), replay=True)
            return
        conversation = self.conversations[next(self.turn)]
        raw = next_delivery(self.number_id, conversation.sender, self.script[conversation.step])
        conversation.step += 1
        if conversation.step == len(self.script):  # the end of it: someone else writes
            conversation.sender, conversation.step = new_sender(), 0
        self.recent.append(raw)
        self.post(raw, replay=False)

    def post(self, raw: bytes, *, replay: bool) -> None:
        """One signed delivery; a first one must be kept, a replay acknowledged and not kept."""
        WEBHOOK["replays" if replay else "distinct_ids"] += 1
        # The raw bytes that were signed (locust documents bytes here; its annotation omits them).
        with self.client.request(
            "POST", self.path, name=WEBHOOK_REPLAY_NAME if replay else WEBHOOK_NAME,
            data=raw,  # type: ignore[arg-type]
            headers=signed_headers(self.app_secret, raw), catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code != 200:
                response.failure(f"expected 200, got {response.status_code}")
                return
            try:
                answer = response.json()
            except ValueError:
                response.failure("not JSON")
                return
            WEBHOOK["acknowledged_kept"] += int(answer.get("kept", 0))
            WEBHOOK["acknowledged_duplicates"] += int(answer.get("duplicates", 0))
            if answer.get("kept") != (0 if replay else 1):
                response.failure(f"kept {answer.get('kept')} of a {'re' if replay else 'first '}"
                                 "delivery")  # fmt: skip


def new_sender() -> str:
    """A WhatsApp number of the load test's own (Honduras' +504), new to the helpdesk."""
    number = next(_SENDERS)
    WEBHOOK["senders"] += 1
    return f"5049{number:07d}"


def next_delivery(number_id: str, sender: str, text: str) -> bytes:
    return whatsapp_text(number_id, sender, f"wamid.LOAD{_RUN}{next(_MESSAGE_IDS):09d}", text)


def save_results(environment: Environment, **_kwargs: Any) -> None:
    """Every endpoint's figures and every error, for ``summary`` (path in RESULTS_ENV)."""
    path = os.environ.get(RESULTS_ENV)
    if not path:
        return
    stats = environment.stats
    results = {
        "started_at": stats.total.start_time,
        "stopped_at": stats.total.last_request_timestamp or time.time(),
        "stats": stats.serialize_stats(),
        "errors": [
            {
                "method": e.method,
                "name": e.name,
                "error": str(e.error),
                "occurrences": e.occurrences,
            }
            for e in stats.errors.values()
        ],
        "users_by_kind": dict(USERS_STARTED),
        "webhook": dict(WEBHOOK),
        "think_time_s": [WAIT_MIN, WAIT_MAX],
    }
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(results, stream)


events.quitting.add_listener(save_results)  # type: ignore[no-untyped-call]
