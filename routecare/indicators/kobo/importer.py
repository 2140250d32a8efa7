"""Connecting a Kobo form and importing its submissions, each once.

Each submission is imported in its own transaction through the same actions staff use
(``record_daily_count``, ``record_training``, ``record_encounter``), acting as the focal
point who connected the form. A submission is known by its form (server and asset uid, one
connection per society) and ``meta/rootUuid``, which every edit keeps; or by its ``_id``,
``_uuid``, or an edit's ``meta/deprecatedID``. Seen before, it updates what it became when
its content changed (an encounter, never changed, gets a correction), and is left alone when
it did not. Submissions marked Not Approved in Kobo are skipped unless the connection
includes them; one rejected after import is withdrawn (what it became removed; an encounter
voided, see ``people.actions.void_encounter``), and imported anew if approved again. A
submission that cannot be mapped is reported and skipped; the rest go on. Reading fails as a
whole (bad token, unreachable server, damaged file) before anything is imported.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
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
    RollupDirty,
    Training,
)
from routecare.orgs.models import Membership, Role, ServicePoint
from routecare.people.actions import record_encounter, void_encounter
from routecare.people.models import Encounter
from routecare.people.selectors import person_with_code

Submission = dict[str, Any]
IGNORED_KEYS = ("_attachments", "_validation_status", "_notes", "_tags", "_geolocation")
NOT_APPROVED = "validation_status_not_approved"


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
    include_not_approved: bool = False,
) -> KoboConnection:
    _require_focal_point(actor)
    if not name.strip() or len(name) > 120:
        raise ValidationError({"name": _("Name the connection in up to 120 characters.")})
    try:
        client.check_server_url(server_url)
        server_url = client.normalise_server_url(server_url)
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
    asset_uid = asset_uid.strip()
    # Only this society's connections are looked at: another society may connect the same
    # form (into its own figures) and must not learn of it here.
    existing = KoboConnection.objects.filter(
        national_society_id=actor.society_id, server_url=server_url, asset_uid=asset_uid
    ).first()
    if existing is not None:
        raise ValidationError({"asset_uid": _already_connected(existing.name)})
    try:
        with transaction.atomic():
            connection = KoboConnection.objects.create(
                national_society_id=actor.society_id, name=name.strip(),
                server_url=server_url, token=token.strip(), asset_uid=asset_uid,
                target=target, mapping=form_mapping,
                include_not_approved=include_not_approved, created_by=actor.user,
            )  # fmt: skip
    except IntegrityError:  # connected at the same moment by someone else of the society
        raise ValidationError({"asset_uid": _already_connected("")}) from None
    record_event(actor, "create", "kobo_connection", connection.pk, detail=connection.name)
    return connection


@transaction.atomic
def set_include_not_approved(actor: Actor, connection: KoboConnection, include: bool) -> None:
    """Whether submissions marked Not Approved in Kobo are imported (from the next pull)."""
    _require_focal_point(actor)
    if connection.national_society_id != actor.national_society_id:
        raise PermissionError("another society's connection")
    connection.include_not_approved = include
    connection.save(update_fields=["include_not_approved"])
    detail = "include not approved" if include else "skip not approved"
    record_event(actor, "update", "kobo_connection", connection.pk, detail=detail)


def _already_connected(name: str) -> str:
    if not name:
        return _("This form is already connected.")
    return _("This form is already connected as “%(name)s”.") % {"name": name}


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


def _uuid(value: Any) -> str:
    return str(value or "").strip().removeprefix("uuid:")


def _key(submission: Submission) -> tuple[str, str, str | None, int | None]:
    """The submission's uuid, its root uuid (the first version's, kept by every edit), the
    uuid it replaces (an edit) and its Kobo id."""
    uuid_text = _uuid(submission.get("_uuid") or submission.get("meta/instanceID"))
    root = _uuid(submission.get("meta/rootUuid")) or uuid_text
    deprecated = _uuid(submission.get("meta/deprecatedID")) or None
    kobo_id = submission.get("_id")
    return uuid_text, root, deprecated, kobo_id if isinstance(kobo_id, int) else None


def _not_approved(submission: Submission) -> bool:
    status = submission.get("_validation_status")
    return isinstance(status, dict) and status.get("uid") == NOT_APPROVED


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
        _delete_daily_count(actor, previous.object_id, "kobo edit")
    return str(count.pk)


def _delete_daily_count(actor: Actor, object_id: str, detail: str) -> None:
    count = DailyCount.objects.filter(pk=object_id).first()
    if count is None:
        return
    count.delete()
    # The rollup refresh finds counts by when they were saved: a deleted one leaves nothing
    # to find, so its point and day are marked for recomputing here.
    RollupDirty.objects.bulk_create(
        [RollupDirty(service_point_id=count.service_point_id, day=count.day)],
        ignore_conflicts=True,
    )
    record_event(actor, "delete", "daily_count", object_id, detail=detail)


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


def _known(
    connection: KoboConnection, uuid_text: str, root: str, deprecated: str | None,
    kobo_id: int | None,
) -> list[ImportedSubmission]:  # fmt: skip
    """Every record of the submission in the society's connections to the same form (an
    earlier duplicate connection included): the connection's own first, then the latest."""
    match = Q(root_uuid=root) | Q(submission_uuid=uuid_text)
    if kobo_id is not None:
        match |= Q(kobo_id=kobo_id)
    if deprecated:
        match |= Q(submission_uuid=deprecated)
    found = list(
        ImportedSubmission.objects.filter(
            match,
            connection__national_society_id=connection.national_society_id,
            connection__server_url=connection.server_url,
            connection__asset_uid=connection.asset_uid,
        ).order_by("-imported_at")
    )
    return sorted(found, key=lambda known: known.connection_id != connection.pk)


def _withdraw_daily_count(connection: KoboConnection, object_id: str) -> None:
    count = DailyCount.objects.filter(pk=object_id).select_related("service_point").first()
    if count is not None:
        actor = importing_actor(connection, count.service_point)
        _delete_daily_count(actor, object_id, "kobo: not approved")


def _withdraw_training(connection: KoboConnection, object_id: str) -> None:
    training = Training.objects.filter(pk=object_id).first()
    if training is None:
        return
    actor = importing_actor(connection)
    training.delete()  # its attendance lines go with it; trainings are not rolled up
    record_event(actor, "delete", "training", object_id, detail="kobo: not approved")


def _withdraw_encounter(connection: KoboConnection, object_id: str) -> None:
    """Encounters are never deleted: the latest version of the visit (staff may have
    corrected it in RouteCare since) is voided, and stays in the person's history."""
    encounter = Encounter.objects.filter(pk=object_id).select_related("service_point").first()
    if encounter is None:
        return
    latest = encounter
    while (later := latest.corrections.order_by("-recorded_at").first()) is not None:
        latest = later
    if latest.voids:
        return  # withdrawn already, in RouteCare
    actor = importing_actor(connection, encounter.service_point)
    void_encounter(actor, latest, reason="kobo: not approved")


WITHDRAWERS: dict[str, Callable[[KoboConnection, str], None]] = {
    ImportTarget.DAILY_COUNT: _withdraw_daily_count,
    ImportTarget.TRAINING: _withdraw_training,
    ImportTarget.ENCOUNTER: _withdraw_encounter,
}


def _refused(run: ImportRun, label: str, error: Exception) -> None:
    if isinstance(error, ValidationError):
        run.errors.append({"submission": label, "error": " ".join(error.messages)})
    else:
        run.errors.append({"submission": label, "error": str(error)})


def _withdraw(
    connection: KoboConnection, previous: ImportedSubmission, label: str, run: ImportRun,
    moved: bool = True,
) -> None:  # fmt: skip
    try:
        with transaction.atomic():
            WITHDRAWERS[previous.object_type](connection, previous.object_id)
            ImportedSubmission.objects.filter(pk=previous.pk).update(
                object_id="", content_hash="", withdrawn_at=timezone.now(),
                **({"connection": connection} if moved else {}),
            )  # fmt: skip
    except (mapping.MappingError, ValidationError, PermissionError) as error:
        _refused(run, label, error)
    else:
        run.withdrawn += 1


def _drop_duplicates(
    connection: KoboConnection, duplicates: list[ImportedSubmission], kept: str, label: str,
    run: ImportRun,
) -> None:  # fmt: skip
    """Records of the same submission made by an earlier duplicate connection: what they
    became is withdrawn unless it is what the submission is now (a daily count of the same
    point and day is one row), so the submission counts once."""
    for duplicate in duplicates:
        if duplicate.withdrawn_at is not None:
            continue
        if duplicate.object_id and duplicate.object_id != kept:
            _withdraw(connection, duplicate, label, run, moved=False)
        else:
            ImportedSubmission.objects.filter(pk=duplicate.pk).update(
                object_id="", content_hash="", withdrawn_at=timezone.now()
            )


def _import_one(connection: KoboConnection, submission: Submission, run: ImportRun) -> None:
    uuid_text, root, deprecated, kobo_id = _key(submission)
    label = uuid_text or str(kobo_id or "?")
    if not uuid_text:
        run.errors.append({"submission": label, "error": _("The submission has no _uuid.")})
        return
    if max(len(uuid_text), len(root), len(deprecated or "")) > 64:
        run.errors.append(
            {"submission": label[:64], "error": _("The submission's uuids are not Kobo's.")}
        )
        return
    known = _known(connection, uuid_text, root, deprecated, kobo_id)
    previous, duplicates = (known[0], known[1:]) if known else (None, [])
    if previous is not None and previous.withdrawn_at is not None:
        previous_object = None  # withdrawn: what it became is gone
    else:
        previous_object = previous
    if _not_approved(submission) and not connection.include_not_approved:
        if previous_object is not None:
            _withdraw(connection, previous_object, label, run)
        else:
            run.skipped += 1
        _drop_duplicates(connection, duplicates, "", label, run)
        return
    if previous is not None and not submission.get("meta/rootUuid"):
        root = previous.root_uuid or root  # an older Kobo without rootUuid: keep the first
    content_hash = _hash(submission)
    if previous_object is not None and previous_object.content_hash == content_hash:
        run.unchanged += 1
        _drop_duplicates(connection, duplicates, previous_object.object_id, label, run)
        return
    try:
        with transaction.atomic():
            object_id = IMPORTERS[connection.target](connection, submission, previous_object)
            values = {"kobo_id": kobo_id, "submission_uuid": uuid_text, "root_uuid": root,
                      "content_hash": content_hash, "object_type": connection.target,
                      "object_id": object_id, "imported_at": timezone.now(),
                      "withdrawn_at": None, "connection": connection}  # fmt: skip
            if previous is None:
                ImportedSubmission.objects.create(**values)
            else:
                ImportedSubmission.objects.filter(pk=previous.pk).update(**values)
    except (mapping.MappingError, ValidationError, PermissionError) as error:
        _refused(run, label, error)
    else:
        if previous_object is None:
            run.created += 1
        else:
            run.updated += 1
        _drop_duplicates(connection, duplicates, object_id, label, run)


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
    repeats = [field for field, source in connection.mapping.items() if isinstance(source, dict)
               and "repeat" in source]  # fmt: skip
    if name.lower().endswith(".xlsx") and repeats:
        # An XLSX export keeps repeat groups on other sheets: the counts would come in
        # without their breakdown (or attendance), so nothing is imported.
        return _failed(connection, "file", _(
            "This form's mapping has a repeat group (%(field)s), which an XLSX export keeps "
            "on other sheets: upload the JSON export instead (see the documentation)."
        ) % {"field": ", ".join(repeats)})  # fmt: skip
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
