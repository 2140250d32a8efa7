"""What other apps may react to in a person's record, without ``people`` depending on them."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from django.dispatch import Signal

# Sent inside the withdrawing transaction with ``actor``, ``person`` and ``purpose``.
consent_withdrawn = Signal()

# Sent inside the recording transaction with ``encounter`` (services in
# ``encounter._recorded_services``) and ``corrects`` (the encounter it replaces, or None).
encounter_recorded = Signal()

# Sent inside the changing transaction with ``person`` and ``fields``, the names of the fields
# that changed (``actions.update_person``): rollups recount a person whose sex, age band or
# population group changed.
person_changed = Signal()

# Asked before an encounter's INSERT, with the point's id, the services' codes and whether it
# corrects another: whether stock is to be taken for it later (``Encounter.stock_pending``).
# ``flows.stock_use`` registers the answer; the encounter's own row then carries the work, and the
# request writes nothing more.
StockCheck = Callable[[uuid.UUID, Sequence[str], bool], bool]
_stock_checks: dict[str, StockCheck] = {}


def follow_stock(name: str, check: StockCheck) -> None:
    _stock_checks[name] = check


def stock_follows(point_id: uuid.UUID, services: Sequence[str], corrects: bool) -> bool:
    return any(check(point_id, services, corrects) for check in _stock_checks.values())
