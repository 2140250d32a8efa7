"""Stored rows that break today's field rules (core.fields), listed per National Society.

The rules came after some data: rows stored before them stay as they are until someone
corrects them. ``routecare check-data`` lists them so that each society can: which table and
field, which record, which rule, never the value itself (sensitive fields are encrypted at
rest, so the checks read through the models). It changes nothing.

Each app registers the checks of its own tables in its ``AppConfig.ready()``; core runs what
is registered and knows no app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models

from routecare.orgs.models import NationalSociety, Network


@dataclass(frozen=True, order=True)
class Finding:
    owner: str  # the National Society (or the network, for what a network shares)
    table: str
    field: str
    record_id: str
    rule: str


Check = Callable[[], Iterable[Finding]]
_CHECKS: list[Check] = []


def register(check: Check) -> Check:
    if check not in _CHECKS:
        _CHECKS.append(check)
    return check


def owner_of(society: NationalSociety | None, network: Network | None = None) -> str:
    if society is not None:
        return f"{society.name} ({society.country_code})"
    if network is not None:
        return f"{network.name} (network)"
    return "(no owner)"


def findings(
    owner: str, row: models.Model, rules: Iterable[tuple[str, str | None]]
) -> Iterator[Finding]:
    """A finding for each (field, rule broken or None) of a row."""
    for field, rule in rules:
        if rule is not None:
            yield Finding(owner, row._meta.db_table, field, str(row.pk), rule)


def rows(queryset: models.QuerySet[Any]) -> Iterator[Any]:
    """Every row, a chunk at a time: tables of people can be long."""
    return queryset.iterator(chunk_size=500)


def run() -> list[Finding]:
    return sorted(finding for check in _CHECKS for finding in check())
