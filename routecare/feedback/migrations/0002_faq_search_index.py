"""The FAQ's full-text index: an FTS5 table on SQLite, a GIN index on PostgreSQL (see
``feedback/search.py``)."""

from typing import Any

from django.db import migrations

SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS feedback_faqtext_fts "
    "USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')"
)
POSTGRES_CREATE = (
    "CREATE INDEX IF NOT EXISTS feedback_faqtext_search "
    "ON feedback_faqtext USING gin (to_tsvector('simple', search_text))"
)


def create(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_CREATE)


def drop(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS feedback_faqtext_fts")
    elif vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS feedback_faqtext_search")


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
