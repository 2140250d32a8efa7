"""The shape of one change on the wire, checked before anything is applied (docs/sync.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from routecare.sync import clock, registry

OPS = ("create", "update")
# A node clock this far ahead of the server's is wrong: its changes are refused until fixed.
MAX_CLOCK_AHEAD = dt.timedelta(hours=24)


class ChangeError(ValueError):
    """A change that cannot be read: its outcome is ``refused`` with this message."""


@dataclass(frozen=True)
class Change:
    id: uuid.UUID
    label: str
    record_id: uuid.UUID
    op: str
    base_version: int
    base: dict[str, Any]
    values: dict[str, Any]
    by: str
    hlc: str
    digest: str

    @property
    def key(self) -> str:
        return f"{self.label}:{self.record_id}"

    def as_wire(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "label": self.label,
            "record_id": str(self.record_id),
            "op": self.op,
            "base_version": self.base_version,
            "base": self.base,
            "values": self.values,
            "by": self.by,
            "hlc": self.hlc,
        }


def digest_of(wire: dict[str, Any]) -> str:
    canonical = json.dumps(wire, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _uuid(value: Any, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError) as exc:
        raise ChangeError(_("%(field)s is not a valid id.") % {"field": name}) from exc


def parse(raw: Any, now: dt.datetime) -> Change:
    if not isinstance(raw, dict):
        raise ChangeError(_("A change must be a JSON object."))
    change_id = _uuid(raw.get("id"), "id")
    label = raw.get("label")
    syncable = registry.syncable(label) if isinstance(label, str) else None
    if syncable is None:
        raise ChangeError(_("Unknown kind of record."))
    op = raw.get("op")
    if op not in OPS or (op == "update" and syncable.immutable):
        raise ChangeError(_("Unknown or not allowed operation."))
    base_version = raw.get("base_version", 0)
    if type(base_version) is not int or base_version < 0:
        raise ChangeError(_("base_version must be a whole number."))
    base, values = raw.get("base", {}), raw.get("values")
    if not isinstance(base, dict) or not isinstance(values, dict):
        raise ChangeError(_("base and values must be JSON objects."))
    unknown = (set(values) | set(base)) - set(syncable.fields)
    if unknown:
        raise ChangeError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    by, hlc = raw.get("by"), raw.get("hlc")
    if not isinstance(by, str) or not by or len(by) > 150:
        raise ChangeError(_("by must name the staff member who made the change."))
    when = clock.wall_time(hlc) if isinstance(hlc, str) else None
    if when is None:
        raise ChangeError(_("hlc is not a hybrid logical clock value."))
    if when > now + MAX_CLOCK_AHEAD:
        raise ChangeError(
            _("The node's clock is more than 24 hours ahead of the server's: set its clock.")
        )
    wire = {
        "id": str(change_id), "label": label, "record_id": str(_uuid(raw.get("record_id"),
        "record_id")), "op": op, "base_version": base_version, "base": base, "values": values,
        "by": by, "hlc": hlc,
    }  # fmt: skip
    return Change(
        id=change_id,
        label=str(label),
        record_id=uuid.UUID(wire["record_id"]),
        op=op,
        base_version=base_version,
        base=base,
        values=values,
        by=by,
        hlc=str(hlc),
        digest=digest_of(wire),
    )
