"""Full-text search of FAQ texts on both databases.

Texts are folded once when saved (lower case, accents removed: a volunteer typing
"medicacion" finds "medicación") into ``FaqText.search_text``. Each word of the query matches
as a prefix ("medicament" finds "medicamentos"), all words first, any word if none match all.
PostgreSQL matches with ``to_tsvector('simple', …) @@ to_tsquery`` over a GIN index; SQLite
with an FTS5 table kept beside ``FaqText`` (``feedback_faqtext_fts``). The query is reduced
to words before it reaches either, so no search syntax can be injected.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.db import connection

FTS_TABLE = "feedback_faqtext_fts"
WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 8


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(query: str) -> list[str]:
    return WORD.findall(fold(query))[:MAX_WORDS]


def index(text_id: int, search_text: str) -> None:
    """Keep the SQLite FTS table in step with one text (PostgreSQL indexes the column)."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [text_id])  # noqa: S608
        cursor.execute(
            f"INSERT INTO {FTS_TABLE} (rowid, body) VALUES (%s, %s)",  # noqa: S608
            [text_id, search_text],
        )


def unindex(text_ids: list[int]) -> None:
    if connection.vendor != "sqlite" or not text_ids:
        return
    marks = ", ".join(["%s"] * len(text_ids))
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid IN ({marks})", text_ids)  # noqa: S608


def matching_text_ids(query: str, candidates: list[int], limit: int = 20) -> list[int]:
    """Ids among ``candidates`` whose text matches, best first."""
    terms = words(query)
    if not terms or not candidates:
        return []
    for joiner in (" AND ", " OR "):
        found = _match(terms, joiner, candidates, limit)
        if found or len(terms) == 1:
            return found
    return []


def _match(terms: list[str], joiner: str, candidates: list[int], limit: int) -> list[int]:
    marks = ", ".join(["%s"] * len(candidates))
    if connection.vendor == "postgresql":
        tsquery = (" & " if joiner == " AND " else " | ").join(f"{term}:*" for term in terms)
        sql = (
            "SELECT id FROM feedback_faqtext "  # noqa: S608
            f"WHERE id IN ({marks}) AND to_tsvector('simple', search_text) "
            "@@ to_tsquery('simple', %s) "
            "ORDER BY ts_rank(to_tsvector('simple', search_text), to_tsquery('simple', %s)) "
            "DESC, id LIMIT %s"
        )
        params: list[Any] = [*candidates, tsquery, tsquery, limit]
    else:
        match = joiner.join(f'"{term}"*' for term in terms)
        sql = (
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s "  # noqa: S608
            f"AND rowid IN ({marks}) ORDER BY bm25({FTS_TABLE}), rowid LIMIT %s"
        )
        params = [match, *candidates, limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [int(row[0]) for row in cursor.fetchall()]
