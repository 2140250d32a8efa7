"""`routecare check-data`: rows stored before today's field rules, listed per National
Society (table, field, record, rule; never the value), nothing changed."""

from __future__ import annotations

import datetime as dt
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from routecare.audit.models import AuditEvent
from routecare.conftest import Society, register
from routecare.feedback.actions import About, submit_feedback
from routecare.feedback.models import FeedbackNote
from routecare.people import actions
from routecare.people.models import Consent, Encounter, FollowUp, HealthSummary, Person
from routecare.referrals.actions import Destination, send_referral
from routecare.referrals.models import Referral, ReferralResponse

SECRET = "SECRET-VALUE"


def _check() -> str:
    out = StringIO()
    call_command("check-data", stdout=out)  # a SystemExit would fail the test
    return out.getvalue()


def _state() -> list[object]:
    return [
        [(p.pk, p.alias, p.languages) for p in Person.objects.order_by("pk")],
        [(h.pk, h.allergies, h.pregnancy, h.updated_at) for h in HealthSummary.objects.all()],
        [(e.pk, e.notes) for e in Encounter.objects.all()],
        [(f.pk, f.text, f.due) for f in FollowUp.objects.all()],
        [(c.pk, c.language) for c in Consent.objects.all()],
        [(r.pk, r.reason, r.due) for r in Referral.objects.all()],
        [(r.pk, r.note) for r in ReferralResponse.objects.all()],
        [(n.pk, n.text) for n in FeedbackNote.objects.all()],
    ]


def test_clean_data_is_reported_clean(own: Society) -> None:
    person = register(own, languages=["prs", "ti"])
    actions.update_health_summary(own.actor(), person, allergies=["پنی\u200cسیلین"])
    assert _check().strip() == "No stored value breaks the rules."
    # It decrypted every record to check it: the audit trail says so.
    event = AuditEvent.objects.get(object_type="stored_records")
    assert (event.action, event.actor_username) == ("read", "(command line)")
    assert "0 values" in event.detail


def test_rows_breaking_the_rules_are_listed_per_society_without_their_values(
    own: Society, other: Society
) -> None:
    person = register(own, languages=["es"])
    person.alias = f"{SECRET}\x00"
    person.languages = ["es", "zz"]
    person.save()
    long_ago = timezone.now() - dt.timedelta(days=400)
    HealthSummary.objects.create(
        person=person,
        allergies=["penicillin", "", f"{SECRET}" * 20],
        pregnancy={"weeks": 20, "expected_date": "9999-12-31"},
        medicines=[{"name": "insulin", "dose": "", "dispensed_on": "2026-13-45"}],
        updated_at=long_ago,
    )
    encounter = Encounter.objects.create(
        person=person, service_point=own.point, notes=f"{SECRET}\u202e"
    )
    follow_up = FollowUp.objects.create(
        person=person, text="ok", due=dt.date(1900, 1, 1), created_at_point=own.point
    )
    Consent.objects.filter(person=person).update(language="xx")
    consent = Consent.objects.get(person=person)

    others = register(other)
    referral = send_referral(
        other.actor(), others, destination=Destination(point=other.second_point),
        referral_type="health", service="first-aid", reason="wound", idempotency_key="check-01",
    )  # fmt: skip
    Referral.objects.filter(pk=referral.pk).update(due=dt.date(9999, 1, 1))
    referral.reason = f"{SECRET}\x1b"
    referral.save(update_fields=["reason"])
    item, _new = submit_feedback(
        about=About(own.society.network, own.society), category="question", text="ok",
        language="es", form_token="check-data-feedback",
    )  # fmt: skip
    note = FeedbackNote.objects.create(feedback=item, text="x" * 2001)
    before = _state()

    report = _check()

    assert _state() == before
    assert SECRET not in report
    listed = _listed(report)
    assert listed["Honduran Red Cross (HN)"] == {
        ("people_person.alias", str(person.pk), "control character"),
        ("people_person.languages.1", str(person.pk), "not an ISO 639 language code"),
        ("people_healthsummary.allergies", str(person.pk), "item 2: blank"),
        ("people_healthsummary.pregnancy.expected_date", str(person.pk),
         "outside -31..+304 days of the record's time"),
        ("people_healthsummary.medicines.0.dispensed_on", str(person.pk), "not a date"),
        ("people_encounter.notes", str(encounter.pk), "direction-control character"),
        ("people_followup.due", str(follow_up.pk), "outside -1..+366 days of the record's time"),
        ("people_consent.language", str(consent.pk), "not an ISO 639 language code"),
        ("feedback_feedbacknote.text", str(note.pk), "longer than 2000 characters"),
    }  # fmt: skip
    assert listed["Guatemalan Red Cross (GT)"] == {
        ("referrals_referral.reason", str(referral.pk), "control character"),
        ("referrals_referral.due", str(referral.pk), "outside -0..+366 days of the record's time"),
    }
    assert report.splitlines()[-1].startswith(
        "11 stored values break the rules. Nothing was changed"
    )


def _listed(report: str) -> dict[str, set[tuple[str, str, str]]]:
    """Owner -> (table.field, record id, rule), checking each owner's count."""
    listed: dict[str, set[tuple[str, str, str]]] = {}
    counts: dict[str, int] = {}
    owner = ""
    for line in report.splitlines()[:-1]:
        if not line.startswith("  "):
            owner, _colon, count = line.rpartition(": ")
            counts[owner] = int(count)
            listed[owner] = set()
            continue
        place, record, rule = line.split(maxsplit=2)
        listed[owner].add((place, record, rule))
    assert {name: len(found) for name, found in listed.items()} == counts
    return listed
