"""Connecting a Kobo form and importing its submissions, each once.

Each submission is imported in its own transaction through the same actions staff use
(``record_daily_count``, ``record_training``, ``record_encounter``), acting as the focal
point who connected the form. A submission seen before (same ``_id``, same ``_uuid``, or an
edit whose ``meta/deprecatedID`` names it) updates what it became when its content changed
(an encounter, never changed, gets a correction), and is left alone when it did not. A
submission that cannot be mapped is reported and skipped; the rest go on. Reading fails as a
whole (bad token, unreachable server, damaged file) before anything is imported.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from routecare.access import Actor, actor_of
from routecare.audit.actions import record_event
from routecare.flows.actions import record_daily_count
from routecare.flows.models import DailyCount
from routecare.indicators.actions import record_training
from routecare.indicators.kobo import client, mapping
from routecare.indicators.models import (
    ImportedSubmission,
    ImportRun,
    ImportTarget,
    KoboConnection,
    Training,
)
from routecare.orgs.models import Membership, Role, ServicePoint
from routecare.people.actions import record_encounter
from routecare.people.models import Encounter
from routecare.people.selectors import person_with_code

Submission = dict[str, Any]
IGNORED_KEYS = ("_attachments", "_validation_status", "_notes", "_tags", "_geolocation")


def _require_focal_point(actor: Actor) -> None:
    if not actor.administers_society:
        raise PermissionError("Kobo forms are connected by the society's focal points")


@transaction.atomic
def connect_form(
    actor: Actor,
    *,
    name: str,
    server_url: str,
    token: str,
    asset_uid: str,
    target: str,
    form_mapping: dict[str, Any],
) -> KoboConnection:
    _require_focal_point(actor)
    if not name.strip() or len(name) > 120:
        raise ValidationError({"name": _("Name the connection in up to 120 characters.")})
    try:
        client.check_server_url(server_url)
    except client.KoboError as error:
        raise ValidationError({"server_url": str(error)}) from None
    if not token.strip() or len(token) > 200:
        raise ValidationError({"token": _("Paste the Kobo API token.")})
    if not asset_uid.strip().isalnum() or len(asset_uid) > 64:
        raise ValidationError({"asset_uid": _("The asset uid is letters and digits.")})
    try:
        mapping.check(target, form_mapping)
    except mapping.MappingError as error:
        raise ValidationError({"mapping": str(error)}) from None
    connection = KoboConnection.objects.create(
        national_society_id=actor.society_id,
        name=name.strip(),
        server_url=server_url.strip(),
        token=token.strip(),
        asset_uid=asset_uid.strip(),
        target=target,
        mapping=form_mapping,
        created_by=actor.user,
    )
    record_event(actor, "create", "kobo_connection", connection.pk, detail=connection.name)
    return connection


def importing_actor(connection: KoboConnection, point: ServicePoint | None = None) -> Actor:
    """The focal point who connected the form, working at the submission's point."""
    user = connection.created_by
    membership = (
        Membership.objects.filter(
            user=user, role=Role.FOCAL_POINT, national_society_id=connection.national_society_id
        ).first()
        if user is not None
        else None
    )
    if membership is None or user is None or not user.is_active:
        raise PermissionError(
            _("The person who connected this form no longer administers the society.")
        )
    return actor_of(user, membership, point, "import")


def _key(submission: Submission) -> tuple[str, str | None, int | None]:
    """The submission's uuid, the uuid it replaces (an edit) and its Kobo id."""
    uuid_text = str(submission.get("_uuid") or submission.get("meta/instanceID") or "")
    uuid_text = uuid_text.removeprefix("uuid:")
    deprecated = submission.get("meta/deprecatedID")
    kobo_id = submission.get("_id")
    return (
        uuid_text,
        str(deprecated).removeprefix("uuid:") if deprecated else None,
        kobo_id if isinstance(kobo_id, int) else None,
    )


def _hash(submission: Submission) -> str:
    content = {k: v for k, v in submission.items() if k not in IGNORED_KEYS}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def _point(connection: KoboConnection, code: str | None) -> ServicePoint | None:
    if code is None:
        return None
    point = ServicePoint.objects.filter(
        code=code, national_society_id=connection.national_society_id
    ).first()
    if point is None:
        raise mapping.MappingError(_("Unknown service point code of this society."))
    return point


def _import_daily_count(
    connection: KoboConnection, submission: Submission, previous: ImportedSubmission | None
) -> str:
    values = mapping.daily_count(submission, connection.mapping)
    point = _point(connection, values.pop("service_point"))
    actor = importing_actor(connection, point)
    count = record_daily_count(
        actor,
        day=values["day"],
        people=values["people"],
        new_arrivals=values["new_arrivals"] or 0,
        departures=values["departures"] or 0,
        staff_on_duty=values["staff_on_duty"],
        by_sex_and_age=values["by_sex_and_age"],
    )
    if previous is not None and previous.object_id != str(count.pk):
        # The edit moved the count to another point or day: the old one goes.
        DailyCount.objects.filter(pk=previous.object_id).delete()
        record_event(actor, "delete", "daily_count", previous.object_id, detail="kobo edit")
    return str(count.pk)


def _import_training(
    connection: KoboConnection, submission: Submission, previous: ImportedSubmission | None
) -> str:
    values = mapping.training(submission, connection.mapping)
    point = _point(connection, values.pop("service_point"))
    existing = None
    if previous is not None:
        existing = Training.objects.filter(pk=previous.object_id).first()
    made = record_training(
        importing_actor(connection), service_point=point, training=existing, **values
    )
    return str(made.pk)


def _import_encounter(
    connection: KoboConnection, submission: Submission, previous: ImportedSubmission | None
) -> str:
    """A visit of a registered person. Encounters are never changed: an edited submission
    records a correction of what it recorded before (a correction of the same person)."""
    values = mapping.encounter(submission, connection.mapping)
    point = _point(connection, values["service_point"])
    actor = importing_actor(connection, point)
    person = person_with_code(actor, values["person"])
    if person is None:
        raise mapping.MappingError(_("No registered person of this society has that code."))
    corrects = None
    if previous is not None:
        corrects = Encounter.objects.filter(pk=previous.object_id).first()
        if corrects is not None and corrects.person_id != person.pk:
            raise mapping.MappingError(
                _("The edit names another person: correct the encounter in RouteCare instead.")
            )
    made = record_encounter(
        actor,
        person,
        services=values["services"],
        triage=values["triage"],
        occurred_at=values["occurred_at"],
        corrects=corrects,
    )
    return str(made.pk)


IMPORTERS: dict[str, Callable[[KoboConnection, Submission, ImportedSubmission | None], str]] = {
    ImportTarget.DAILY_COUNT: _import_daily_count,
    ImportTarget.TRAINING: _import_training,
    ImportTarget.ENCOUNTER: _import_encounter,
}


def _previous(
    connection: KoboConnection, uuid_text: str, deprecated: str | None, kobo_id: int | None
) -> ImportedSubmission | None:
    known = ImportedSubmission.objects.filter(connection=connection)
    for lookup in (
        {"kobo_id": kobo_id} if kobo_id is not None else None,
        {"submission_uuid": uuid_text},
        {"submission_uuid": deprecated} if deprecated else None,
    ):
        if lookup is not None:
            found = known.filter(**lookup).first()
            if found is not None:
                return found
    return None


def _import_one(connection: KoboConnection, submission: Submission, run: ImportRun) -> None:
    uuid_text, deprecated, kobo_id = _key(submission)
    label = uuid_text or str(kobo_id or "?")
    if not uuid_text:
        run.errors.append({"submission": label, "error": _("The submission has no _uuid.")})
        return
    content_hash = _hash(submission)
    previous = _previous(connection, uuid_text, deprecated, kobo_id)
    if previous is not None and previous.content_hash == content_hash:
        run.unchanged += 1
        return
    try:
        with transaction.atomic():
            object_id = IMPORTERS[connection.target](connection, submission, previous)
            values = {"kobo_id": kobo_id, "submission_uuid": uuid_text,
                      "content_hash": content_hash, "object_type": connection.target,
                      "object_id": object_id, "imported_at": timezone.now()}  # fmt: skip
            if previous is None:
                ImportedSubmission.objects.create(connection=connection, **values)
            else:
                ImportedSubmission.objects.filter(pk=previous.pk).update(**values)
    except mapping.MappingError as error:
        run.errors.append({"submission": label, "error": str(error)})
    except ValidationError as error:
        run.errors.append({"submission": label, "error": " ".join(error.messages)})
    except PermissionError as error:
        run.errors.append({"submission": label, "error": str(error)})
    else:
        if previous is None:
            run.created += 1
        else:
            run.updated += 1


def import_submissions(
    connection: KoboConnection, submissions: list[Submission], source: str
) -> ImportRun:
    run = ImportRun.objects.create(connection=connection, source=source)
    run.fetched = len(submissions)
    for submission in submissions:
        if not isinstance(submission, dict):
            run.errors.append({"submission": "?", "error": _("Not a submission object.")})
            continue
        _import_one(connection, submission, run)
    run.status = ImportRun.Status.DONE_WITH_ERRORS if run.errors else ImportRun.Status.DONE
    run.errors = run.errors[:500]
    run.finished_at = timezone.now()
    run.save()
    return run


def _failed(connection: KoboConnection, source: str, message: str) -> ImportRun:
    return ImportRun.objects.create(
        connection=connection, source=source, status=ImportRun.Status.FAILED,
        message=message[:300], finished_at=timezone.now(),
    )  # fmt: skip


def pull(connection: KoboConnection) -> ImportRun:
    """Read the form's submissions from its server and import them."""
    try:
        importing_actor(connection)
        submissions = client.fetch(
            connection.server_url, str(connection.token), connection.asset_uid
        )
    except (client.KoboError, PermissionError) as error:
        return _failed(connection, "server", str(error))
    return import_submissions(connection, submissions, "server")


def upload(actor: Actor, connection: KoboConnection, name: str, content: bytes) -> ImportRun:
    """Import an exported JSON or XLSX file of the form's submissions."""
    _require_focal_point(actor)
    if connection.national_society_id != actor.national_society_id:
        raise PermissionError("another society's connection")
    try:
        submissions = client.read_file(name, content)
    except client.KoboError as error:
        return _failed(connection, "file", str(error))
    record_event(actor, "import", "kobo_connection", connection.pk, detail=name[:100])
    return import_submissions(connection, submissions, "file")


def pull_all() -> str:
    """The periodic job: every enabled connection."""
    runs = [pull(connection) for connection in KoboConnection.objects.filter(enabled=True)]
    return f"{len(runs)} Kobo forms pulled, {sum(r.created + r.updated for r in runs)} changes"
