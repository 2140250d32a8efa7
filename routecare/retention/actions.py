"""Changing retention: the policy, the purge of people not seen for long, erasure on request.

Deleting a person deletes everything held about them (encounters, health summary, follow-ups,
consents, referrals, cards) and puts their cards on the network's revocation list, so the
card in their hand is no longer read anywhere. Indicator rollups and audit events stay: they
name no one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from routecare.access import Actor
from routecare.audit.actions import record_event, record_system_event
from routecare.cards.actions import revoke_cards_of_people
from routecare.cards.models import RevokedSerial
from routecare.core.periodic import run_locked
from routecare.indicators import rollups, seen
from routecare.orgs.models import NationalSociety
from routecare.people import shortcode
from routecare.people.models import Encounter, Household, Person
from routecare.referrals.models import OPEN_STATUSES, Referral
from routecare.retention.models import MAX_MONTHS, MIN_MONTHS, PurgeRun, RetentionPolicy

BATCH = 500
DAILY_JOB = "(daily job)"
COMMAND_LINE = "(command line)"


class PurgeBusyError(Exception):
    """The indicator rollups are being refreshed elsewhere: try again in a minute."""


def policy_of(society: NationalSociety) -> RetentionPolicy:
    return RetentionPolicy.objects.filter(national_society=society).first() or RetentionPolicy(
        national_society=society
    )


def set_policy(
    actor: Actor, *, inactive_months: int | None, purge_enabled: bool
) -> RetentionPolicy:
    """A focal point sets how long their society keeps the records of people not seen."""
    if not actor.administers_society:
        raise PermissionError("only a focal point sets the retention policy")
    if inactive_months is not None and not MIN_MONTHS <= inactive_months <= MAX_MONTHS:
        raise ValidationError(
            _("Choose between %(low)s and %(high)s months.")
            % {"low": MIN_MONTHS, "high": MAX_MONTHS}
        )
    if purge_enabled and inactive_months is None:
        raise ValidationError(_("Choose after how many months records are deleted first."))
    policy = policy_of(NationalSociety.objects.get(pk=actor.society_id))
    policy.inactive_months = inactive_months
    policy.purge_enabled = purge_enabled
    policy.updated_at = timezone.now()
    policy.updated_by = actor.user
    policy.save()
    record_event(
        actor, "change", "retention_policy", actor.society_id,
        fields=["inactive_months", "purge_enabled"],
        detail=f"{inactive_months or 'no'} months, purge {'on' if purge_enabled else 'dry run'}",
    )  # fmt: skip
    return policy


def seen_before(months: int, now: dt.datetime) -> dt.datetime:
    """The first day (UTC) of the month ``months`` before now's: people last seen before it
    are inactive. A whole month, so the periods a purge makes final are all over."""
    index = now.astimezone(dt.UTC).year * 12 + now.astimezone(dt.UTC).month - 1 - months
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC)


def inactive_people(society: NationalSociety, cutoff: dt.datetime) -> QuerySet[Person]:
    """People of the society registered and last seen before the cutoff."""
    # A withdrawal (a voiding encounter) is no visit: it does not keep a person's data longer.
    recent = Encounter.objects.filter(
        person_id=OuterRef("pk"), occurred_at__gte=cutoff, voids=False
    )
    return Person.objects.filter(national_society=society, created_at__lt=cutoff).exclude(
        Exists(recent)
    )


OPEN_REFERRAL = Exists(Referral.objects.filter(person_id=OuterRef("pk"), status__in=OPEN_STATUSES))


@dataclass(frozen=True)
class PurgeReport:
    society: str  # country code
    dry_run: bool
    seen_before: dt.datetime | None
    people: int = 0
    kept_for_open_referrals: int = 0

    def __str__(self) -> str:
        if self.seen_before is None:
            return f"{self.society}: no retention period set"
        verb = "would delete" if self.dry_run else "deleted"
        return (
            f"{self.society}: {verb} {self.people} people not seen since "
            f"{self.seen_before:%Y-%m-%d} (kept for open referrals: "
            f"{self.kept_for_open_referrals})"
        )


def _delete_people(person_ids: list[uuid.UUID]) -> int:
    """Delete the people and what hangs off them; how many cards were revoked."""
    households = set(
        Person.objects.filter(pk__in=person_ids, household__isnull=False).values_list(
            "household_id", flat=True
        )
    )
    revoked = revoke_cards_of_people(person_ids, RevokedSerial.Reason.WITHDRAWN)
    Person.objects.filter(pk__in=person_ids).delete()
    # A household links people and holds nothing else: it goes with its last member.
    Household.objects.filter(pk__in=households, members__isnull=True).delete()
    return revoked


def _batches(ids: Iterable[uuid.UUID]) -> Iterable[list[uuid.UUID]]:
    batch: list[uuid.UUID] = []
    for value in ids:
        batch.append(value)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def purge_society(
    society: NationalSociety,
    *,
    apply: bool = False,
    now: dt.datetime | None = None,
    by: str = COMMAND_LINE,
) -> PurgeReport:
    """Delete (or, by default, count) the people of a society not seen for its retention
    period. People with an open referral are kept until it is closed or expires."""
    now = now or timezone.now()
    policy = policy_of(society)
    if policy.inactive_months is None:
        return PurgeReport(society.country_code, not apply, None)
    cutoff = seen_before(policy.inactive_months, now)
    candidates = inactive_people(society, cutoff)
    kept = candidates.filter(OPEN_REFERRAL).count()
    doomed = candidates.exclude(OPEN_REFERRAL)
    if not apply:
        report = PurgeReport(society.country_code, True, cutoff, doomed.count(), kept)
    else:
        # What was recorded up to now is counted before the records go, under the refresh
        # job's lock so no refresh runs meanwhile.
        if run_locked("indicators.refresh", rollups.refresh) == "skipped: running elsewhere":
            raise PurgeBusyError
        deleted = 0
        with transaction.atomic():
            for batch in _batches(list(doomed.values_list("pk", flat=True))):
                _delete_people(batch)
                deleted += len(batch)
            final = cutoff.date()
            if policy.aggregates_final_before is None or policy.aggregates_final_before < final:
                policy.aggregates_final_before = final
                policy.save()
            seen.forget_final(society.pk, final)
            record_system_event(
                "erase",
                "person",
                national_society_id=society.pk,
                detail=f"retention purge by {by}: {deleted} people not seen since {final}",
            )
        report = PurgeReport(society.country_code, False, cutoff, deleted, kept)
    PurgeRun.objects.create(
        national_society=society,
        started_at=now,
        dry_run=report.dry_run,
        seen_before=cutoff,
        people=report.people,
        kept_for_open_referrals=kept,
        by=by,
    )
    return report


def purge_all(*, apply_enabled: bool = True, now: dt.datetime | None = None) -> str:
    """The daily job: each society with a retention period, deleting only where its focal
    point turned deletion on (a dry run elsewhere)."""
    lines = []
    for policy in RetentionPolicy.objects.filter(inactive_months__isnull=False).select_related(
        "national_society"
    ):
        try:
            report = purge_society(
                policy.national_society,
                apply=apply_enabled and policy.purge_enabled,
                now=now,
                by=DAILY_JOB,
            )
        except PurgeBusyError:
            lines.append(f"{policy.national_society.country_code}: busy, next run")
            continue
        lines.append(str(report))
    return "; ".join(lines) or "no retention policies"


@dataclass(frozen=True)
class Erasure:
    encounters: int
    referrals: int
    cards_revoked: int


def erase_person(actor: Actor, person: Person, *, typed_code: str) -> Erasure:
    """Erase everything held about a person who asked for it. The focal point types the
    person's code again, so a record is never erased by a slip."""
    if not actor.administers_society:
        raise PermissionError("only a focal point erases a record")
    if person.national_society_id != actor.national_society_id:
        raise PermissionError("not a person of the actor's National Society")
    compact = shortcode.normalise(typed_code)
    if compact is None or shortcode.format_code(compact) != person.short_code:
        raise ValidationError(_("The code typed is not this person's code. Nothing was erased."))
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        # Out of the indicator rollups first, so they count as if never seen (those of
        # periods a purge made final stay as they are).
        seen.forget_person(person)
        encounters = Encounter.objects.filter(person=person).count()
        referrals = Referral.objects.filter(person=person).count()
        erasure = Erasure(encounters, referrals, _delete_people([person.pk]))
        record_event(
            actor, "erase", "person", person.pk, person_id=person.pk,
            detail=(
                f"erased on request: {erasure.encounters} encounters, {erasure.referrals} "
                f"referrals, {erasure.cards_revoked} cards revoked"
            ),
        )  # fmt: skip
    return erasure
