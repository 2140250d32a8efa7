"""Referral figures for dashboards: counts by status, time to accept, by route segment.

Aggregates of the referrals the actor's society sent or received; protection referrals count
only for staff who may see them.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from typing import Any

from django.db.models import Q

from routecare.access import Actor
from routecare.referrals.models import ReferralResponse, ReferralStatus
from routecare.referrals.selectors import _referrals


def referral_metrics(actor: Actor, since: dt.datetime) -> dict[str, Any]:
    referrals = list(
        _referrals(actor)
        .filter(
            Q(from_society_id=actor.national_society_id)
            | Q(to_society_id=actor.national_society_id),
            created_at__gte=since,
        )
        .select_related("from_society", "to_society")
    )
    accepted_at = dict(
        ReferralResponse.objects.filter(
            referral__in=[r.pk for r in referrals], status=ReferralStatus.ACCEPTED
        ).values_list("referral_id", "at")
    )
    hours_to_accept = [
        (accepted_at[r.pk] - r.created_at).total_seconds() / 3600
        for r in referrals
        if r.pk in accepted_at
    ]
    segments: Counter[str] = Counter()
    for referral in referrals:
        to = referral.to_society.country_code if referral.to_society else "partner"
        segments[f"{referral.from_society.country_code} → {to}"] += 1
    sent = [r for r in referrals if r.from_society_id == actor.national_society_id]
    received = [r for r in referrals if r.to_society_id == actor.national_society_id]
    return {
        "since": since.date().isoformat(),
        "sent": len(sent),
        "received": len(received),
        "by_status": {
            status: sum(1 for r in referrals if r.status == status)
            for status in ReferralStatus.values
        },
        "median_hours_to_accept": round(statistics.median(hours_to_accept), 1)
        if hours_to_accept
        else None,
        "by_segment": dict(segments.most_common()),
    }
