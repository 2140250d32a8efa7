"""What a node pulls from its server, in this order: erasures first (and consent
withdrawals with the people records, before anything else of them), then reference data
whole, then the records of the people relevant to the node's point.

Resumable: the node sends the server time of its last complete pull (``since``) and a page
number; it moves ``since`` forward only once every page arrived. Pages overlap by
``OVERLAP`` so that a transaction that committed late is not missed; installing a row twice
changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from routecare.sync import registry
from routecare.sync.models import ErasedRecord, Node, RecordVersion, SyncConflict
from routecare.sync.rows import raw_values

OVERLAP = dt.timedelta(minutes=2)
PAGE_RECORDS = 500


def _relevant(node: Node, now: dt.datetime) -> QuerySet[Any] | None:
    combined: QuerySet[Any] | None = None
    for relevance in registry.relevances():
        people = relevance.all(node.service_point_id, now)
        combined = people if combined is None else combined.union(people)
    return combined


def _newly_relevant(node: Node, since: dt.datetime) -> list[Any]:
    found: list[Any] = []
    for relevance in registry.relevances():
        found.extend(relevance.new(node.service_point_id, since))
    return found


def _people_records(
    node: Node, since: dt.datetime | None, now: dt.datetime
) -> list[dict[str, Any]]:
    relevant = _relevant(node, now)
    if relevant is None:
        return []
    relevant_ids = list(relevant)
    newly = _newly_relevant(node, since) if since is not None else []
    # People first, then their records in the order their apps registered them (a record
    # never arrives before what it refers to).
    syncables = sorted(
        (s for s in registry.all_syncables() if s.person_field is not None),
        key=lambda s: not registry.is_person(s.label),
    )
    records: list[dict[str, Any]] = []
    for syncable in syncables:
        field = "pk" if syncable.person_field == "pk" else f"{syncable.person_field}"
        rows = syncable.model._default_manager.filter(**{f"{field}__in": relevant_ids})
        if since is not None:
            if syncable.immutable and syncable.created_field:
                # Created once, never changed: new since the last pull is all that can be.
                changed = Q(**{f"{syncable.created_field}__gt": since - OVERLAP})
            else:
                changed = Q(
                    pk__in=RecordVersion.objects.filter(
                        label=syncable.label, changed_at__gt=since - OVERLAP
                    ).values("record_id")
                )
            rows = rows.filter(changed | Q(**{f"{field}__in": newly}))
        versions = dict(
            RecordVersion.objects.filter(label=syncable.label)
            .filter(record_id__in=[row.pk for row in rows])
            .values_list("record_id", "version")
        )
        for row in rows.order_by("pk"):
            record = {
                "label": syncable.label,
                "version": versions.get(row.pk, 1),
                "row": raw_values(row, syncable.withheld),
                "values": syncable.serialize(row),
            }
            if syncable.children:
                record["children"] = {
                    child.__name__: [
                        raw_values(c, frozenset({"id", fk}))
                        for c in child._default_manager.filter(**{fk: row.pk}).order_by("pk")
                    ]
                    for child, fk in syncable.children
                }
            records.append(record)
    return records


def page(node: Node, since: dt.datetime | None, number: int) -> dict[str, Any]:
    """One page of what ``node`` pulls; page 0 carries erasures and reference data."""
    now = timezone.now()
    answer: dict[str, Any] = {"server_time": now.isoformat(), "page": number}
    if number == 0:
        erased = ErasedRecord.objects.all()
        if since is not None:
            erased = erased.filter(erased_at__gt=since - OVERLAP)
        answer["erased"] = [
            {"label": label, "record_id": str(record_id)}
            for label, record_id in erased.values_list("label", "record_id")
        ]
        answer["open_conflicts"] = SyncConflict.objects.filter(
            node=node, resolved_at__isnull=True
        ).count()
        answer["references"] = [
            {
                "label": reference.label,
                "rows": [raw_values(row, reference.withheld) for row in reference.rows(node)],
            }
            for reference in registry.references()
        ]
    records = _people_records(node, since, now)
    start = number * PAGE_RECORDS
    answer["records"] = records[start : start + PAGE_RECORDS]
    answer["complete"] = start + PAGE_RECORDS >= len(records)
    return answer
