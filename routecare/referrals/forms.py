from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from routecare.access import Actor
from routecare.core import fields
from routecare.orgs.models import NationalSociety, ServicePoint
from routecare.orgs.taxonomy import Service, Urgency
from routecare.referrals.actions import SHAREABLE_FIELDS, Destination
from routecare.referrals.models import ReferralType

FIELD_LABELS = {
    "sex": _("Sex"),
    "age_band": _("Age band"),
    "birth_year": _("Birth year"),
    "languages": _("Languages"),
    "nationality": _("Nationality"),
    "allergies": _("Allergies"),
    "conditions": _("Chronic conditions"),
    "medicines": _("Medicines"),
    "pregnancy": _("Pregnancy"),
    "vulnerabilities": _("Needs special attention"),
    "open_follow_ups": _("Open follow-ups"),
}


def destination_choices(actor: Actor) -> list[tuple[str, str]]:
    """Points of the network the actor may refer to, and societies for family-links requests."""
    if actor.network_id is None:
        return [("partner", str(_("An organisation not on RouteCare")))]
    points = (
        ServicePoint.objects.filter(national_society__network_id=actor.network_id)
        .exclude(status=ServicePoint.Status.CLOSED)
        .filter(
            ~Q(visibility=ServicePoint.Visibility.INTERNAL)
            | Q(national_society_id=actor.national_society_id)
        )
        .select_related("national_society")
        .order_by("national_society__country_code", "name")
    )
    choices = [(f"point:{p.pk}", f"{p.national_society.country_code} · {p.name}") for p in points]
    for society in NationalSociety.objects.filter(network_id=actor.network_id).order_by("name"):
        choices.append((f"society:{society.pk}", f"{society.name} — {_('family links (RFL)')}"))
    choices.append(("partner", str(_("An organisation not on RouteCare"))))
    return choices


class ReferralForm(forms.Form):
    destination = forms.ChoiceField(label=_("Refer to"))
    partner_name = fields.PARTNER_NAME.form_field(label=_("Organisation name"))
    type = forms.ChoiceField(label=_("Type"), choices=ReferralType.choices)
    service = forms.ChoiceField(label=_("Service needed"), choices=Service.choices)
    reason = fields.REFERRAL_REASON.form_field(label=_("Reason"))
    urgency = forms.ChoiceField(
        label=_("Urgency"), choices=Urgency.choices, initial=Urgency.ROUTINE
    )
    due = forms.DateField(
        label=_("Due"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    shared_fields = forms.MultipleChoiceField(
        label=_("Data that travels"),
        required=False,
        choices=[(name, FIELD_LABELS[name]) for name in SHAREABLE_FIELDS],
        widget=forms.CheckboxSelectMultiple,
    )
    service_warning_reason = fields.REFERRAL_EXPLANATION.form_field(
        label=_("If the point does not list this service, why refer there"),
        widget=forms.TextInput,
    )
    override_reason = fields.REFERRAL_EXPLANATION.form_field(
        label=_("Focal point override: why share beyond the person's consent"),
        widget=forms.TextInput,
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, actor: Actor, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["destination"].choices = destination_choices(actor)  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def clean_due(self) -> dt.date | None:
        due: dt.date | None = self.cleaned_data.get("due")
        fields.REFERRAL_DUE.validate_now(due)  # a referral's own time is when it is sent: now
        return due

    def destination_value(self) -> Destination:
        kind, _sep, key = self.cleaned_data["destination"].partition(":")
        if kind == "point":
            return Destination(
                point=ServicePoint.objects.select_related("national_society").get(pk=key)
            )
        if kind == "society":
            return Destination(society=NationalSociety.objects.get(pk=key))
        return Destination(partner_name=self.cleaned_data["partner_name"] or "")


class RespondForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("accept", _("Accept")),
            ("decline", _("Decline")),
            ("complete", _("Complete")),
            ("withdraw", _("Withdraw")),
        ]
    )
    note = fields.REFERRAL_NOTE.form_field(widget=forms.Textarea(attrs={"rows": 2}))
