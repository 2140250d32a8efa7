"""Every change of cash rounds and enrolments: atomic, validated, audited.

A duplicate check reads the encodings of a round in the blocks an enrolment is compared with
(``matching``), across every society taking part, on this server: the round's row is locked
while a check decides, so two enrolments of one person checked at the same moment see each
other (PostgreSQL; SQLite writes one at a time anyway).
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from base64 import b64decode, b64encode
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

import pycountry
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_variables

from routecare import access
from routecare.access import Actor
from routecare.audit.actions import record_event, record_system_event
from routecare.cash import identity, linkage, matching
from routecare.cash.models import (
    CashEnrolment,
    CashRound,
    Decision,
    DuplicateReview,
    EnrolmentStatus,
    Verdict,
)
from routecare.core import fields, ratelimit
from routecare.orgs.models import NationalSociety
from routecare.orgs.taxonomy import Sex
from routecare.people.actions import working_point
from routecare.people.models import Person

ROUND_NAME = fields.Text(120, required=True)
MAX_AMOUNT = Decimal("9999999999.99")
# Duplicate checks per staff member and minute: a volunteer enrols a few people a minute at
# most; more is someone probing which people a round holds.
CHECKS_PER_MINUTE = 60
KEY_BYTES = 32

STATUS_OF = {
    Verdict.NO_MATCH: EnrolmentStatus.CLEARED,
    Verdict.POSSIBLE: EnrolmentStatus.REVIEW,
    Verdict.PROBABLE: EnrolmentStatus.BLOCKED,
}


class TooManyChecksError(ValidationError):
    """The staff member reached ``CHECKS_PER_MINUTE``: nothing was checked or stored."""

    def __init__(self) -> None:
        super().__init__(_("Too many duplicate checks in a minute: wait a moment and retry."))


@dataclass(frozen=True)
class RoundInput:
    name: str
    starts_on: dt.date
    ends_on: dt.date
    amount: Decimal
    currency: str
    participant_ids: Collection[uuid.UUID]
    network_wide: bool = False


def _round_problems(actor: Actor, values: RoundInput) -> dict[str, str]:
    problems: dict[str, str] = {}
    name_problem = ROUND_NAME.problem(values.name)
    if name_problem is not None:
        problems["name"] = name_problem
    if values.ends_on < values.starts_on:
        problems["ends_on"] = _("The round cannot end before it starts.")
    if not Decimal(0) < values.amount <= MAX_AMOUNT:
        problems["amount"] = _("Give an amount above zero.")
    if pycountry.currencies.get(alpha_3=values.currency) is None:
        problems["currency"] = _("Give an ISO 4217 currency code, e.g. USD or HNL.")
    network = NationalSociety.objects.filter(network_id=actor.network_id or uuid.uuid4())
    if network.filter(pk__in=values.participant_ids).count() != len(set(values.participant_ids)):
        problems["participants"] = _("Choose National Societies of your network.")
    elif values.network_wide and len(set(values.participant_ids)) < 2:
        problems["participants"] = _("A round of the network needs at least two societies.")
    return problems


@transaction.atomic
def create_round(actor: Actor, values: RoundInput) -> CashRound:
    if actor.network_id is None or not access.may_create_cash_round(
        actor, network_wide=values.network_wide
    ):
        raise PermissionError("this role does not create such cash rounds")
    problems = _round_problems(actor, values)
    if problems:
        raise ValidationError(problems)
    participants = set(values.participant_ids)
    if not values.network_wide:
        participants.add(actor.society_id)  # a society's round always includes it
    cash_round = CashRound.objects.create(
        network_id=actor.network_id,
        national_society_id=None if values.network_wide else actor.society_id,
        name=values.name.strip(),
        starts_on=values.starts_on,
        ends_on=values.ends_on,
        amount=values.amount,
        currency=values.currency,
        # Fresh for each round, so one person's encodings in two rounds cannot be linked.
        key=b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii"),
        created_by=actor.user,
    )
    cash_round.participants.set(NationalSociety.objects.filter(pk__in=participants))
    record_event(
        actor, "create", "cash_round", cash_round.pk, detail=f"{len(participants)} societies"
    )
    return cash_round


def _count_check(actor: Actor) -> None:
    if not ratelimit.allow_for(
        "cash-check", str(actor.user_id), limit=CHECKS_PER_MINUTE, seconds=60
    ):
        raise TooManyChecksError


def _require_open(cash_round: CashRound, today: dt.date) -> None:
    if cash_round.closed_at is not None or cash_round.key is None:
        raise ValidationError(_("This round is closed."))
    if today < cash_round.starts_on:
        raise ValidationError(_("This round has not started yet."))
    if today > cash_round.ends_on:
        raise ValidationError(_("This round has ended."))


def _require_participant(actor: Actor, cash_round: CashRound) -> None:
    participant_ids = set(cash_round.participants.values_list("pk", flat=True))
    if not access.takes_part_in_cash_round(actor, participant_ids):
        raise ValidationError(_("Your National Society does not take part in this round."))


@sensitive_variables("given_names", "surnames", "birth_date", "encoding")
def enrol_person(
    actor: Actor,
    cash_round: CashRound,
    person: Person,
    *,
    given_names: str,
    surnames: str,
    birth_date: dt.date,
    sex: str,
) -> CashEnrolment:
    """Encode the person's names and date of birth with the round's key, keep only that,
    and check it against the round. The names and the date go no further than this call."""
    point = working_point(actor, person)
    _require_participant(actor, cash_round)
    today = timezone.now().date()
    _require_open(cash_round, today)
    if sex not in Sex.values:
        raise ValidationError({"sex": _("Choose one of the listed values.")})
    identity.check(given_names, surnames, birth_date, today)
    if CashEnrolment.objects.filter(round=cash_round, person=person).exists():
        raise ValidationError(_("This person is already enrolled in this round."))
    try:
        encoding = linkage.encode(_key(cash_round), given_names, surnames, birth_date)
    except linkage.EncodingError:
        # The encoder's own message is English and about the method: the volunteer's is here.
        raise ValidationError(
            _(
                "These names cannot be encoded: write them in Latin letters, with at least one "
                "word of two letters or more in the given names and in the surnames."
            )
        ) from None
    _count_check(actor)
    with transaction.atomic():
        locked = _lock(cash_round)
        _require_open(locked, today)
        if CashEnrolment.objects.filter(round=locked, person=person).exists():
            raise ValidationError(_("This person is already enrolled in this round."))
        enrolment = CashEnrolment(
            round=locked,
            person=person,
            national_society_id=actor.society_id,
            service_point=point,
            enrolled_by=actor.user,
            encoding=encoding,
            birth_year=birth_date.year,
            sex=sex,
        )
        _decide(enrolment)
        enrolment.save()
        record_event(
            actor, "create", "cash_enrolment", enrolment.pk, person_id=person.pk,
            detail=_check_detail(enrolment),
        )  # fmt: skip
    return enrolment


def _key(cash_round: CashRound) -> bytes:
    if cash_round.key is None:
        raise ValidationError(_("This round is closed."))
    return b64decode(cash_round.key)


def _lock(cash_round: CashRound) -> CashRound:
    return CashRound.objects.select_for_update().get(pk=cash_round.pk)


def _cleared_with(enrolment_id: uuid.UUID | None) -> set[uuid.UUID]:
    """The enrolments a focal point said are another person than this one."""
    if enrolment_id is None:
        return set()
    pairs = DuplicateReview.objects.filter(decision=Decision.NOT_DUPLICATE).filter(
        Q(enrolment_id=enrolment_id) | Q(other_id=enrolment_id)
    )
    return {pk for pair in pairs.values_list("enrolment_id", "other_id") for pk in pair if pk} - {
        enrolment_id
    }


def _decide(enrolment: CashEnrolment) -> None:
    """Compare the enrolment with the others of its round in its blocks (sex, year of birth
    one apart), leaving out confirmed duplicates and pairs reviewed as two people."""
    sexes = [value for value in Sex.values if matching.comparable(enrolment.sex, value)]
    others = (
        CashEnrolment.objects.filter(
            round_id=enrolment.round_id,
            sex__in=sexes,
            birth_year__range=(enrolment.birth_year - 1, enrolment.birth_year + 1),
            encoding__isnull=False,
        )
        .exclude(status=EnrolmentStatus.DUPLICATE)
        .exclude(pk=enrolment.pk)
        .exclude(pk__in=_cleared_with(enrolment.pk if not enrolment._state.adding else None))
    )
    if enrolment.encoding is None:
        raise ValidationError(_("This round is closed."))
    candidates = list(others.values_list("pk", "encoding"))
    similarity, index = matching.best_match(
        bytes(enrolment.encoding), [bytes(encoding or b"") for _pk, encoding in candidates]
    )
    verdict = Verdict(matching.verdict(similarity).value)
    enrolment.similarity = similarity
    enrolment.verdict = verdict
    enrolment.matched_id = candidates[index][0] if index is not None else None
    enrolment.status = STATUS_OF[verdict]
    enrolment.checked_at = timezone.now()


def _check_detail(enrolment: CashEnrolment) -> str:
    return f"{enrolment.verdict} {enrolment.similarity:.2f}"


def _require_own(actor: Actor, enrolment: CashEnrolment) -> None:
    # Selectors already scope every enrolment; this guards against a caller that did not.
    if not actor.handles_personal_records or enrolment.national_society_id != actor.society_id:
        raise PermissionError("not an enrolment of the actor's National Society")


def _check_locked(actor: Actor, enrolment: CashEnrolment) -> CashEnrolment:
    cash_round = _lock(enrolment.round)
    if cash_round.closed_at is not None:
        raise ValidationError(_("This round is closed."))
    enrolment = CashEnrolment.objects.select_for_update().get(pk=enrolment.pk)
    if enrolment.status not in (EnrolmentStatus.PAID, EnrolmentStatus.DUPLICATE):
        _decide(enrolment)
        enrolment.save()
    record_event(
        actor, "search", "cash_enrolment", enrolment.pk, person_id=enrolment.person_id,
        detail=f"check: {_check_detail(enrolment)}",
    )  # fmt: skip
    return enrolment


def check_before_payment(actor: Actor, enrolment: CashEnrolment) -> CashEnrolment:
    """Compare the enrolment again with every other of its round (people enrolled since
    count too) and keep the verdict."""
    _require_own(actor, enrolment)
    _count_check(actor)
    with transaction.atomic():
        return _check_locked(actor, enrolment)


PAYMENT_REFUSALS = {
    EnrolmentStatus.BLOCKED: gettext_lazy(
        "Probable duplicate: blocked until a focal point reviews."
    ),
    EnrolmentStatus.REVIEW: gettext_lazy(
        "Possible duplicate: a focal point reviews it before payment."
    ),
    EnrolmentStatus.DUPLICATE: gettext_lazy("Confirmed duplicate: not paid."),
    EnrolmentStatus.PAID: gettext_lazy("Already paid."),
}


def mark_paid(actor: Actor, enrolment: CashEnrolment) -> CashEnrolment:
    """Pay only what a check made now, under the round's lock, clears."""
    _require_own(actor, enrolment)
    _count_check(actor)
    with transaction.atomic():
        enrolment = _check_locked(actor, enrolment)
        if enrolment.status == EnrolmentStatus.CLEARED:
            enrolment.status = EnrolmentStatus.PAID
            enrolment.paid_at = timezone.now()
            enrolment.paid_by = actor.user
            enrolment.save(update_fields=["status", "paid_at", "paid_by"])
            record_event(
                actor, "change", "cash_enrolment", enrolment.pk, person_id=enrolment.person_id,
                fields=["status"], detail="paid",
            )  # fmt: skip
            return enrolment
    # Refused after the commit: the check and its verdict are kept.
    raise ValidationError(str(PAYMENT_REFUSALS[EnrolmentStatus(enrolment.status)]))


def review(actor: Actor, enrolment: CashEnrolment, decision: str) -> CashEnrolment:
    """A focal point's decision on a flagged enrolment and the one it resembles."""
    if not access.may_review_cash_enrolment(actor, enrolment.national_society_id):
        raise PermissionError("only a focal point of the enrolling society reviews")
    if decision not in Decision.values:
        raise ValidationError({"decision": _("Choose one of the listed values.")})
    with transaction.atomic():
        if _lock(enrolment.round).closed_at is not None:
            raise ValidationError(_("This round is closed."))
        enrolment = CashEnrolment.objects.select_for_update().get(pk=enrolment.pk)
        flagged = (EnrolmentStatus.BLOCKED, EnrolmentStatus.REVIEW)
        if enrolment.status not in flagged or enrolment.matched_id is None:
            raise ValidationError(_("This enrolment is not waiting for a review."))
        matched = CashEnrolment.objects.filter(pk=enrolment.matched_id).values("status").first()
        if decision == Decision.DUPLICATE and (
            matched is None or matched["status"] == EnrolmentStatus.DUPLICATE
        ):
            # Each society may judge the other's enrolment the duplicate: then nobody would be
            # paid. The other one was set aside meanwhile: check this one again instead.
            raise ValidationError(
                _("The enrolment this one resembled is no longer in question: check it again.")
            )
        DuplicateReview.objects.create(
            enrolment=enrolment, other_id=enrolment.matched_id, similarity=enrolment.similarity,
            decision=decision, decided_by=actor.user,
        )  # fmt: skip
        if decision == Decision.DUPLICATE:
            enrolment.status = EnrolmentStatus.DUPLICATE
        else:
            _decide(enrolment)  # the pair is left out now; another enrolment may still match
        enrolment.save()
        record_event(
            actor, "change", "cash_enrolment", enrolment.pk, person_id=enrolment.person_id,
            fields=["status"], detail=f"review: {decision}",
        )  # fmt: skip
    return enrolment


def _require_manager(actor: Actor, cash_round: CashRound) -> None:
    participant_ids = set(cash_round.participants.values_list("pk", flat=True))
    if not access.may_manage_cash_round(actor, cash_round.national_society_id, participant_ids):
        raise PermissionError("this staff member does not manage this round")


@transaction.atomic
def close_round(actor: Actor, cash_round: CashRound) -> CashRound:
    """No more enrolments or checks: the key and every encoding of the round are erased; the
    statuses stay for the round's accounts."""
    _require_manager(actor, cash_round)
    cash_round = _lock(cash_round)
    if cash_round.closed_at is not None:
        raise ValidationError(_("This round is closed."))
    erased = _close(cash_round)
    record_event(
        actor, "erase", "cash_round", cash_round.pk, fields=["key", "encoding"],
        detail=f"closed, {erased} encodings erased",
    )  # fmt: skip
    return cash_round


def _close(cash_round: CashRound) -> int:
    erased = CashEnrolment.objects.filter(round=cash_round).update(encoding=None)
    cash_round.key = None
    cash_round.closed_at = timezone.now()
    cash_round.save(update_fields=["key", "closed_at"])
    transaction.on_commit(linkage.forget_keys)
    return erased


# Reviews and payments of a round go on this long after its last day; then it is closed by
# itself (``close_ended_rounds``, daily), so no key or encoding outlives its use.
CLOSED_AFTER_END = dt.timedelta(days=30)


def close_ended_rounds(now: dt.datetime | None = None) -> str:
    """The periodic job ``cash.close_ended``: counts only."""
    today = timezone.localdate(now or timezone.now())
    ended = CashRound.objects.filter(closed_at=None, ends_on__lt=today - CLOSED_AFTER_END)
    closed = 0
    for round_id in ended.values_list("pk", flat=True):
        with transaction.atomic():
            cash_round = _lock(CashRound.objects.get(pk=round_id))
            if cash_round.closed_at is not None:
                continue
            erased = _close(cash_round)
            record_system_event(
                "erase", "cash_round", cash_round.pk,
                national_society_id=cash_round.national_society_id,
                detail=f"closed after its end, {erased} encodings erased",
            )  # fmt: skip
            closed += 1
    return f"{closed} ended cash rounds closed"


@transaction.atomic
def delete_round(actor: Actor, cash_round: CashRound, *, typed_name: str) -> int:
    """Delete the round with its key, enrolments, encodings and reviews; the number of
    enrolments deleted. The name is typed again: nothing of it can be undone."""
    _require_manager(actor, cash_round)
    if typed_name.strip() != cash_round.name:
        raise ValidationError({"typed_name": _("Type the round's name exactly to delete it.")})
    cash_round = _lock(cash_round)
    # Other societies' enrolments (and their payments) are theirs to account for: a round
    # holding any is closed, not deleted.
    others = CashEnrolment.objects.filter(round=cash_round).exclude(
        national_society_id=actor.society_id
    )
    if others.exists():
        message = _("Other National Societies have enrolled people in this round: close it.")
        raise ValidationError({"typed_name": message})
    enrolments = CashEnrolment.objects.filter(round=cash_round).count()
    round_id = cash_round.pk
    cash_round.delete()
    transaction.on_commit(linkage.forget_keys)
    record_event(
        actor, "erase", "cash_round", round_id, detail=f"deleted with {enrolments} enrolments"
    )
    return enrolments
