"""The stored people, encounters, health summaries, follow-ups and consents against today's
field rules (``routecare check-data``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from routecare.core import data_check, fields
from routecare.core.data_check import Finding, findings, owner_of, rows
from routecare.people.models import Consent, Encounter, FollowUp, HealthSummary, Person


def health_summary_rules(
    summary: HealthSummary, reference: dt.datetime
) -> Iterator[tuple[str, str | None]]:
    """(field, rule broken) of a stored health summary; dates around its last change."""
    yield "allergies", fields.ALLERGIES.broken_rule(summary.allergies)
    yield "conditions", fields.CONDITIONS.broken_rule(summary.conditions)
    for n, medicine in enumerate(_dicts(summary.medicines)):
        yield f"medicines.{n}.name", fields.MEDICINE_NAME.broken_rule(medicine.get("name"))
        yield f"medicines.{n}.dose", fields.MEDICINE_DOSE.broken_rule(medicine.get("dose"))
        dispensed = medicine.get("dispensed_on")
        yield f"medicines.{n}.dispensed_on", fields.DISPENSED_ON.broken_rule(dispensed, reference)
    pregnancy = summary.pregnancy if isinstance(summary.pregnancy, dict) else {}
    expected = pregnancy.get("expected_date")
    yield "pregnancy.expected_date", fields.EXPECTED_DELIVERY.broken_rule(expected, reference)
    for n, growth in enumerate(_dicts(summary.child_growth)):
        measured = growth.get("measured_on")
        yield (
            f"child_growth.{n}.measured_on",
            fields.GROWTH_MEASURED.broken_rule(measured, reference),
        )
    for n, vaccination in enumerate(_dicts(summary.vaccinations)):
        yield f"vaccinations.{n}.vaccine", fields.VACCINE.broken_rule(vaccination.get("vaccine"))
        given = vaccination.get("given_on")
        yield f"vaccinations.{n}.given_on", fields.VACCINATION_GIVEN.broken_rule(given, reference)


def _dicts(values: Any) -> list[dict[str, Any]]:
    return [value for value in values or [] if isinstance(value, dict)]


def check_people() -> Iterator[Finding]:
    for person in rows(Person.objects.select_related("national_society")):
        owner = owner_of(person.national_society)
        languages = person.languages if isinstance(person.languages, list) else [None]
        yield from findings(
            owner,
            person,
            [
                ("alias", fields.ALIAS.broken_rule(person.alias)),
                *((f"languages.{n}", fields.LANGUAGE.broken_rule(code))
                  for n, code in enumerate(languages)),
            ],
        )  # fmt: skip
    for summary in rows(HealthSummary.objects.select_related("person__national_society")):
        owner = owner_of(summary.person.national_society)
        yield from findings(owner, summary, health_summary_rules(summary, summary.updated_at))
    for encounter in rows(Encounter.objects.select_related("person__national_society")):
        owner = owner_of(encounter.person.national_society)
        notes = encounter.notes
        yield from findings(
            owner, encounter, [("notes", fields.ENCOUNTER_NOTES.broken_rule(notes))]
        )
    follow_ups = FollowUp.objects.select_related("person__national_society", "encounter")
    for follow_up in rows(follow_ups):
        owner = owner_of(follow_up.person.national_society)
        # The visit that asked for it is its time; a follow-up added alone, its creation.
        reference = follow_up.encounter.occurred_at if follow_up.encounter else follow_up.created_at
        yield from findings(
            owner,
            follow_up,
            [
                ("text", fields.FOLLOW_UP_TEXT.broken_rule(follow_up.text)),
                ("due", fields.FOLLOW_UP_DUE.broken_rule(follow_up.due, reference)),
            ],
        )
    for consent in rows(Consent.objects.select_related("person__national_society")):
        owner = owner_of(consent.person.national_society)
        yield from findings(
            owner, consent, [("language", fields.LANGUAGE.broken_rule(consent.language))]
        )


def register() -> None:
    data_check.register(check_people)
