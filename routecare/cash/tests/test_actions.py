"""Enrolling, checking, paying, reviewing, closing and deleting, with real encodings of names
written the way people on the Americas route write them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from routecare.audit.models import AuditEvent
from routecare.cash import actions, linkage, matching
from routecare.cash.models import (
    CashEnrolment,
    CashRound,
    Decision,
    DuplicateReview,
    EnrolmentStatus,
    Verdict,
)
from routecare.cash.tests.conftest import enrol, make_round
from routecare.conftest import Society, register
from routecare.core.models import RateWindow

JOSE = ("José Luis", "García López", "1990-05-17")


def test_a_first_enrolment_is_cleared_and_keeps_only_the_encoding(
    own: Society, shared_round: CashRound
) -> None:
    enrolment = enrol(own, shared_round, register(own), *JOSE)
    assert enrolment.verdict == Verdict.NO_MATCH
    assert enrolment.status == EnrolmentStatus.CLEARED
    assert len(bytes(enrolment.encoding or b"")) == linkage.FILTER_BYTES
    assert (enrolment.birth_year, enrolment.sex) == (1990, "male")
    assert enrolment.service_point == own.point


def test_the_same_person_without_accents_and_with_a_typo_at_another_society_is_blocked(
    own: Society, other: Society, shared_round: CashRound
) -> None:
    first = enrol(own, shared_round, register(own), *JOSE)
    second = enrol(other, shared_round, register(other), "Jose Luis", "Garcia Lopes", "1990-05-17")
    assert second.verdict == Verdict.PROBABLE
    assert second.status == EnrolmentStatus.BLOCKED
    assert second.matched_id == first.pk
    assert second.similarity >= 0.8


def test_swapped_given_names_are_a_probable_duplicate(
    own: Society, other: Society, shared_round: CashRound
) -> None:
    enrol(own, shared_round, register(own), *JOSE)
    second = enrol(other, shared_round, register(other), "Luis José", "García López", "1990-05-17")
    assert second.verdict == Verdict.PROBABLE


def test_a_similarity_between_the_thresholds_is_a_possible_duplicate_for_review(
    own: Society, other: Society, shared_round: CashRound, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The thresholds are still being tuned (matching): the upper one is moved out of reach
    # so that this pair, well above the lower one, falls between them whatever the tuning.
    monkeypatch.setattr(matching, "PROBABLE_AT", 1.01)
    enrol(own, shared_round, register(own), *JOSE)
    second = enrol(other, shared_round, register(other), "Jose Luis", "Garcia Lopes", "1990-05-17")
    assert second.verdict == Verdict.POSSIBLE
    assert second.status == EnrolmentStatus.REVIEW
    with pytest.raises(ValidationError, match="a focal point reviews it before payment"):
        actions.mark_paid(other.actor(), second)


def test_day_and_month_swapped_is_still_flagged(
    own: Society, other: Society, shared_round: CashRound
) -> None:
    names = ("María José", "Hernández de la Cruz")
    enrol(own, shared_round, register(own), *names, "1988-03-07", sex="female")
    second = enrol(other, shared_round, register(other), *names, "1988-07-03", sex="female")
    assert second.verdict != Verdict.NO_MATCH


def test_a_clearly_different_person_is_no_match(
    own: Society, other: Society, shared_round: CashRound
) -> None:
    enrol(own, shared_round, register(own), *JOSE)
    second = enrol(
        other, shared_round, register(other), "Carlos Alberto", "Martínez Reyes", "1990-08-23"
    )
    assert second.verdict == Verdict.NO_MATCH
    assert second.status == EnrolmentStatus.CLEARED
    assert second.matched_id is None


@pytest.mark.parametrize(
    ("sex", "birth_date", "compared"),
    [
        ("female", "1990-05-17", False),  # another sex: another block
        ("undisclosed", "1990-05-17", True),  # compared with every sex
        ("male", "1991-05-17", True),  # a year apart: the next block
        ("male", "1992-05-17", False),  # two years apart: never compared
    ],
)
def test_only_enrolments_in_comparable_blocks_are_compared(
    own: Society,
    other: Society,
    shared_round: CashRound,
    sex: str,
    birth_date: str,
    compared: bool,
) -> None:
    enrol(own, shared_round, register(own), *JOSE)
    second = enrol(other, shared_round, register(other), *JOSE[:2], birth_date, sex=sex)
    assert (second.verdict != Verdict.NO_MATCH) is compared


def test_rounds_are_not_compared_with_each_other(own: Society, other: Society) -> None:
    first_round, second_round = make_round(own, other), make_round(own, other, name="Second")
    enrol(own, first_round, register(own), *JOSE)
    second = enrol(other, second_round, register(other), *JOSE)
    assert second.verdict == Verdict.NO_MATCH
    assert first_round.key != second_round.key


def test_an_earlier_enrolment_is_checked_again_before_payment(
    own: Society, other: Society, shared_round: CashRound
) -> None:
    first = enrol(own, shared_round, register(own), *JOSE)
    enrol(other, shared_round, register(other), "Jose Luis", "Garcia Lopes", "1990-05-17")
    with pytest.raises(ValidationError, match="blocked until a focal point reviews"):
        actions.mark_paid(own.actor(), first)
    first.refresh_from_db()
    assert first.status == EnrolmentStatus.BLOCKED  # the check that refused is kept
    assert first.paid_at is None


def test_a_cleared_enrolment_is_paid_once(own: Society, shared_round: CashRound) -> None:
    enrolment = actions.mark_paid(own.actor(), enrol(own, shared_round, register(own), *JOSE))
    assert enrolment.status == EnrolmentStatus.PAID
    with pytest.raises(ValidationError, match="Already paid"):
        actions.mark_paid(own.actor(), enrolment)


def test_a_focal_point_confirming_a_duplicate_lets_the_other_enrolment_be_paid(
    own: Society, other: Society, shared_round: CashRound
) -> None:
    first = enrol(own, shared_round, register(own), *JOSE)
    second = enrol(other, shared_round, register(other), "Jose Luis", "Garcia Lopes", "1990-05-17")
    with pytest.raises(ValidationError):
        actions.mark_paid(other.actor(), second)
    reviewed = actions.review(other.actor("focal_point"), second, Decision.DUPLICATE)
    assert reviewed.status == EnrolmentStatus.DUPLICATE
    with pytest.raises(ValidationError, match="Confirmed duplicate"):
        actions.mark_paid(other.actor(), reviewed)
    assert actions.mark_paid(own.actor(), first).status == EnrolmentStatus.PAID


def test_not_a_duplicate_clears_the_pair_for_both_societies(
    own: Society, other: Society, shared_round: CashRound
) -> None:
    first = enrol(own, shared_round, register(own), *JOSE)
    second = enrol(other, shared_round, register(other), "Jose Luis", "Garcia Lopes", "1990-05-17")
    reviewed = actions.review(other.actor("focal_point"), second, Decision.NOT_DUPLICATE)
    assert reviewed.status == EnrolmentStatus.CLEARED
    assert DuplicateReview.objects.get().other_id == first.pk
    assert actions.mark_paid(other.actor(), reviewed).status == EnrolmentStatus.PAID
    assert actions.mark_paid(own.actor(), first).status == EnrolmentStatus.PAID


def test_only_a_focal_point_of_the_enrolling_society_reviews(
    own: Society, other: Society, shared_round: CashRound
) -> None:
    enrol(own, shared_round, register(own), *JOSE)
    second = enrol(other, shared_round, register(other), "Jose Luis", "Garcia Lopes", "1990-05-17")
    for actor in (other.actor("coordinator"), other.actor(), own.actor("focal_point")):
        with pytest.raises(PermissionError):
            actions.review(actor, second, Decision.NOT_DUPLICATE)
    assert not DuplicateReview.objects.exists()


def test_a_cleared_enrolment_is_not_reviewed(own: Society, shared_round: CashRound) -> None:
    enrolment = enrol(own, shared_round, register(own), *JOSE)
    with pytest.raises(ValidationError, match="not waiting for a review"):
        actions.review(own.actor("focal_point"), enrolment, Decision.DUPLICATE)


def test_checks_are_audited_without_names_or_dates(
    own: Society, other: Society, shared_round: CashRound
) -> None:
    person = register(own)
    enrolment = enrol(own, shared_round, person, *JOSE)
    actions.check_before_payment(own.actor(), enrolment)
    events = AuditEvent.objects.filter(person_id=person.pk, object_type="cash_enrolment")
    assert {event.action for event in events} == {"create", "search"}
    for event in events:
        assert "García" not in event.detail
        assert "1990" not in event.detail
        assert event.detail.startswith(("no-match", "check: no-match"))


def test_checks_are_limited_per_staff_member(
    own: Society, shared_round: CashRound, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(actions, "CHECKS_PER_MINUTE", 2)
    enrolment = enrol(own, shared_round, register(own), *JOSE)
    actions.check_before_payment(own.actor(), enrolment)
    with pytest.raises(actions.TooManyChecksError):
        actions.check_before_payment(own.actor(), enrolment)
    with pytest.raises(actions.TooManyChecksError):
        enrol(own, shared_round, register(own), "Carlos", "Martínez", "1970-01-02")
    assert CashEnrolment.objects.count() == 1
    # Another staff member is counted apart.
    assert actions.check_before_payment(own.actor("coordinator"), enrolment).pk == enrolment.pk
    assert RateWindow.objects.filter(scope="cash-check").count() == 2


def test_closing_a_round_erases_its_key_and_encodings_and_stops_checks(
    own: Society, other: Society, shared_round: CashRound
) -> None:
    enrolment = enrol(own, shared_round, register(own), *JOSE)
    closed = actions.close_round(own.actor("coordinator"), shared_round)
    assert closed.key is None
    enrolment.refresh_from_db()
    assert enrolment.encoding is None
    assert enrolment.status == EnrolmentStatus.CLEARED
    with pytest.raises(ValidationError, match="closed"):
        actions.check_before_payment(own.actor(), enrolment)
    with pytest.raises(ValidationError, match="closed"):
        enrol(other, closed, register(other), *JOSE)


def test_deleting_a_round_deletes_its_enrolments_and_reviews(
    own: Society, other: Society, shared_round: CashRound
) -> None:
    enrol(own, shared_round, register(own), *JOSE)
    second = enrol(own, shared_round, register(own), "Jose Luis", "Garcia Lopes", "1990-05-17")
    actions.review(own.actor("focal_point"), second, Decision.DUPLICATE)
    with pytest.raises(ValidationError):
        actions.delete_round(own.actor("focal_point"), shared_round, typed_name="wrong")
    assert (
        actions.delete_round(own.actor("focal_point"), shared_round, typed_name="Onward transport")
        == 2
    )
    assert not CashRound.objects.exists()
    assert not CashEnrolment.objects.exists()
    assert not DuplicateReview.objects.exists()


def test_a_round_with_another_society_s_enrolments_is_closed_not_deleted(
    own: Society, other: Society, shared_round: CashRound
) -> None:
    """Their enrolments and payments are theirs to account for."""
    enrol(own, shared_round, register(own), *JOSE)
    enrol(other, shared_round, register(other), "Ana", "Zelaya Matute", "1985-02-03")
    with pytest.raises(ValidationError, match="close it"):
        actions.delete_round(own.actor("focal_point"), shared_round, typed_name="Onward transport")
    assert CashEnrolment.objects.count() == 2
    actions.close_round(own.actor("focal_point"), shared_round)
    assert not CashEnrolment.objects.exclude(encoding=None).exists()


def test_each_society_cannot_set_the_other_s_enrolment_aside_so_nobody_is_paid(
    own: Society, other: Society, shared_round: CashRound
) -> None:
    first = enrol(own, shared_round, register(own), *JOSE)
    second = enrol(other, shared_round, register(other), "Jose Luis", "Garcia Lopes", "1990-05-17")
    assert second.matched_id == first.pk
    actions.review(other.actor("focal_point"), second, Decision.DUPLICATE)
    # The first one, checked again before payment, now resembles a duplicate set aside.
    CashEnrolment.objects.filter(pk=first.pk).update(
        status="blocked", matched_id=second.pk, similarity=0.9
    )
    first.refresh_from_db()
    with pytest.raises(ValidationError, match="check it again"):
        actions.review(own.actor("focal_point"), first, Decision.DUPLICATE)
    first.refresh_from_db()
    assert first.status == "blocked"


def test_a_participant_does_not_close_or_delete_another_society_s_round(
    own: Society, other: Society, shared_round: CashRound
) -> None:
    for role in ("coordinator", "focal_point"):
        with pytest.raises(PermissionError):
            actions.close_round(other.actor(role), shared_round)
        with pytest.raises(PermissionError):
            actions.delete_round(other.actor(role), shared_round, typed_name="Onward transport")
    assert CashRound.objects.get().closed_at is None


def test_a_network_round_is_started_by_a_focal_point_and_managed_by_participants(
    own: Society, other: Society
) -> None:
    values = actions.RoundInput(
        name="Network round", starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 2, 1),
        amount=Decimal(10), currency="USD", participant_ids=[own.society.pk, other.society.pk],
        network_wide=True,
    )  # fmt: skip
    with pytest.raises(PermissionError):
        actions.create_round(own.actor("coordinator"), values)
    cash_round = actions.create_round(own.actor("focal_point"), values)
    assert cash_round.national_society_id is None
    assert actions.close_round(other.actor("focal_point"), cash_round).closed_at is not None


def test_a_person_s_erasure_deletes_their_enrolments(own: Society, shared_round: CashRound) -> None:
    person = register(own)
    enrol(own, shared_round, person, *JOSE)
    person.delete()
    assert not CashEnrolment.objects.exists()


def test_a_round_is_closed_by_itself_thirty_days_after_its_end(
    own: Society, shared_round: CashRound
) -> None:
    enrol(own, shared_round, register(own), *JOSE)
    ends = dt.datetime.combine(shared_round.ends_on, dt.time(12), tzinfo=dt.UTC)
    assert actions.close_ended_rounds(ends + dt.timedelta(days=30)) == "0 ended cash rounds closed"
    assert CashRound.objects.get().key is not None
    assert actions.close_ended_rounds(ends + dt.timedelta(days=31)) == "1 ended cash rounds closed"
    closed = CashRound.objects.get()
    assert closed.key is None
    assert closed.closed_at is not None
    assert not CashEnrolment.objects.exclude(encoding=None).exists()
    assert CashEnrolment.objects.get().status == "cleared"  # the accounts stay
    assert actions.close_ended_rounds(ends + dt.timedelta(days=32)) == "0 ended cash rounds closed"
