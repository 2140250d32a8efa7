"""The stored referrals and their answers against today's field rules (``check-data``)."""

from __future__ import annotations

from collections.abc import Iterator

from routecare.core import data_check, fields
from routecare.core.data_check import Finding, findings, owner_of, rows
from routecare.referrals.models import Referral, ReferralResponse


def check_referrals() -> Iterator[Finding]:
    # The sending society holds the referral; an answer is listed for the society that gave
    # it (a partner's, through its link, for the sender).
    explanation = fields.REFERRAL_EXPLANATION
    for referral in rows(Referral.objects.select_related("from_society")):
        yield from findings(
            owner_of(referral.from_society),
            referral,
            [
                ("reason", fields.REFERRAL_REASON.broken_rule(referral.reason)),
                ("partner_name", fields.PARTNER_NAME.broken_rule(referral.partner_name)),
                ("override_reason", explanation.broken_rule(referral.override_reason)),
                ("service_warning_reason",
                 explanation.broken_rule(referral.service_warning_reason)),
                ("due", fields.REFERRAL_DUE.broken_rule(referral.due, referral.created_at)),
            ],
        )  # fmt: skip
    answers = ReferralResponse.objects.select_related("by_society", "referral__from_society")
    for response in rows(answers):
        society = response.by_society or response.referral.from_society
        note = fields.REFERRAL_NOTE.broken_rule(response.note)
        yield from findings(owner_of(society), response, [("note", note)])


def register() -> None:
    data_check.register(check_referrals)
