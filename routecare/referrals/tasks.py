"""Referral background work, run by the worker (`make worker`)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone
from django_tasks import task

from routecare.referrals.models import Referral


@task()
def expire_referral(referral_id: str) -> bool:
    """Expire one referral if it is still unanswered after its due date."""
    from routecare.referrals.actions import expire_one

    return expire_one(uuid.UUID(referral_id))


def schedule_expiry(referral: Referral) -> None:
    """Run the expiry the day after the due date, on a backend that can wait until then."""
    if referral.due is None or not expire_referral.get_backend().supports_defer:
        return
    run_after = timezone.make_aware(
        dt.datetime.combine(referral.due + dt.timedelta(days=1), dt.time(0, 5))
    )
    expire_referral.using(run_after=run_after).enqueue(str(referral.pk))


@task()
def remind_referral(referral_id: str) -> bool:
    """The day before it is due, remind the receivers of a referral nobody has answered."""
    from routecare.referrals.actions import remind

    return remind(uuid.UUID(referral_id))


def schedule_reminder(referral: Referral) -> None:
    if referral.due is None or not remind_referral.get_backend().supports_defer:
        return
    run_after = timezone.make_aware(
        dt.datetime.combine(referral.due - dt.timedelta(days=1), dt.time(8, 0))
    )
    if run_after > timezone.now():
        remind_referral.using(run_after=run_after).enqueue(str(referral.pk))
