"""A point's card on the public list, written in Python: a list of a few hundred points
drew each card through two template includes, over half of the page's time (issue 22,
item 4). The same markup as ``_opening.html`` (kept for the detail page and the booklet),
escaped as the templates escape; a test compares the two."""

from __future__ import annotations

from html import escape
from typing import Any

from django.utils.safestring import SafeData, SafeString, mark_safe


def _e(value: Any) -> str:
    """``conditional_escape``'s output (the standard library's escape), without its lazy
    wrapping: a list's cards escape some 15,000 values."""
    if value is None:
        return ""
    return str(value) if isinstance(value, SafeData) else escape(str(value))


def opening_html(entry: dict[str, Any], texts: dict[str, str]) -> str:
    """``_opening.html`` for a point's context (``views._point_context``)."""
    state = entry["state"]
    if not state.operating:
        return (
            f'<strong class="status-{_e(state.status)}" data-testid="opening">'
            f"{_e(entry['status_text'])}</strong>"
        )
    line = entry["opening_line"]
    if not line:
        return f'<span data-testid="opening">{_e(texts["no_hours"])}</span>'
    css = "status-open" if state.open_now else "status-closed-now"
    until = state.next_change.isoformat() if state.next_change is not None else ""
    return f'<span class="{css}" data-testid="opening" data-until="{_e(until)}">{_e(line)}</span>'


def public_point_html(
    entry: dict[str, Any], lang: str, country: str, texts: dict[str, str]
) -> SafeString:
    """The card of ``_public_point.html`` (the public list's points and what is next)."""
    code = _e(entry["point"].code)
    query = f"?country={_e(country)}" if country else ""
    distance = ""
    if entry.get("hours_away") is not None and entry.get("km") is not None:
        distance = " · " + _e(texts["distance"] % {"km": entry["km"], "hours": entry["hours_away"]})
    services = "".join(
        f'<li><span aria-hidden="true">{_e(icon)}</span> {_e(name)}</li>'
        for _code, icon, name in entry["services"]
    )
    return mark_safe(  # noqa: S308 - every value above is escaped
        f'<article class="point" data-code="{code}">\n'
        f'  <h3><a href="/{_e(lang)}/services/{code}/{query}"><bdi>{_e(entry["name"])}</bdi></a>'
        "</h3>\n"
        f'  <p class="muted"><bdi>{_e(entry["country_name"])}</bdi> · '
        f"{opening_html(entry, texts)}{distance}</p>\n"
        f'  <ul class="icons" aria-label="{_e(texts["services_offered"])}">{services}</ul>\n'
        "</article>\n"
    )
