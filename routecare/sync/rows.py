"""Whole rows as they travel down to nodes: every concrete field by attribute name, as JSON.

A node installs a row as the server has it (a copy, not a new event: no action, no audit
event of its own, no outbox change). A foreign key to a row the node does not hold (a staff
member of another point) is left empty where the field allows it, else the row is skipped.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


def raw_values(record: models.Model, withheld: frozenset[str] = frozenset()) -> dict[str, Any]:
    values = {
        field.attname: field.value_from_object(record)
        for field in record._meta.concrete_fields
        if field.attname not in withheld and field.name not in withheld
    }
    loaded: dict[str, Any] = json.loads(json.dumps(values, cls=_Exact))
    return loaded


class _Exact(DjangoJSONEncoder):
    """Times to the microsecond (Django's encoder keeps milliseconds): a copy is the row."""

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime | dt.time):
            return o.isoformat()
        return super().default(o)


def install(model: type[models.Model], values: dict[str, Any]) -> models.Model | None:
    """Create or replace the row; None when a required row it refers to is missing here."""
    fields: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.attname not in values:
            continue
        value = values[field.attname]
        if field.is_relation and value is not None:
            target = field.related_model
            if isinstance(target, type) and not target._default_manager.filter(pk=value).exists():
                if not field.null:
                    return None
                value = None
        fields[field.attname] = field.to_python(value) if value is not None else None
    pk_name = model._meta.pk.attname
    existing = model._default_manager.filter(pk=fields.get(pk_name))
    if pk_name in fields and existing.exists():
        # Only the fields that travelled: a node's own sign-in credential stays.
        existing.update(**{name: value for name, value in fields.items() if name != pk_name})
        return existing.get()
    record = model(**fields)
    # Raw: post_save sees raw=True, so a node does not send back what it received. A child
    # row travels without its id (an encounter's services): numbered here.
    record.save_base(raw=True, force_insert=True)
    return record
