"""The helpdesk in the load test's mix (issue 23): the channel the plan prepares, the signed
deliveries the locust platform users send (taken from the real user class, run in a process of
its own since locust monkey-patches with gevent), accepted and answered by the real webhook and
worker code, and the report of what was kept. No load is run."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings

from routecare.bench.load import helpdesk, run
from routecare.bench.load.prepare import HELPDESK_SCRIPT, HELPDESK_SLUG, prepare_plan
from routecare.bench.load.summary import (
    TARGETS,
    WEBHOOK_NAME,
    WEBHOOK_REPLAY_NAME,
    summarise,
)
from routecare.messaging.loopback import FakePlatforms
from routecare.messaging.models import Channel, Conversation, ConversationState, Message

APP_SECRET = "load-test-app-secret"
# Runs the locust platform user's task with a client that records instead of sending: what
# the user would have posted, as JSON on stdout.
DRIVE_THE_PLATFORM_USER = """
import base64, contextlib, importlib.util, json, sys
from locust.env import Environment

spec = importlib.util.spec_from_file_location("locustfile", sys.argv[1])
locustfile = importlib.util.module_from_spec(spec)
sys.modules["locustfile"] = locustfile  # as locust imports it
spec.loader.exec_module(locustfile)
sent = []


class Response:
    status_code = 200

    def json(self):
        return {"kept": 1, "duplicates": 0}

    def failure(self, reason):
        pass


class Recorder:
    @contextlib.contextmanager
    def request(self, method, path, name, data, headers, catch_response):
        sent.append({"method": method, "path": path, "name": name, "headers": headers,
                     "body": base64.b64encode(data).decode()})
        yield Response()


locustfile.WhatsAppPlatform.host = "http://127.0.0.1:9"  # never called: the recorder is
user = locustfile.WhatsAppPlatform(Environment())
user.client = Recorder()
user.on_start()
locustfile.REPLAY_SHARE = 0.0
for _ in range(locustfile.CONVERSATIONS * int(sys.argv[2])):
    user.deliver()
locustfile.REPLAY_SHARE = 1.0
user.deliver()
print(json.dumps(sent))
"""


@pytest.fixture
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _what_the_platform_user_sends(plan_path: Path, rounds: int) -> list[dict[str, Any]]:
    env = {"ROUTECARE_LOAD_PLAN": str(plan_path), helpdesk.APP_SECRET_ENV: APP_SECRET}
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", DRIVE_THE_PLATFORM_USER, str(run.LOCUSTFILE), str(rounds)],
        capture_output=True, text=True, check=False, timeout=120,
        env={**os.environ, **env},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    sent: list[dict[str, Any]] = json.loads(done.stdout)
    return sent


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_passwords")
def test_the_platform_users_deliveries_are_accepted_kept_once_and_answered(
    tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    plan = prepare_plan(people=30, seed=3)
    plan_path = tmp_path / "plan.json"
    plan.write(plan_path)
    # Each of the user's conversations through the whole script, then one replay.
    sent = _what_the_platform_user_sends(plan_path, rounds=len(HELPDESK_SCRIPT))
    *firsts, replay = sent
    assert {request["name"] for request in firsts} == {WEBHOOK_NAME}
    assert replay["name"] == WEBHOOK_REPLAY_NAME
    assert replay["body"] in {request["body"] for request in firsts}

    channel_secrets = {"app_secret": APP_SECRET, "access_token": "t", "verify_token": "v"}
    fake = FakePlatforms(channel_secrets["access_token"], "0:unused")
    with (
        fake,
        override_settings(
            ROUTECARE_MESSAGING_SECRETS={HELPDESK_SLUG: channel_secrets},
            ROUTECARE_WHATSAPP_API=f"{fake.url}/v21.0",
        ),
    ):
        answers = []
        for request in sent:
            before = len(fake.sent)
            with django_capture_on_commit_callbacks(execute=True):
                response = Client().post(
                    request["path"], base64.b64decode(request["body"]),
                    content_type="application/json", headers=request["headers"],
                )  # fmt: skip
            assert response.status_code == 200
            answers.append((response.json(), len(fake.sent) - before))

    assert all(said["kept"] == 1 and count >= 1 for said, count in answers[:-1])
    assert answers[-1] == ({"kept": 0, "duplicates": 1, "statuses": 0, "ignored": 0}, 0)
    channel = Channel.objects.get(slug=HELPDESK_SLUG)
    assert Message.objects.filter(channel=channel, direction="in").count() == len(firsts)
    # Every person went through the script with the bot: nobody was handed to staff (which
    # would silence the bot for the rest of the run).
    conversations = Conversation.objects.filter(contact__channel=channel)
    assert conversations.count() == len(firsts) // len(HELPDESK_SCRIPT)
    assert set(conversations.values_list("state", flat=True)) == {ConversationState.BOT}
    if connection.vendor == "postgresql":
        counted = helpdesk._messages(connection.connection, HELPDESK_SLUG)
        assert counted["kept"] == len(firsts)
        assert counted["same_id_rows"] == 0
        assert sum(counted["by_status"]["out"].values()) == sum(n for _said, n in answers)


def _entry(name: str, times: dict[str, int]) -> dict[str, Any]:
    requests = sum(times.values())
    return {
        "name": name, "method": "POST", "num_requests": requests, "num_failures": 0,
        "total_response_time": sum(int(ms) * n for ms, n in times.items()),
        "max_response_time": max(int(ms) for ms in times), "response_times": times,
        "num_reqs_per_sec": {"1000": requests},
    }  # fmt: skip


def _results() -> dict[str, Any]:
    return {
        "started_at": 1000.0,
        "stopped_at": 1010.0,
        "stats": [
            _entry("/api/v1/people/lookup", {"10": 80}),
            _entry(WEBHOOK_NAME, {"5": 15, "150": 1}),
            _entry(WEBHOOK_REPLAY_NAME, {"4": 2}),
        ],
        "errors": [],
        "webhook": {"distinct_ids": 17, "replays": 2, "senders": 5, "acknowledged_kept": 16},
    }


def _counted(kept: int, same_id_rows: int = 0) -> dict[str, Any]:
    return {
        "inbound_kept": kept, "inbound_same_id_rows": same_id_rows, "inbound_unanswered": 0,
        "answers_by_status": {"sent": 20}, "answers_at_fake": 20, "drain_seconds": 1.0,
    }  # fmt: skip


def test_the_summary_reports_the_webhook_apart_with_its_duplicates() -> None:
    report = summarise(_results(), users=2, spawn_rate=2, targets=TARGETS, helpdesk=_counted(16))

    hooks = report["webhook"]
    assert hooks["deliveries"]["requests"] == 16
    assert hooks["deliveries"]["p50_ms"] == 5
    assert hooks["deliveries"]["p95_ms"] == 150
    assert hooks["replays"]["requests"] == 2
    assert hooks["all"]["requests"] == 18
    assert hooks["sent"]["distinct_ids"] == 17
    assert hooks["kept"]["answers_at_fake"] == 20
    assert hooks["duplicates"] == 0
    # One delivery was under way when locust stopped: not kept, and not missing either.
    assert hooks["cut_when_locust_stopped"] == 1
    assert hooks["not_kept"] == 0
    assert hooks["lost"] == 0
    assert report["endpoints"][f"POST {WEBHOOK_NAME}"]["share"] == 0.163
    assert report["meets_targets"]["webhook_duplicates"] is True
    assert report["meets_targets"]["webhook_p95_ms"] is False  # 150 ms > 100


@pytest.mark.parametrize(("kept", "same_id_rows", "duplicates"), [(18, 0, 1), (16, 1, 1)])
def test_a_message_kept_twice_is_a_duplicate_and_fails_the_target(
    kept: int, same_id_rows: int, duplicates: int
) -> None:
    report = summarise(_results(), users=2, spawn_rate=2, targets=TARGETS,
                       helpdesk=_counted(kept, same_id_rows))  # fmt: skip
    assert report["webhook"]["duplicates"] == duplicates
    assert report["meets_targets"]["webhook_duplicates"] is False


def test_a_delivery_acknowledged_as_kept_and_missing_from_the_database_is_lost() -> None:
    report = summarise(_results(), users=2, spawn_rate=2, targets=TARGETS, helpdesk=_counted(15))
    assert report["webhook"]["lost"] == 1
    assert report["webhook"]["not_kept"] == 1


def test_without_a_count_of_the_database_the_duplicates_are_not_met() -> None:
    report = summarise(_results(), users=2, spawn_rate=2, targets=TARGETS)
    assert "duplicates" not in report["webhook"]
    assert report["meets_targets"]["webhook_duplicates"] is False


def test_the_servers_start_the_channel_and_send_to_the_loopback_fake_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    channel_secrets = helpdesk.run_secrets()
    assert channel_secrets != helpdesk.run_secrets()
    with helpdesk.fake_platforms(channel_secrets) as fake:
        env = helpdesk.server_environment(HELPDESK_SLUG, channel_secrets, fake)
    assert json.loads(env["ROUTECARE_MESSAGING_SECRETS"]) == {HELPDESK_SLUG: channel_secrets}
    assert env["ROUTECARE_WHATSAPP_API"].startswith("http://127.0.0.1:")
    assert env["ROUTECARE_TELEGRAM_API"].startswith("http://127.0.0.1:")
    assert env["ROUTECARE_LOOKUP_KEY"]
    # A developer's own channel secrets never reach the load test's servers.
    monkeypatch.setenv("ROUTECARE_MESSAGING_SECRETS_FILE", "/somewhere/secrets.json")
    served = run.environment(run.LoadOptions(), "load1:x", production=True)
    assert "ROUTECARE_MESSAGING_SECRETS_FILE" not in served
