"""What the people app syncs from field nodes to the server (see routecare.sync.registry).

People, their consents, encounters, health summaries and follow-ups. Each change applies
through this app's actions, as the staff member who made it at the node's service point:
validation, tenant rules and audit are those of an online write. Encounters are immutable
(two places, two encounters); a health summary's lists merge as sets; a person's fields and a
pregnancy merge field by field, and the same field changed in two places is a conflict.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from routecare.access import Actor
from routecare.people import actions, shortcode
from routecare.people.models import (
    Consent,
    Encounter,
    EncounterService,
    FollowUp,
    HealthSummary,
    Person,
    ReservedShortCode,
)
from routecare.sync.registry import (
    Reference,
    Relevance,
    Syncable,
    Values,
    register,
    register_reference,
    register_relevance,
)

# A node holds the people seen at its point in the last 90 days (others are found through
# the card they carry, or when online).
RELEVANT_FOR = dt.timedelta(days=90)

PERSON_FIELDS = (
    "sex", "age_band", "birth_year", "nationality", "languages", "travel_group",
    "population_group", "alias", "vulnerabilities", "short_code", "consents",
)  # fmt: skip


def _username(user: Any) -> str:
    return str(user.get_username()) if user is not None else ""


def _person(actor: Actor, person_id: Any) -> Person:
    """The person a change refers to, of the actor's own society only."""
    try:
        person = Person.objects.filter(
            pk=uuid.UUID(str(person_id)), national_society_id=actor.national_society_id
        ).first()
    except ValueError:
        person = None
    if person is None:
        raise ValidationError(_("No such person in this National Society."))
    return person


def _datetime(value: Any, name: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ValidationError({name: _("Not a date and time.")}) from exc
    return parsed


# People ---------------------------------------------------------------------------------


def serialize_person(person: Person) -> Values:
    consents = Consent.objects.filter(person=person, withdrawn_at__isnull=True).order_by(
        "recorded_at"
    )
    return {
        "sex": person.sex,
        "age_band": person.age_band,
        "birth_year": person.birth_year,
        "nationality": person.nationality,
        "languages": list(person.languages),
        "travel_group": person.travel_group,
        "population_group": person.population_group,
        "alias": person.alias or "",
        "vulnerabilities": list(person.vulnerabilities),
        "short_code": person.short_code,
        # The consents given at registration travel with it (register_person needs care).
        "consents": [
            {"id": str(c.pk), "purpose": c.purpose, "language": c.language} for c in consents
        ],
    }


def create_person(actor: Actor, record_id: uuid.UUID, values: Values) -> Person:
    consents = values.get("consents") or []
    if not isinstance(consents, list) or not all(isinstance(c, dict) for c in consents):
        raise ValidationError({"consents": _("Consents must be a list.")})
    return actions.register_person(
        actor,
        person_id=record_id,
        sex=str(values.get("sex", "")),
        age_band=str(values.get("age_band") or ""),
        birth_year=values.get("birth_year"),
        nationality=str(values.get("nationality") or ""),
        languages=list(values.get("languages") or []),
        travel_group=str(values.get("travel_group") or ""),
        population_group=str(values.get("population_group") or ""),
        alias=str(values.get("alias") or ""),
        vulnerabilities=list(values.get("vulnerabilities") or []),
        short_code=values.get("short_code") or None,
        consents=[str(c.get("purpose")) for c in consents],
        consent_ids={str(c.get("purpose")): uuid.UUID(str(c.get("id"))) for c in consents},
        consent_language=str(consents[0].get("language") or "en") if consents else "en",
    )


def update_person(actor: Actor, person: Person, values: Values) -> Person:
    changes = {name: value for name, value in values.items() if name != "consents"}
    return actions.update_person(actor, person, changes)


# Consents -------------------------------------------------------------------------------


def serialize_consent(consent: Consent) -> Values:
    return {
        "person": str(consent.person_id),
        "purpose": consent.purpose,
        "language": consent.language,
        "withdrawn": consent.withdrawn_at is not None,
    }


def create_consent(actor: Actor, record_id: uuid.UUID, values: Values) -> Consent:
    person = _person(actor, values.get("person"))
    consent = actions.give_consent(
        actor, person, str(values.get("purpose")), str(values.get("language")),
        consent_id=record_id,
    )  # fmt: skip
    if values.get("withdrawn"):
        actions.withdraw_consent(actor, person, consent.purpose)
    return consent


def update_consent(actor: Actor, consent: Consent, values: Values) -> Consent:
    # Withdrawal is the one change a consent has; giving it again is a new consent.
    if values.get("withdrawn") and consent.withdrawn_at is None:
        actions.withdraw_consent(actor, consent.person, consent.purpose)
    return consent


# Encounters -----------------------------------------------------------------------------


def serialize_encounter(encounter: Encounter) -> Values:
    return {
        "person": str(encounter.person_id),
        "occurred_at": encounter.occurred_at.isoformat(),
        "triage": encounter.triage,
        "notes": encounter.notes or "",
        "services": sorted([s.service, s.quantity] for s in encounter.services.all()),
        "corrects": str(encounter.corrects_id) if encounter.corrects_id else None,
        "voids": encounter.voids,
    }


def create_encounter(actor: Actor, record_id: uuid.UUID, values: Values) -> Encounter:
    person = _person(actor, values.get("person"))
    corrects = None
    if values.get("corrects"):
        corrects = Encounter.objects.filter(pk=values["corrects"], person=person).first()
        if corrects is None:
            raise ValidationError({"corrects": _("That encounter belongs to someone else.")})
    if values.get("voids"):
        # A withdrawal made at the node: the same voiding correction, under the node's id.
        if corrects is None:
            raise ValidationError({"corrects": _("A withdrawal names the encounter it withdraws.")})
        return actions.void_encounter(
            actor, corrects, reason=str(values.get("notes") or ""), voiding_id=record_id
        )
    services = values.get("services") or []
    try:
        pairs = [(str(code), int(quantity)) for code, quantity in services]
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            {"services": _("Services must be pairs of code and quantity.")}
        ) from exc
    return actions.record_encounter(
        actor,
        person,
        encounter_id=record_id,
        services=pairs,
        triage=str(values.get("triage") or ""),
        notes=str(values.get("notes") or ""),
        occurred_at=_datetime(values.get("occurred_at"), "occurred_at"),
        corrects=corrects,
    )


# Health summaries -----------------------------------------------------------------------


def serialize_health_summary(summary: HealthSummary) -> Values:
    return {name: getattr(summary, name) for name in HealthSummary.SENSITIVE_FIELDS}


def create_health_summary(actor: Actor, record_id: uuid.UUID, values: Values) -> HealthSummary:
    return actions.update_health_summary(actor, _person(actor, record_id), **values)


def update_health_summary(actor: Actor, summary: HealthSummary, values: Values) -> HealthSummary:
    return actions.update_health_summary(actor, _person(actor, summary.person_id), **values)


# Follow-ups -----------------------------------------------------------------------------


def serialize_follow_up(follow_up: FollowUp) -> Values:
    return {
        "person": str(follow_up.person_id),
        "encounter": str(follow_up.encounter_id) if follow_up.encounter_id else None,
        "text": follow_up.text,
        "due": follow_up.due.isoformat() if follow_up.due else None,
        "urgency": follow_up.urgency,
        "done": follow_up.done_at is not None,
    }


def create_follow_up(actor: Actor, record_id: uuid.UUID, values: Values) -> FollowUp:
    person = _person(actor, values.get("person"))
    encounter = None
    if values.get("encounter"):
        encounter = Encounter.objects.filter(pk=values["encounter"], person=person).first()
    try:
        due = dt.date.fromisoformat(values["due"]) if values.get("due") else None
    except (TypeError, ValueError) as exc:
        raise ValidationError({"due": _("Not a date.")}) from exc
    follow_up = actions.add_follow_up(
        actor,
        person,
        actions.FollowUpInput(
            text=str(values.get("text") or ""), due=due, urgency=str(values.get("urgency"))
        ),
        follow_up_id=record_id,
        encounter=encounter,
    )
    if values.get("done"):
        actions.complete_follow_up(actor, follow_up)
    return follow_up


def update_follow_up(actor: Actor, follow_up: FollowUp, values: Values) -> FollowUp:
    if values.get("done") and follow_up.done_at is None:
        actions.complete_follow_up(actor, follow_up)
    return follow_up


def _person_parent(record_id: uuid.UUID, values: Values) -> list[tuple[str, str]]:
    return [("people.person", str(values.get("person")))]


def _encounter_parents(record_id: uuid.UUID, values: Values) -> list[tuple[str, str]]:
    parents = _person_parent(record_id, values)
    if values.get("corrects"):
        parents.append(("people.encounter", str(values["corrects"])))
    return parents


def _follow_up_parents(record_id: uuid.UUID, values: Values) -> list[tuple[str, str]]:
    parents = _person_parent(record_id, values)
    if values.get("encounter"):
        parents.append(("people.encounter", str(values["encounter"])))
    return parents


register(
    Syncable(
        label="people.person", model=Person, fields=PERSON_FIELDS,
        serialize=serialize_person, create=create_person, update=update_person,
        sets=frozenset({"languages", "vulnerabilities"}),
        author=lambda person: _username(person.registered_by), person_field="pk",
    )
)  # fmt: skip
register(
    Syncable(
        label="people.consent", model=Consent,
        fields=("person", "purpose", "language", "withdrawn"),
        serialize=serialize_consent, create=create_consent, update=update_consent,
        parents=_person_parent, person_field="person_id",
        author=lambda consent: _username(consent.withdrawn_by or consent.recorded_by),
    )
)  # fmt: skip
register(
    Syncable(
        label="people.encounter", model=Encounter,
        fields=("person", "occurred_at", "triage", "notes", "services", "corrects", "voids"),
        serialize=serialize_encounter, create=create_encounter, immutable=True,
        parents=_encounter_parents, person_field="person_id",
        children=((EncounterService, "encounter_id"),),
        author=lambda encounter: _username(encounter.recorded_by),
        # The server's stock of the encounter is the server's to take: a node never takes it.
        withheld=frozenset({"stock_pending"}),
        created_field="recorded_at",
    )
)  # fmt: skip
register(
    Syncable(
        label="people.health_summary", model=HealthSummary,
        fields=HealthSummary.SENSITIVE_FIELDS,
        serialize=serialize_health_summary, create=create_health_summary,
        update=update_health_summary,
        sets=frozenset({"allergies", "conditions", "medicines", "child_growth", "vaccinations"}),
        parents=lambda record_id, values: [("people.person", str(record_id))],
        person_field="person_id",
        author=lambda summary: _username(summary.updated_by),
    )
)  # fmt: skip
register(
    Syncable(
        label="people.follow_up", model=FollowUp,
        fields=("person", "encounter", "text", "due", "urgency", "done"),
        serialize=serialize_follow_up, create=create_follow_up, update=update_follow_up,
        parents=_follow_up_parents, person_field="person_id",
        author=lambda follow_up: _username(follow_up.done_by or follow_up.created_by),
    )
)  # fmt: skip


def _relevant_people(point_id: uuid.UUID, now: dt.datetime) -> QuerySet[Any]:
    seen = Encounter.objects.filter(
        service_point_id=point_id, occurred_at__gte=now - RELEVANT_FOR
    ).values_list("person_id", flat=True)
    registered = Person.objects.filter(
        registered_at_point_id=point_id, created_at__gte=now - RELEVANT_FOR
    ).values_list("pk", flat=True)
    return seen.order_by().union(registered.order_by())


def _newly_relevant(point_id: uuid.UUID, since: dt.datetime) -> QuerySet[Any]:
    return (
        Encounter.objects.filter(service_point_id=point_id, recorded_at__gt=since)
        .values_list("person_id", flat=True)
        .distinct()
    )


register_relevance(Relevance(all=_relevant_people, new=_newly_relevant))


# Short codes a node mints offline --------------------------------------------------------

# Unused codes a node holds after each sync: weeks of registrations at a busy point.
RESERVED_PER_NODE = 500


def reserved_short_codes(node: Any) -> QuerySet[ReservedShortCode]:
    """The node's block of unused short codes, topped up to ``RESERVED_PER_NODE`` at each
    pull. New codes are unique against its society's people and every reservation (the
    unique constraint decides: two nodes topped up at once never share a code); a code the
    server already holds one of the society's people under counts as used."""
    size = int(getattr(settings, "ROUTECARE_RESERVED_SHORT_CODES", RESERVED_PER_NODE))
    unused = ReservedShortCode.objects.filter(node_id=node.pk, used=False)
    arrived = Person.objects.filter(
        national_society_id=node.national_society_id,
        short_code__in=list(unused.values_list("code", flat=True)),
    ).values_list("short_code", flat=True)
    unused.filter(code__in=list(arrived)).update(used=True)
    for _attempt in range(10):
        missing = size - unused.count()
        if missing <= 0:
            break
        candidates = {shortcode.draw() for _n in range(missing)}
        candidates -= set(
            Person.objects.filter(
                national_society_id=node.national_society_id, short_code__in=candidates
            ).values_list("short_code", flat=True)
        )
        candidates -= set(
            ReservedShortCode.objects.filter(code__in=candidates).values_list("code", flat=True)
        )
        try:
            with transaction.atomic():
                ReservedShortCode.objects.bulk_create(
                    ReservedShortCode(code=code, node_id=node.pk) for code in candidates
                )
        except IntegrityError:
            continue  # reserved for another node meanwhile: draw again
    return ReservedShortCode.objects.filter(node_id=node.pk, used=False)


# ``used`` stays at the node: a pull never marks a code it gave someone as free again.
register_reference(
    Reference(
        "people.reservedshortcode",
        ReservedShortCode,
        reserved_short_codes,
        withheld=frozenset({"used"}),
    )
)
