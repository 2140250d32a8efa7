from __future__ import annotations

from collections.abc import Iterable

from django import template

from routecare.core.languages import country_name, language_name
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
