"""KoboToolbox import against a real HTTP server on 127.0.0.1 serving Kobo-shaped pages:
paging, idempotency, an edited submission, a bad token, a malformed submission, files."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from openpyxl import Workbook

from routecare.audit.models import AuditEvent
from routecare.conftest import Society, register
from routecare.core.loopback import JsonRequest, LoopbackJsonServer
from routecare.flows import stock
from routecare.flows.models import DailyCount
from routecare.indicators import bulk, rollups
from routecare.indicators.kobo import importer
from routecare.indicators.models import (
    Granularity,
    ImportRun,
    KoboConnection,
    PeopleRollup,
    Scope,
    ServiceRollup,
    Training,
)
from routecare.people import actions as people_actions
from routecare.people.models import Encounter

TOKEN = "kobo-test-token"
ASSET = "aTestForm123"
TRAINING_MAPPING = {
    "title": "training/title",
    "topic": "training/topic",
    "day": "training/date",
    "attendance": {
        "repeat": "training/people",
        "role": "training/people/role",
        "sex": "training/people/sex",
        "people": "training/people/count",
    },
}


class KoboServer(LoopbackJsonServer):
    """Kobo's ``/api/v2/assets/<uid>/data/``, paged as Kobo pages it (``start``, ``limit``,
    ``next``), behind its token."""

    def __init__(self) -> None:
        super().__init__()
        self.submissions: list[dict[str, Any]] = []
        self.requests: list[str] = []

    def get(self, request: JsonRequest) -> None:
        self.requests.append(request.path)
        if request.headers.get("Authorization") != f"Token {TOKEN}":
            return request.answer(401, {"detail": "Invalid token."})
        if request.path_only != f"/api/v2/assets/{ASSET}/data/":
            return request.answer(404, {"detail": "Not found."})
        query = parse_qs(request.query)
        start, limit = int(query["start"][0]), int(query["limit"][0])
        page = self.submissions[start : start + limit]
        more = start + limit < len(self.submissions)
        next_url = f"{self.url}{request.path_only}?start={start + limit}&limit={limit}"
        return request.answer(
            200,
            {
                "count": len(self.submissions),
                "next": next_url if more else None,
                "previous": None,
                "results": page,
            },
        )


@pytest.fixture
def kobo(settings: Any) -> Iterator[KoboServer]:
    settings.KOBO_ALLOW_HTTP = True
    with KoboServer() as server:
        yield server


def _training(n: int) -> dict[str, Any]:
    day = timezone.localdate() - dt.timedelta(days=n % 60)
    return {
        "_id": 1000 + n,
        "_uuid": f"00000000-0000-4000-8000-{n:012d}",
        "meta/instanceID": f"uuid:00000000-0000-4000-8000-{n:012d}",
        "_submission_time": f"{day.isoformat()}T10:00:00",
        "training/title": f"First aid session {n}",
        "training/topic": "first-aid",
        "training/date": day.isoformat(),
        "training/people": [
            {"training/people/role": "volunteer", "training/people/sex": "female",
             "training/people/count": "3"},
            {"training/people/role": "staff", "training/people/sex": "male",
             "training/people/count": "1"},
        ],
    }  # fmt: skip


def _connect(society: Society, kobo: KoboServer, **overrides: Any) -> KoboConnection:
    values: dict[str, Any] = {
        "name": "Trainings form",
        "server_url": kobo.url,
        "token": TOKEN,
        "asset_uid": ASSET,
        "target": "training",
        "form_mapping": TRAINING_MAPPING,
    } | overrides
    return importer.connect_form(society.actor("focal_point"), **values)


def test_2500_submissions_over_three_pages_are_imported_once(
    own: Society, kobo: KoboServer
) -> None:
    kobo.submissions = [_training(n) for n in range(2500)]
    kobo.submissions[1234]["training/people"][0]["training/people/count"] = "many"  # malformed
    connection = _connect(own, kobo)
    run = importer.pull(connection)
    assert len(kobo.requests) == 3  # 1000 + 1000 + 500
    assert all("limit=1000" in path for path in kobo.requests)
    assert (run.fetched, run.created, run.updated) == (2500, 2499, 0)
    assert run.status == ImportRun.Status.DONE_WITH_ERRORS
    assert run.errors == [
        {
            "submission": "00000000-0000-4000-8000-000000001234",
            "error": "people is not a whole number.",
        }
    ]
    assert Training.objects.count() == 2499
    # Pulled again: nothing new.
    again = importer.pull(connection)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2499)
    assert Training.objects.count() == 2499
    # One submission edited in Kobo (a new instanceID, the old one deprecated): it updates.
    edited = copy.deepcopy(kobo.submissions[7])
    edited["meta/deprecatedID"] = edited["meta/instanceID"]
    edited["_uuid"] = "11111111-0000-4000-8000-000000000007"
    edited["meta/instanceID"] = "uuid:11111111-0000-4000-8000-000000000007"
    edited["training/people"][0]["training/people/count"] = "10"
    kobo.submissions[7] = edited
    third = importer.pull(connection)
    assert (third.created, third.updated) == (0, 1)
    assert Training.objects.count() == 2499
    assert Training.objects.get(title="First aid session 7").attended == 11


def test_a_bad_token_imports_nothing_and_says_so(own: Society, kobo: KoboServer) -> None:
    kobo.submissions = [_training(1)]
    connection = _connect(own, kobo, token="wrong")
    run = importer.pull(connection)
    assert run.status == ImportRun.Status.FAILED
    assert run.message == "The Kobo server refused the API token."
    assert not Training.objects.exists()


def test_an_unreachable_server_or_unknown_form_imports_nothing(
    own: Society, kobo: KoboServer
) -> None:
    unknown = importer.pull(_connect(own, kobo, asset_uid="aNoSuchForm"))
    assert unknown.message == "The Kobo server has no form with that asset uid."
    unreachable = importer.pull(_connect(own, kobo, server_url="http://127.0.0.1:9"))
    assert unreachable.status == ImportRun.Status.FAILED
    assert unreachable.message.startswith("Could not reach the Kobo server")
    assert not Training.objects.exists()


def test_daily_counts_from_a_repeat_group_and_per_submission_errors(
    own: Society, kobo: KoboServer
) -> None:
    today = timezone.localdate().isoformat()
    base = {"_uuid": "a", "site/point": own.point.code, "site/day": today, "site/total": "9",
            "site/rows": [{"site/rows/sex": "female", "site/rows/age": "18-59",
                           "site/rows/n": "9"}]}  # fmt: skip
    kobo.submissions = [
        base,
        base | {"_uuid": "b", "site/point": "nowhere"},
        base | {"_uuid": "c", "site/total": "4"},  # breakdown adds up to 9, not 4
        base | {"_uuid": "d", "site/day": "2000-01-01", "site/point": own.second_point.code},
        {"_uuid": "e"},
    ]
    connection = _connect(
        own, kobo, target="daily-count",
        form_mapping={"service_point": "site/point", "day": "site/day", "people": "site/total",
                      "breakdown": {"repeat": "site/rows", "sex": "site/rows/sex",
                                    "age_band": "site/rows/age", "people": "site/rows/n"}},
    )  # fmt: skip
    run = importer.pull(connection)
    assert run.created == 1
    errors = {e["submission"]: e["error"] for e in run.errors}
    assert errors["b"] == "Unknown service point code of this society."
    assert "adds up to 9, not the 4 people counted" in errors["c"]
    assert errors["d"] == "Corrections go back 90 days at most."
    assert errors["e"].startswith("No answer to site/point")
    count = DailyCount.objects.get()
    assert (count.people, count.by_sex_and_age) == (9, {"female": {"18-59": 9}})


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"server_url": "ftp://example.org"}, "server_url"),
        ({"asset_uid": "a/../b"}, "asset_uid"),
        ({"form_mapping": {"title": "t"}}, "mapping"),
        ({"form_mapping": TRAINING_MAPPING | {"colour": "x"}}, "mapping"),
        ({"target": "weather"}, "mapping"),
        ({"token": ""}, "token"),
    ],
)
def test_bad_connections_are_refused(
    own: Society, kobo: KoboServer, values: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        _connect(own, kobo, **values)
    assert field in caught.value.message_dict
    assert not KoboConnection.objects.exists()


def test_only_focal_points_connect_forms(own: Society, kobo: KoboServer) -> None:
    with pytest.raises(PermissionError):
        importer.connect_form(
            own.actor("coordinator"), name="x", server_url=kobo.url, token=TOKEN,
            asset_uid=ASSET, target="training", form_mapping=TRAINING_MAPPING,
        )  # fmt: skip


def test_exported_files_import_like_the_server(
    own: Society, kobo: KoboServer, web: Callable[..., Client]
) -> None:
    connection = _connect(own, kobo)
    client = web(own.focal_point, own.point)
    export = json.dumps({"results": [_training(1), _training(2)]}).encode()
    uploaded = io.BytesIO(export)
    uploaded.name = "export.json"
    client.post(f"/indicators/kobo/{connection.pk}/upload/", {"file": uploaded})
    assert Training.objects.count() == 2
    # The same two in an XLSX export (no repeat groups there): refused per submission.
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["_uuid", "training/title", "training/topic", "training/date"])
    sheet.append([_training(1)["_uuid"], "First aid session 1", "first-aid", "2026-01-01"])
    content = io.BytesIO()
    book.save(content)
    run = importer.upload(own.actor("focal_point"), connection, "export.xlsx", content.getvalue())
    assert run.message.startswith("This form's mapping has a repeat group (attendance)")
    assert Training.objects.count() == 2
    counts = _connect(own, kobo, name="Counts", asset_uid="aCountsForm", target="daily-count",
                      form_mapping={"service_point": "p", "day": "d", "people": "n"})  # fmt: skip
    damaged = importer.upload(own.actor("focal_point"), counts, "export.xlsx", b"nope")
    assert damaged.message == "The file is not a readable XLSX workbook."
    wrong = importer.upload(own.actor("focal_point"), connection, "export.csv", b"a,b")
    assert wrong.message == "Upload a .json or .xlsx export."
    page = client.get("/indicators/kobo/").content.decode()
    assert "Trainings form" in page
    assert TOKEN not in page  # the token is never shown again


def test_the_page_connects_and_pulls(
    own: Society, kobo: KoboServer, web: Callable[..., Client]
) -> None:
    kobo.submissions = [_training(n) for n in range(3)]
    client = web(own.focal_point, own.point)
    bad = client.post("/indicators/kobo/", {"name": "x", "server_url": kobo.url, "token": TOKEN,
                                            "asset_uid": ASSET, "target": "training",
                                            "mapping": "{not json"})  # fmt: skip
    assert b"The mapping is not valid JSON." in bad.content
    made = client.post(
        "/indicators/kobo/",
        {"name": "Trainings", "server_url": kobo.url, "token": TOKEN, "asset_uid": ASSET,
         "target": "training", "mapping": json.dumps(TRAINING_MAPPING)},
    )  # fmt: skip
    assert made.status_code == 302
    connection = KoboConnection.objects.get()
    assert connection.token == TOKEN  # readable by RouteCare, encrypted in the database
    client.post(f"/indicators/kobo/{connection.pk}/pull/")
    assert Training.objects.count() == 3
    assert web(own.coordinator, own.point).get("/indicators/kobo/").status_code == 403


ENCOUNTER_MAPPING = {
    "service_point": {"value": "hn-1"},
    "person": "visit/code",
    "occurred_at": "visit/when",
    "services": "visit/services",
    "triage": "visit/triage",
    "service_lines": {
        "repeat": "visit/lines",
        "service": "visit/lines/service",
        "quantity": "visit/lines/quantity",
    },
}


def test_encounters_of_registered_people_and_an_edit_as_a_correction(
    own: Society, outsider: Society, kobo: KoboServer
) -> None:
    person, other = register(own), register(own)
    stranger = register(outsider)
    when = (timezone.now() - dt.timedelta(hours=2)).astimezone(dt.timezone(dt.timedelta(hours=-6)))
    line = {"visit/lines/service": "food", "visit/lines/quantity": "2"}
    visit = {"_uuid": "v1", "visit/code": person.short_code, "visit/when": when.isoformat(),
             "visit/services": "water first-aid", "visit/triage": "green",
             "visit/lines": [line]}  # fmt: skip
    kobo.submissions = [
        visit,
        visit | {"_uuid": "v2", "visit/code": "ZZZZ-ZZZZ"},
        visit | {"_uuid": "v3", "visit/code": stranger.short_code},  # another society's
        visit | {"_uuid": "v4", "visit/when": "2026-11-20T10:00:00"},  # no offset
        visit | {"_uuid": "v5", "visit/services": "teleport"},
        visit | {"_uuid": "v6", "visit/services": "", "visit/lines": []},
        visit | {"_uuid": "v7", "visit/triage": "purple"},
    ]
    connection = _connect(own, kobo, target="encounter", form_mapping=ENCOUNTER_MAPPING)
    run = importer.pull(connection)

    assert (run.created, run.fetched) == (1, 7)
    errors = {e["submission"]: e["error"] for e in run.errors}
    assert errors["v2"] == errors["v3"] == "No registered person of this society has that code."
    assert errors["v4"].startswith("occurred_at is not a date and time with its offset")
    assert errors["v5"] == "services has an unknown value."
    assert errors["v6"] == "No service delivered in the submission."
    assert errors["v7"] == "triage has an unknown value."
    assert not any(person.short_code in e["error"] for e in run.errors)  # never the answers
    recorded = Encounter.objects.get()
    assert (recorded.person, recorded.service_point, recorded.triage) == (
        person,
        own.point,
        "green",
    )
    assert recorded.occurred_at == when.replace(microsecond=when.microsecond)
    assert sorted(recorded.services.values_list("service", "quantity")) == [
        ("first-aid", 1), ("food", 2), ("water", 1)
    ]  # fmt: skip
    assert AuditEvent.objects.filter(
        action="create", object_type="encounter", object_id=str(recorded.pk),
        actor=own.focal_point, via="import",
    ).exists()  # fmt: skip

    again = importer.pull(connection)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    # Kobo's edit: a new uuid naming the old one. The encounter is corrected, not changed.
    kobo.submissions = [
        visit | {"_uuid": "v1b", "meta/deprecatedID": "uuid:v1", "visit/services": "water",
                 "visit/lines": []},
        visit | {"_uuid": "v1c", "meta/deprecatedID": "uuid:v1b", "visit/code": other.short_code},
    ]  # fmt: skip
    edited = importer.pull(connection)
    assert edited.updated == 1
    assert edited.errors == [
        {"submission": "v1c",
         "error": "The edit names another person: correct the encounter in RouteCare instead."}
    ]  # fmt: skip
    correction = Encounter.objects.get(corrects=recorded)
    assert list(correction.services.values_list("service", "quantity")) == [("water", 1)]
    rollups.refresh()
    society_day = PeopleRollup.objects.get(
        scope=Scope.SOCIETY, granularity=Granularity.DAY, scope_id=own.society.pk
    )
    assert (society_day.registered, society_day.encounters) == (1, 1)


# Issue 20: once per form and submission, XLSX with repeat groups, select_multiple,
# validation statuses.

NOT_APPROVED = {
    "timestamp": 1764840000,
    "uid": "validation_status_not_approved",
    "by_whom": "supervisor",
    "color": "#ff0000",
    "label": "Not Approved",
}
APPROVED = NOT_APPROVED | {"uid": "validation_status_approved", "label": "Approved"}
DAILY_MAPPING = {
    "service_point": "site/point",
    "day": "site/day",
    "people": "site/total",
    "breakdown": {
        "repeat": "site/rows",
        "sex": "site/rows/sex",
        "age_band": "site/rows/age",
        "people": "site/rows/n",
    },
}


def test_the_same_form_twice_in_one_society_is_refused_naming_the_first(
    own: Society, kobo: KoboServer
) -> None:
    first = _connect(own, kobo, name="Trainings 2026")
    for server in (kobo.url, kobo.url + "/", kobo.url.upper().replace("HTTP://", "http://")):
        with pytest.raises(ValidationError) as caught:
            _connect(own, kobo, name="Again", server_url=server, target="daily-count",
                     form_mapping=DAILY_MAPPING)  # fmt: skip
        assert caught.value.message_dict["asset_uid"] == [
            "This form is already connected as “Trainings 2026”."
        ]
    assert list(KoboConnection.objects.all()) == [first]


def test_another_society_connects_the_same_form_separately_and_learns_nothing(
    own: Society, outsider: Society, kobo: KoboServer, web: Callable[..., Client]
) -> None:
    kobo.submissions = [_training(1), _training(2)]
    ours = _connect(own, kobo, name="Our secret trainings")
    theirs = _connect(outsider, kobo, name="Serbian trainings")
    assert importer.pull(ours).created == 2
    assert importer.pull(theirs).created == 2
    assert importer.pull(ours).unchanged == 2
    assert Training.objects.filter(national_society=own.society).count() == 2
    assert Training.objects.filter(national_society=outsider.society).count() == 2
    page = web(outsider.focal_point, outsider.point).post(
        "/indicators/kobo/",
        {"name": "Once more", "server_url": kobo.url, "token": TOKEN, "asset_uid": ASSET,
         "target": "training", "mapping": json.dumps(TRAINING_MAPPING)},
    ).content.decode()  # fmt: skip
    assert "Serbian trainings" in page  # its own connection is named
    assert "Our secret trainings" not in page


def test_a_submission_is_known_by_its_form_and_root_uuid_across_connections(
    own: Society, kobo: KoboServer
) -> None:
    """An older duplicate connection (disabled when the constraint came) imported a
    submission; the form's connection recognises it, and an edit (same rootUuid, a new
    instanceID and _uuid, no deprecatedID, no _id as in a file export) replaces it."""
    submission = _training(3) | {"meta/rootUuid": "uuid:root-0003"}
    submission.pop("_id")
    kobo.submissions = [submission]
    old = _connect(own, kobo, name="Old")
    assert importer.pull(old).created == 1
    KoboConnection.objects.filter(pk=old.pk).update(enabled=False)
    current = KoboConnection.objects.create(
        national_society=own.society, name="Current", server_url=old.server_url, token=TOKEN,
        asset_uid=ASSET, target="training", mapping=TRAINING_MAPPING,
        created_by=own.focal_point,
    )  # fmt: skip
    assert importer.pull(current).unchanged == 1
    edited = copy.deepcopy(submission)
    edited["_uuid"] = "22222222-0000-4000-8000-000000000003"
    edited["meta/instanceID"] = "uuid:22222222-0000-4000-8000-000000000003"
    edited["training/people"][0]["training/people/count"] = "7"
    kobo.submissions = [edited]
    run = importer.pull(current)
    assert (run.created, run.updated) == (0, 1)
    assert Training.objects.get().attended == 8


def test_an_xlsx_upload_for_a_mapping_with_a_repeat_group_is_refused(
    own: Society, kobo: KoboServer
) -> None:
    connection = _connect(own, kobo, target="daily-count", form_mapping=DAILY_MAPPING)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["_uuid", "site/point", "site/day", "site/total"])
    sheet.append(["x1", own.point.code, timezone.localdate().isoformat(), "9"])
    content = io.BytesIO()
    book.save(content)
    run = importer.upload(own.actor("focal_point"), connection, "export.xlsx", content.getvalue())
    assert run.status == ImportRun.Status.FAILED
    assert run.message == (
        "This form's mapping has a repeat group (breakdown), which an XLSX export keeps on "
        "other sheets: upload the JSON export instead (see the documentation)."
    )
    assert (run.created, run.updated) == (0, 0)
    assert not DailyCount.objects.exists()


def test_a_select_multiple_answer_counts_each_service_once(own: Society, kobo: KoboServer) -> None:
    person = register(own)
    when = (timezone.now() - dt.timedelta(hours=1)).astimezone(dt.UTC).isoformat()
    kobo.submissions = [
        {"_uuid": "w1", "visit/code": person.short_code, "visit/when": when,
         "visit/services": "water  water first-aid"}
    ]  # fmt: skip
    connection = _connect(
        own, kobo, target="encounter",
        form_mapping={"service_point": {"value": own.point.code}, "person": "visit/code",
                      "occurred_at": "visit/when", "services": "visit/services"},
    )  # fmt: skip
    assert importer.pull(connection).created == 1
    assert sorted(Encounter.objects.get().services.values_list("service", "quantity")) == [
        ("first-aid", 1), ("water", 1)
    ]  # fmt: skip


def _daily(own: Society, uuid_text: str, people: int, days_back: int) -> dict[str, Any]:
    day = timezone.localdate() - dt.timedelta(days=days_back)
    return {"_id": days_back, "_uuid": uuid_text, "meta/rootUuid": f"uuid:{uuid_text}",
            "site/point": own.point.code, "site/day": day.isoformat(),
            "site/total": str(people), "_validation_status": {}}  # fmt: skip


def _society_people(own: Society) -> int:
    return sum(
        PeopleRollup.objects.filter(
            scope=Scope.SOCIETY, granularity=Granularity.DAY, scope_id=own.society.pk
        ).values_list("counted", flat=True)
    )


def test_not_approved_submissions_are_skipped_and_counted_as_skipped(
    own: Society, outsider: Society, kobo: KoboServer, web: Callable[..., Client]
) -> None:
    kobo.submissions = [
        _daily(own, "d1", 5, 1),
        _daily(own, "d2", 6, 2) | {"_validation_status": NOT_APPROVED},
        _daily(own, "d3", 7, 3) | {"_validation_status": APPROVED},
        # Odd payloads are reported, never a failure of the whole run.
        _daily(own, "d4", 1, 4) | {"_validation_status": "validation_status_not_approved"},
        _daily(own, "d5", 1, 5) | {"meta/rootUuid": ["uuid:" + "x" * 80]},
    ]
    mapping = {k: v for k, v in DAILY_MAPPING.items() if k != "breakdown"}
    connection = _connect(own, kobo, target="daily-count", form_mapping=mapping)
    run = importer.pull(connection)
    assert (run.created, run.skipped) == (3, 1)
    assert run.errors == [{"submission": "d5", "error": "The submission's uuids are not Kobo's."}]
    DailyCount.objects.filter(people=1).delete()
    kobo.submissions = kobo.submissions[:3]
    assert sorted(DailyCount.objects.values_list("people", flat=True)) == [5, 7]
    client = web(own.focal_point, own.point)
    page = client.get("/indicators/kobo/").content.decode()
    assert 'data-skipped="1"' in page
    # A connection set to include them imports it; another society cannot set it.
    setting = {"setting": "1", "connection": str(connection.pk), "include_not_approved": "on"}
    stranger = web(outsider.focal_point, outsider.point).post("/indicators/kobo/", setting)
    assert stranger.status_code == 404
    assert client.post("/indicators/kobo/", setting | {"connection": "nope"}).status_code == 302
    assert client.post("/indicators/kobo/", setting).status_code == 302
    connection.refresh_from_db()
    assert connection.include_not_approved
    assert importer.pull(connection).created == 1
    assert DailyCount.objects.count() == 3


def test_a_submission_rejected_after_import_is_withdrawn_at_the_next_pull(
    own: Society, kobo: KoboServer
) -> None:
    kobo.submissions = [_daily(own, "d1", 5, 1), _daily(own, "d2", 6, 2)]
    mapping = {k: v for k, v in DAILY_MAPPING.items() if k != "breakdown"}
    connection = _connect(own, kobo, target="daily-count", form_mapping=mapping)
    assert importer.pull(connection).created == 2
    rollups.refresh()
    assert _society_people(own) == 11
    kobo.submissions[1]["_validation_status"] = NOT_APPROVED
    run = importer.pull(connection)
    assert (run.withdrawn, run.created, run.unchanged) == (1, 0, 1)
    assert list(DailyCount.objects.values_list("people", flat=True)) == [5]
    assert AuditEvent.objects.filter(
        action="delete", object_type="daily_count", actor=own.focal_point,
        detail="kobo: not approved",
    ).count() == 1  # fmt: skip
    rollups.refresh()
    assert _society_people(own) == 5
    again = importer.pull(connection)
    assert (again.withdrawn, again.skipped, again.unchanged) == (0, 1, 1)
    # Approved again in Kobo: imported again.
    kobo.submissions[1]["_validation_status"] = APPROVED
    assert importer.pull(connection).created == 1
    rollups.refresh()
    assert _society_people(own) == 11


def test_a_training_rejected_after_import_is_withdrawn(own: Society, kobo: KoboServer) -> None:
    kobo.submissions = [_training(1), _training(2)]
    connection = _connect(own, kobo)
    importer.pull(connection)
    kobo.submissions[0]["_validation_status"] = NOT_APPROVED
    assert importer.pull(connection).withdrawn == 1
    assert list(Training.objects.values_list("title", flat=True)) == ["First aid session 2"]


def test_trainings_imported_twice_by_duplicate_connections_count_once_at_the_next_pull(
    own: Society, kobo: KoboServer
) -> None:
    """Before the rule, a second connection to the same form imported every training again;
    the migration disables the later one, and the next pull withdraws its copies."""
    kobo.submissions = [_training(1), _training(2)]
    kept = _connect(own, kobo, name="First")
    # An old row, its address spelt otherwise (the migration writes one spelling).
    duplicate = KoboConnection.objects.create(
        national_society=own.society, name="Second", server_url=kept.server_url + "/",
        token=TOKEN, asset_uid=ASSET, target="training", mapping=TRAINING_MAPPING,
        created_by=own.focal_point,
    )  # fmt: skip
    assert importer.pull(kept).created == 2
    assert importer.pull(duplicate).created == 2  # what the old code did on every pull
    assert Training.objects.count() == 4
    KoboConnection.objects.filter(pk=duplicate.pk).update(server_url=kept.server_url, enabled=False)
    run = importer.pull(kept)
    assert (run.unchanged, run.withdrawn, run.errors) == (2, 2, [])
    assert sorted(Training.objects.values_list("title", flat=True)) == [
        "First aid session 1", "First aid session 2"
    ]  # fmt: skip
    assert importer.pull(kept).withdrawn == 0
    assert Training.objects.count() == 2


def _visits(own: Society) -> tuple[dict[str, int], dict[str, int]]:
    """People supported, encounters and health consultations of the society today and the
    quantities of services delivered at its point, as the dashboards read them."""
    rows = PeopleRollup.objects.filter(
        scope=Scope.SOCIETY, granularity=Granularity.DAY, scope_id=own.society.pk
    )
    people = {
        name: sum(rows.values_list(name, flat=True))
        for name in ("registered", "encounters", "consultations")
    }
    services = dict(
        ServiceRollup.objects.filter(service_point=own.point).values_list("service", "quantity")
    )
    return people, services


def _visit_form(own: Society, kobo: KoboServer) -> KoboConnection:
    return _connect(
        own, kobo, target="encounter",
        form_mapping={"service_point": {"value": own.point.code}, "person": "visit/code",
                      "occurred_at": "visit/when", "services": "visit/services"},
    )  # fmt: skip


def test_an_encounter_rejected_after_import_is_withdrawn_and_counted_again_once_approved(
    own: Society, kobo: KoboServer, django_capture_on_commit_callbacks: Any
) -> None:
    water = stock.save_item(
        own.actor("coordinator"), own.point, kind="water", name="Water 1.5 l",
        unit="bottles", minimum=1, service="water", level=20,
    )  # fmt: skip
    person = register(own)
    when = (timezone.now() - dt.timedelta(hours=1)).astimezone(dt.UTC).isoformat()
    kobo.submissions = [{"_uuid": "e1", "visit/code": person.short_code, "visit/when": when,
                         "visit/services": "water first-aid"}]  # fmt: skip
    connection = _visit_form(own, kobo)

    def pull() -> ImportRun:
        with django_capture_on_commit_callbacks(execute=True):
            return importer.pull(connection)

    assert pull().created == 1
    rollups.refresh()
    counted = {"registered": 1, "encounters": 1, "consultations": 1}
    assert _visits(own) == (counted, {"water": 1, "first-aid": 1})
    water.refresh_from_db()
    assert water.level == 19

    kobo.submissions[0]["_validation_status"] = NOT_APPROVED
    run = pull()
    assert (run.withdrawn, run.errors) == (1, [])
    rollups.refresh()
    nothing = {"registered": 0, "encounters": 0, "consultations": 0}
    assert _visits(own) == (nothing, {})
    bulk.rebuild_all()  # the bulk rebuild agrees
    assert _visits(own) == (nothing, {})
    water.refresh_from_db()
    assert water.level == 20
    imported = Encounter.objects.get(voids=False)
    voiding = Encounter.objects.get(corrects=imported)
    assert voiding.voids
    assert AuditEvent.objects.filter(
        action="create", object_type="encounter", object_id=str(voiding.pk),
        actor=own.focal_point, via="import", detail=f"voids {imported.pk}",
    ).exists()  # fmt: skip
    again = pull()
    assert (again.withdrawn, again.skipped, again.created) == (0, 1, 0)

    # Approved again in Kobo: recorded again, and counted once.
    kobo.submissions[0]["_validation_status"] = APPROVED
    assert pull().created == 1
    rollups.refresh()
    assert _visits(own) == (counted, {"water": 1, "first-aid": 1})
    assert Encounter.objects.current().count() == 1
    water.refresh_from_db()
    assert water.level == 19
    assert (pull().unchanged, Encounter.objects.count()) == (1, 3)


def test_an_encounter_corrected_in_routecare_then_rejected_in_kobo_is_withdrawn(
    own: Society, kobo: KoboServer
) -> None:
    person = register(own)
    when = (timezone.now() - dt.timedelta(hours=1)).astimezone(dt.UTC).isoformat()
    kobo.submissions = [{"_uuid": "e1", "visit/code": person.short_code, "visit/when": when,
                         "visit/services": "water"}]  # fmt: skip
    connection = _visit_form(own, kobo)
    importer.pull(connection)
    correction = people_actions.record_encounter(
        own.actor(), person, services=[("food", 1)], corrects=Encounter.objects.get()
    )
    kobo.submissions[0]["_validation_status"] = NOT_APPROVED
    assert importer.pull(connection).withdrawn == 1
    assert Encounter.objects.get(voids=True).corrects == correction
    assert not Encounter.objects.current().exists()
    rollups.refresh()
    assert _visits(own)[0]["registered"] == 0
