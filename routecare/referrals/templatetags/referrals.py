"""How a referral's shared data reads: each field with its words and units ("Pregnancy: 24
weeks, expected 2027-03-20"), never bare numbers and codes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import template
from django.utils.translation import gettext as _

from routecare.core.templatetags import routecare as labels
from routecare.referrals.models import ReferralStatus

register = template.Library()


def _pregnancy(value: Any) -> str:
    weeks, expected = value.get("weeks"), value.get("expected_date")
    if weeks and expected:
        return _("%(weeks)s weeks, expected %(date)s") % {"weeks": weeks, "date": expected}
    if weeks:
        return _("%(weeks)s weeks") % {"weeks": weeks}
    return _("expected %(date)s") % {"date": expected} if expected else "—"


def _medicine(value: Any) -> str:
    return " ".join(str(part) for part in (value.get("name"), value.get("dose")) if part)


def _follow_up(value: Any) -> str:
    text = f"{value.get('text', '')} — {labels.urgency_label(value.get('urgency'))}"
    if value.get("due"):
        text += ", " + _("due %(date)s") % {"date": value["due"]}
    return text


def _each(render: Callable[[Any], str]) -> Callable[[Any], str]:
    return lambda values: "; ".join(render(item) for item in values if isinstance(item, dict))


FORMATS: dict[str, Callable[[Any], str]] = {
    "sex": labels.sex_label,
    "age_band": labels.age_band_label,
    "languages": labels.language_names,
    "nationality": labels.country,
    "vulnerabilities": labels.vulnerability_labels,
    "medicines": _each(_medicine),
    "open_follow_ups": _each(_follow_up),
}


@register.filter
def shared_field(value: Any, name: str) -> str:
    """One shared field's value in the reader's language."""
    if value in (None, "", [], {}):
        return "—"
    if name == "pregnancy" and isinstance(value, dict):
        return _pregnancy(value)
    render = FORMATS.get(name)
    if render is not None:
        try:
            return render(value) or "—"
        except (AttributeError, TypeError):
            pass  # an older referral's shape: shown plainly below
    return labels.shared_value(value)


@register.filter
def status_label(code: str) -> str:
    """A referral status by its name in the reader's language ("aceptada", not "accepted")."""
    return str(dict(ReferralStatus.choices).get(code, code))
