"""Re-encrypting stored values under the current field key, so old keys can be retired."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Model, QuerySet

from routecare.core.crypto import EncryptedJSONField, key_id_of, keyring

BATCH = 500


@dataclass(frozen=True)
class ColumnReport:
    column: str
    by_key: dict[str, int]
    rewritten: int


def encrypted_columns() -> list[tuple[type[Model], EncryptedJSONField]]:
    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, EncryptedJSONField)
    ]


def rotate(apply: bool) -> list[ColumnReport]:
    """Count values per key id in every encrypted column; with ``apply``, rewrite old ones."""
    current = keyring().current_id
    reports = []
    for model, field in encrypted_columns():
        pk_field = model._meta.pk
        if pk_field is None:
            continue
        table, column, pk = model._meta.db_table, str(field.column), str(pk_field.column)
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote(pk)}, {quote(column)} FROM {quote(table)} "  # noqa: S608 - names come from model metadata
                f"WHERE {quote(column)} IS NOT NULL"
            )
            rows = cursor.fetchall()
        by_key = Counter(key_id_of(raw) for _pk, raw in rows)
        # Rows rewritten under a lock, so an edit made meanwhile is not overwritten.
        stale = [row_pk for row_pk, raw in rows if key_id_of(raw) != current]
        rewritten = 0
        if apply:
            for start in range(0, len(stale), BATCH):
                with transaction.atomic():
                    # Plain querysets: re-encrypting changes no content, so it is allowed
                    # even for immutable records (encounters) whose managers refuse updates.
                    rows_of: QuerySet[Model] = QuerySet(model=model)
                    batch = stale[start : start + BATCH]
                    for instance in rows_of.select_for_update().filter(pk__in=batch):
                        value = getattr(instance, field.attname)
                        rows_of.filter(pk=instance.pk).update(**{field.attname: value})
                        rewritten += 1
        reports.append(ColumnReport(f"{table}.{column}", dict(by_key), rewritten))
    return reports
