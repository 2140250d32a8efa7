"""Every change of personal data: atomic, validated, audited."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from routecare.access import Actor
from routecare.audit.actions import record_event
from routecare.core import fields
from routecare.core.languages import country_codes
from routecare.core.prepared import Prepared, insert, insert_many
from routecare.orgs.models import ServicePoint
from routecare.orgs.taxonomy import AgeBand, Service, Sex, TriageColour, Urgency, age_band_for
from routecare.people import health, shortcode
from routecare.people.consent import WORDING_VERSION
from routecare.people.models import (
    Consent,
    ConsentPurpose,
    Encounter,
    EncounterService,
    FollowUp,
    HealthSummary,
    Household,
    Person,
    PopulationGroup,
    TravelGroup,
    Vulnerability,
)
from routecare.people.signals import (
    consent_withdrawn,
    encounter_recorded,
    person_changed,
    stock_follows,
)

MAX_LANGUAGES = 10
# How far back an encounter may be entered, e.g. from a paper register kept offline.
MAX_BACKDATING = dt.timedelta(days=366)


def working_point(actor: Actor, person: Person | None = None) -> ServicePoint:
    if not actor.handles_personal_records:
        raise PermissionError("this role does not handle personal records")
    if person is not None and person.national_society_id != actor.national_society_id:
        # Selectors already scope every person; this guards against a caller that did not.
        raise PermissionError("not a person of the actor's National Society")
    if actor.service_point is None:
        raise ValidationError(_("Choose the service point you work at today first."))
    return actor.service_point


# Asked before every encounter: compiled once (core.prepared).
_CARE_CONSENT: Prepared[tuple[uuid.UUID]] = Prepared(
    lambda person: Consent.objects.filter(
        person_id=person, purpose=ConsentPurpose.CARE, withdrawn_at__isnull=True
    ).values_list("pk")[:1],
    person=uuid.UUID,
)


def require_care_consent(person: Person) -> None:
    if not _CARE_CONSENT.exists(person=person.pk):
        raise ValidationError(
            _("Care consent was withdrawn: record nothing more unless the person gives it again.")
        )


# Asked on every encounter: ``Choices.values`` builds its list at each call.
SERVICES = frozenset(Service.values)
TRIAGES = frozenset(TriageColour.values)


def _require_choice(value: str, choices: Collection[str], field: str) -> None:
    if value not in choices:
        raise ValidationError({field: _("“%(value)s” is not a valid choice.") % {"value": value}})


@dataclass(frozen=True)
class FollowUpInput:
    text: str
    due: dt.date | None = None
    urgency: str = Urgency.ROUTINE


def _validate_follow_up(follow_up: FollowUpInput, reference: dt.datetime) -> None:
    """``reference``: when the visit asking for it happened (the follow-up's own time)."""
    fields.FOLLOW_UP_DUE.check(follow_up.due, reference, "follow_up_due")
    if not follow_up.text.strip():
        raise ValidationError({"follow_up_text": _("Write what the next point should do.")})
    fields.FOLLOW_UP_TEXT.check(follow_up.text, "follow_up_text")
    _require_choice(follow_up.urgency, Urgency.values, "follow_up_urgency")


def register_person(
    actor: Actor,
    *,
    sex: str,
    age_band: str = "",
    birth_year: int | None = None,
    nationality: str = "",
    languages: Sequence[str] = (),
    travel_group: str = TravelGroup.ALONE,
    population_group: str = PopulationGroup.ON_THE_MOVE,
    alias: str = "",
    vulnerabilities: Sequence[str] = (),
    household_of: Person | None = None,
    consents: Sequence[str] = (ConsentPurpose.CARE,),
    consent_language: str = "en",
    short_code: str | None = None,
    person_id: uuid.UUID | None = None,
    consent_ids: Mapping[str, uuid.UUID] | None = None,
) -> Person:
    """Register a person with the minimum data; care consent is required. ``short_code`` keeps
    the code of a card from another society, so the person carries one code along the route."""
    point = working_point(actor)
    if short_code is not None:
        compact = shortcode.normalise(short_code)
        if compact is None or not shortcode.is_valid(compact):
            raise ValidationError({"short_code": _("Not a valid short code.")})
        short_code = shortcode.format_code(compact)
    consents = list(dict.fromkeys(consents))
    languages = list(dict.fromkeys(languages))
    _require_choice(sex, Sex.values, "sex")
    _require_choice(travel_group, TravelGroup.values, "travel_group")
    _require_choice(population_group, PopulationGroup.values, "population_group")
    for flag in vulnerabilities:
        _require_choice(flag, Vulnerability.values, "vulnerabilities")
    for purpose in consents:
        _require_choice(purpose, ConsentPurpose.values, "consents")
    if len(languages) > MAX_LANGUAGES:
        raise ValidationError(
            {"languages": _("Give at most %(n)d languages.") % {"n": MAX_LANGUAGES}}
        )
    for code in languages:
        fields.LANGUAGE.check(code, "languages")
    fields.LANGUAGE.check(consent_language, "consent_language")
    fields.ALIAS.check(alias, "alias")
    if nationality and nationality.upper() not in country_codes():
        raise ValidationError({"nationality": _("Unknown country code.")})
    if ConsentPurpose.CARE not in consents:
        raise ValidationError({"consents": _("Care consent is needed to keep a record.")})
    this_year = timezone.now().year
    if birth_year is not None:
        if not this_year - 110 <= birth_year <= this_year:
            raise ValidationError(
                {
                    "birth_year": _("Enter a year between %(a)d and %(b)d.")
                    % {"a": this_year - 110, "b": this_year}
                }
            )
        age_band = age_band_for(this_year - birth_year)
    if not age_band:
        raise ValidationError({"age_band": _("Give a birth year or an age band.")})
    _require_choice(age_band, AgeBand.values, "age_band")
    if household_of is not None and household_of.national_society_id != actor.national_society_id:
        raise ValidationError({"household_of": _("No such person.")})

    with transaction.atomic():
        household = None
        if household_of is not None:
            if household_of.household_id is None:
                household_of.household = Household.objects.create(
                    national_society_id=actor.society_id
                )
                household_of.save(update_fields=["household"])
            household = household_of.household
        person = _create_with_unique_code(
            short_code,
            id=person_id or uuid.uuid4(),
            national_society_id=actor.national_society_id,
            alias=alias.strip() or None,
            sex=sex,
            birth_year=birth_year,
            age_band=age_band,
            nationality=nationality.upper(),
            languages=list(languages),
            travel_group=travel_group,
            population_group=population_group,
            household=household,
            vulnerabilities=sorted(set(vulnerabilities)),
            registered_at_point=point,
            registered_by=actor.user,
        )
        record_event(
            actor,
            "create",
            "person",
            person.pk,
            person_id=person.pk,
            fields=[
                "sex",
                "age_band",
                "birth_year",
                "nationality",
                "languages",
                "travel_group",
                "population_group",
                "alias",
                "vulnerabilities",
                "household",
            ],
        )
        for purpose in consents:
            _grant(
                actor,
                person,
                purpose,
                consent_language,
                consent_id=(consent_ids or {}).get(purpose),
            )
    return person


# What may change on a registered person, and the rule each value follows.
PERSON_CHANGES: dict[str, Any] = {
    "sex": lambda v: _require_choice(v, Sex.values, "sex"),
    "age_band": lambda v: _require_choice(v, AgeBand.values, "age_band"),
    "travel_group": lambda v: _require_choice(v, TravelGroup.values, "travel_group"),
    "population_group": lambda v: _require_choice(v, PopulationGroup.values, "population_group"),
    "alias": lambda v: fields.ALIAS.check(v, "alias"),
    "nationality": lambda v: _check_nationality(v),
    "languages": lambda v: [fields.LANGUAGE.check(code, "languages") for code in v],
    "vulnerabilities": lambda v: _require_choices(v, Vulnerability.values, "vulnerabilities"),
    "birth_year": lambda v: None,
    "short_code": lambda v: None,
}


def _require_choices(values: Sequence[str], choices: Sequence[str], field: str) -> None:
    for value in values:
        _require_choice(value, choices, field)


def _check_nationality(code: str) -> None:
    if code and code.upper() not in country_codes():
        raise ValidationError({"nationality": _("Unknown country code.")})


def update_person(actor: Actor, person: Person, changes: Mapping[str, Any]) -> Person:
    """Change what a person told again (languages, travel group…); the short code and the
    birth year stay as registered. Audits which fields changed."""
    working_point(actor, person)
    require_care_consent(person)
    unknown = set(changes) - set(PERSON_CHANGES)
    if unknown:
        raise ValidationError(_("Unknown person fields: %s") % ", ".join(sorted(unknown)))
    for name, value in changes.items():
        if name in ("short_code", "birth_year") and value != getattr(person, name):
            raise ValidationError({name: _("This cannot change after registration.")})
        if name in ("languages", "vulnerabilities") and not isinstance(value, list):
            raise ValidationError({name: _("Give a list.")})
        PERSON_CHANGES[name](value)
    with transaction.atomic():
        touched = [name for name, value in changes.items() if getattr(person, name) != value]
        if not touched:
            return person
        for name in touched:
            setattr(person, name, changes[name])
        person.save(update_fields=touched)
        record_event(actor, "change", "person", person.pk, person_id=person.pk, fields=touched)
        person_changed.send(sender=Person, person=person, fields=touched)
    return person


def _create_with_unique_code(short_code: str | None, **values: Any) -> Person:
    if short_code is not None:
        # A code from a card: a collision means the person is already registered here.
        return Person.objects.create(short_code=short_code, **values)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Person.objects.create(short_code=shortcode.generate(), **values)
        except IntegrityError:
            continue  # a short code collision: draw again
    raise RuntimeError("could not draw a unique short code")


def record_encounter(
    actor: Actor,
    person: Person,
    *,
    services: Sequence[tuple[str, int]],
    triage: str = "",
    notes: str = "",
    follow_up: FollowUpInput | None = None,
    occurred_at: dt.datetime | None = None,
    corrects: Encounter | None = None,
    encounter_id: uuid.UUID | None = None,
) -> Encounter:
    point = working_point(actor, person)
    require_care_consent(person)
    if not services:
        raise ValidationError({"services": _("Choose at least one service delivered.")})
    for code, quantity in services:
        _require_choice(code, SERVICES, "services")
        if not 1 <= quantity <= 10000:
            raise ValidationError({"services": _("Quantities go from 1 to 10000.")})
    if triage:
        _require_choice(triage, TRIAGES, "triage")
    fields.ENCOUNTER_NOTES.check(notes, "notes")
    now = timezone.now()
    if occurred_at is not None:
        if timezone.is_naive(occurred_at):
            raise ValidationError({"occurred_at": _("Give the time with its time zone.")})
        # A field node's clock may run ahead of the server's (a change more than 24 hours
        # ahead is refused by sync): its encounters keep the time it gave them.
        ahead = dt.timedelta(hours=24) if actor.via == "sync" else dt.timedelta(minutes=5)
        if occurred_at > now + ahead:
            raise ValidationError({"occurred_at": _("An encounter cannot be in the future.")})
        if occurred_at < now - MAX_BACKDATING:
            raise ValidationError({"occurred_at": _("That is more than a year ago.")})
    if follow_up is not None:
        _validate_follow_up(follow_up, occurred_at or now)
    if corrects is not None and corrects.person_id != person.pk:
        raise ValidationError({"corrects": _("That encounter belongs to someone else.")})
    if corrects is not None and corrects.voids:
        raise ValidationError(
            {"corrects": _("That is the withdrawal of an encounter: record a new encounter.")}
        )
    # Asked before the transaction: the answer is kept in memory (flows.stock_use), and a read
    # it needs now and then holds no lock.
    stock_pending = stock_follows(point.pk, [code for code, _n in services], corrects is not None)

    with transaction.atomic():
        # The INSERTs kept (core.prepared): the busiest write of the system.
        encounter = insert(
            Encounter(
                id=encounter_id or uuid.uuid4(),
                person=person,
                service_point=point,
                recorded_by=actor.user,
                occurred_at=occurred_at or now,
                triage=triage,
                notes=notes.strip() or None,
                corrects=corrects,
                stock_pending=stock_pending,
            )
        )
        encounter._recorded_services = insert_many(  # type: ignore[attr-defined]
            EncounterService(encounter=encounter, service=code, quantity=quantity)
            for code, quantity in services
        )
        record_event(
            actor,
            "create",
            "encounter",
            encounter.pk,
            person_id=person.pk,
            fields=["services", "triage"] + (["notes"] if notes.strip() else []),
        )
        if follow_up is not None:
            _create_follow_up(actor, person, follow_up, encounter)
        encounter_recorded.send(sender=Encounter, encounter=encounter, corrects=corrects)
    return encounter


def void_encounter(
    actor: Actor,
    encounter: Encounter,
    *,
    reason: str,
    voiding_id: uuid.UUID | None = None,
) -> Encounter:
    """Withdraw an encounter from everything that counts it (indicators, daily counts, the
    card, stock) and keep it in the history: a voiding encounter corrects it with nothing.
    Whoever may record an encounter for the person may withdraw one. The reason is kept
    (encrypted, like notes) on the voiding encounter."""
    person = encounter.person
    point = working_point(actor, person)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the encounter is withdrawn.")})
    fields.ENCOUNTER_NOTES.check(reason, "reason")
    with transaction.atomic():
        # Locked (on PostgreSQL): two withdrawals at once would both find it uncorrected.
        encounter = Encounter.objects.select_for_update().get(pk=encounter.pk)
        if encounter.voids:
            raise ValidationError(
                {"encounter": _("This is the withdrawal of an encounter, not an encounter.")}
            )
        if encounter.corrections.exists():
            raise ValidationError(
                {"encounter": _("This encounter was already corrected or withdrawn.")}
            )
        voiding = Encounter.objects.create(
            id=voiding_id or uuid.uuid4(),
            person=person,
            service_point=point,
            recorded_by=actor.user,
            # When it was withdrawn: the voiding is an event of its own, not a visit.
            occurred_at=timezone.now(),
            notes=reason.strip(),
            corrects=encounter,
            voids=True,
            # What the withdrawn encounter took goes back to the stock.
            stock_pending=True,
        )
        voiding._recorded_services = []  # type: ignore[attr-defined]
        record_event(
            actor,
            "create",
            "encounter",
            voiding.pk,
            person_id=person.pk,
            fields=["voids", "notes"],
            detail=f"voids {encounter.pk}",
        )
        # What follows a correction follows this one: stock gives back what the encounter
        # took (stock_pending), rollups recompute the day of the encounter it withdraws.
        encounter_recorded.send(sender=Encounter, encounter=voiding, corrects=encounter)
    return voiding


def add_follow_up(
    actor: Actor,
    person: Person,
    follow_up: FollowUpInput,
    *,
    follow_up_id: uuid.UUID | None = None,
    encounter: Encounter | None = None,
) -> FollowUp:
    working_point(actor, person)
    require_care_consent(person)
    _validate_follow_up(follow_up, timezone.now())
    if encounter is not None and encounter.person_id != person.pk:
        raise ValidationError({"encounter": _("That encounter belongs to someone else.")})
    with transaction.atomic():
        return _create_follow_up(actor, person, follow_up, encounter, follow_up_id)


def _create_follow_up(
    actor: Actor,
    person: Person,
    follow_up: FollowUpInput,
    encounter: Encounter | None,
    follow_up_id: uuid.UUID | None = None,
) -> FollowUp:
    point = working_point(actor)
    created = FollowUp.objects.create(
        id=follow_up_id or uuid.uuid4(),
        person=person,
        encounter=encounter,
        text=follow_up.text.strip(),
        due=follow_up.due,
        urgency=follow_up.urgency,
        created_by=actor.user,
        created_at_point=point,
    )
    record_event(
        actor,
        "create",
        "follow_up",
        created.pk,
        person_id=person.pk,
        fields=["text", "due", "urgency"],
    )
    return created


def complete_follow_up(actor: Actor, follow_up: FollowUp) -> FollowUp:
    working_point(actor, follow_up.person)
    with transaction.atomic():
        if follow_up.done_at is None:
            follow_up.done_at = timezone.now()
            follow_up.done_by = actor.user
            follow_up.save(update_fields=["done_at", "done_by"])
            record_event(
                actor,
                "change",
                "follow_up",
                follow_up.pk,
                person_id=follow_up.person_id,
                fields=["done_at"],
            )
        else:
            # Nothing changes, but the caller is shown the follow-up: that is a read.
            record_event(
                actor, "read", "follow_up", follow_up.pk, person_id=follow_up.person_id,
                fields=["text"], detail="already done",
            )  # fmt: skip
    return follow_up


def update_health_summary(actor: Actor, person: Person, **changes: Any) -> HealthSummary:
    """Replace the given fields of the health summary; audit which fields changed. Dates are
    checked around the time of the change (a health summary has no time of its own)."""
    return update_health_summary_as_of(actor, person, timezone.now(), changes)


def update_health_summary_as_of(
    actor: Actor, person: Person, as_of: dt.datetime, changes: dict[str, Any]
) -> HealthSummary:
    """The same, with dates checked around ``as_of``: the time the values describe (when the
    card that carries them was issued, say), so that values recorded then stay valid."""
    working_point(actor, person)
    require_care_consent(person)
    unknown = set(changes) - set(HealthSummary.SENSITIVE_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown health summary fields: %s") % ", ".join(sorted(unknown)))
    health.check_changes(changes, as_of)
    with transaction.atomic():
        summary, _created = HealthSummary.objects.select_for_update().get_or_create(person=person)
        touched = [name for name, value in changes.items() if getattr(summary, name) != value]
        if not touched:
            return summary
        for name in touched:
            setattr(summary, name, changes[name])
        summary.updated_at = timezone.now()
        summary.updated_by = actor.user
        summary.save()
        record_event(
            actor, "change", "health_summary", person.pk, person_id=person.pk, fields=touched
        )
    return summary


def _grant(
    actor: Actor,
    person: Person,
    purpose: str,
    language: str,
    *,
    from_card: str = "",
    consent_id: uuid.UUID | None = None,
) -> Consent:
    point = working_point(actor)
    consent = Consent.objects.create(
        id=consent_id or uuid.uuid4(),
        person=person,
        purpose=purpose,
        wording_version=WORDING_VERSION,
        language=language,
        recorded_by=actor.user,
        recorded_at_point=point,
        confirmed_from_card=from_card,
    )
    confirmed = f", confirmed from card {from_card}" if from_card else ""
    record_event(
        actor,
        "consent",
        "consent",
        consent.pk,
        person_id=person.pk,
        fields=[purpose],
        detail=f"granted {purpose} ({WORDING_VERSION}, {language}{confirmed})",
    )
    return consent


def confirm_consents_from_card(
    actor: Actor,
    person: Person,
    purposes: Sequence[str],
    *,
    carried: Sequence[str],
    language: str,
    card_serial: str,
) -> list[Consent]:
    """Consents a card from another society carries, which the person, shown the wording in
    their language, gave again here: new consents of this society, marked as confirmed from
    the card. Only what the card carries can be confirmed; what is already given stays."""
    working_point(actor, person)
    fields.LANGUAGE.check(language, "consent_language")
    for purpose in purposes:
        _require_choice(purpose, ConsentPurpose.values, "confirmed")
        if purpose not in carried:
            raise ValidationError({"confirmed": _("The card does not carry that consent.")})
    active = set(
        Consent.objects.filter(person=person, withdrawn_at__isnull=True).values_list(
            "purpose", flat=True
        )
    )
    with transaction.atomic():
        return [
            _grant(actor, person, purpose, language, from_card=card_serial)
            for purpose in dict.fromkeys(purposes)
            if purpose not in active
        ]


def give_consent(
    actor: Actor,
    person: Person,
    purpose: str,
    language: str,
    *,
    consent_id: uuid.UUID | None = None,
) -> Consent:
    working_point(actor, person)
    _require_choice(purpose, ConsentPurpose.values, "purpose")
    fields.LANGUAGE.check(language, "language")
    active = Consent.objects.filter(person=person, purpose=purpose, withdrawn_at__isnull=True)
    existing = active.first()
    if existing is not None:
        record_event(
            actor, "read", "consent", existing.pk, person_id=person.pk, fields=[purpose],
            detail="already given",
        )  # fmt: skip
        return existing
    try:
        with transaction.atomic():
            return _grant(actor, person, purpose, language, consent_id=consent_id)
    except IntegrityError:
        # Given at the same moment on another device: one active consent per purpose stands.
        return active.get()


def withdraw_consent(actor: Actor, person: Person, purpose: str) -> int:
    """Withdraw consent for a purpose at once; returns how many consents were withdrawn."""
    working_point(actor, person)
    _require_choice(purpose, ConsentPurpose.values, "purpose")
    with transaction.atomic():
        # One save per consent (one active per purpose), so that each change is noticed
        # (a field node sends it to its server).
        withdrawn = 0
        now = timezone.now()
        active = Consent.objects.select_for_update().filter(
            person=person, purpose=purpose, withdrawn_at__isnull=True
        )
        for consent in active:
            consent.withdrawn_at, consent.withdrawn_by = now, actor.user
            consent.save(update_fields=["withdrawn_at", "withdrawn_by"])
            withdrawn += 1
        # Recorded even when nothing was active: who tried to withdraw what is worth knowing.
        record_event(
            actor,
            "consent",
            "consent",
            person.pk,
            person_id=person.pk,
            fields=[purpose],
            detail=f"withdrew {purpose}" if withdrawn else f"nothing to withdraw for {purpose}",
        )
        if withdrawn:
            consent_withdrawn.send(sender=Consent, actor=actor, person=person, purpose=purpose)
    return withdrawn
