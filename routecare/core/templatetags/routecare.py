from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.db import models

from routecare.core.languages import country_name, language_name
from routecare.orgs.taxonomy import AgeBand, Service, Sex, TriageColour, Urgency
from routecare.people.models import Vulnerability

register = template.Library()


@register.filter
def country(code: str) -> str:
    return country_name(code)


@register.filter
def language_names(codes: Iterable[str]) -> str:
    return ", ".join(language_name(code) for code in codes)


@register.filter
def vulnerability_labels(codes: Iterable[str]) -> str:
    labels = dict(Vulnerability.choices)
    return ", ".join(str(labels.get(code, code)) for code in codes)


def _label(choices: type[models.TextChoices], code: str | None) -> str:
    return str(dict(choices.choices).get(code or "", code or ""))


@register.filter
def triage_label(code: str | None) -> str:
    return _label(TriageColour, code)


@register.filter
def sex_label(code: str | None) -> str:
    return _label(Sex, code)


@register.filter
def age_band_label(code: str | None) -> str:
    return _label(AgeBand, code)


@register.filter
def urgency_label(code: str | None) -> str:
    return _label(Urgency, code)


@register.filter
def service_labels(codes: Iterable[str]) -> str:
    return ", ".join(_label(Service, code) for code in codes)


@register.simple_tag
def person_text(texts: dict[str, str], key: str, **values: object) -> str:
    """A person-facing text with its placeholders filled (``texts`` from ``texts_for``)."""
    return texts[key] % values


@register.simple_tag
def person_service(texts: dict[str, str], code: str) -> str:
    return texts.get(f"service:{code}", code)


@register.filter
def weekday(day: int) -> str:
    from django.utils.dates import WEEKDAYS

    return str(WEEKDAYS.get(day, day))


@register.filter
def get_item(mapping: dict[str, object], key: str) -> object:
    return mapping.get(key, key)


@register.filter
def shared_value(value: object) -> str:
    """A shared field's value as plain text (lists, medicines, follow-ups, pregnancy)."""
    if value in (None, "", [], {}):
        return "—"
    if isinstance(value, list):
        return "; ".join(shared_value(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(str(item) for item in value.values() if item not in (None, ""))
    return str(value)
