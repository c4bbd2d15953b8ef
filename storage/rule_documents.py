"""rule_documents: a Federal Register document's structured fields beside its article (number, type, RIN,
CFR parts, citation, publication and effective dates, comment deadline)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import sqlite_utils

from storage.database import transaction

DOCUMENT_COLUMNS = (
    "document_number", "doc_type", "rin", "cfr_parts", "citation", "publication_date", "effective_on",
    "comments_close_on", "agencies",
)  # fmt: skip
# `search --doc-type` words for the Federal Register's types.
DOC_TYPES = {
    "rule": "Rule",
    "proposed-rule": "Proposed Rule",
    "notice": "Notice",
    "presidential": "Presidential Document",
}


def store_document(db: sqlite_utils.Database, article_id: int, document: Mapping[str, Any]) -> None:
    """Insert or replace the article's document fields (its own small transaction)."""
    if not document.get("document_number"):
        return
    values = [
        article_id,
        *(
            json.dumps(document.get(name) or [], ensure_ascii=False)
            if name in ("cfr_parts", "agencies")
            else document.get(name)
            for name in DOCUMENT_COLUMNS
        ),
    ]
    with transaction(db) as conn:
        conn.execute(
            f"INSERT OR REPLACE INTO rule_documents (article_id, {', '.join(DOCUMENT_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in values)})",
            values,
        )


def document_of(db: sqlite_utils.Database, article_id: int) -> dict[str, Any] | None:
    if "rule_documents" not in db.table_names():
        return None
    row = db.execute(
        f"SELECT {', '.join(DOCUMENT_COLUMNS)} FROM rule_documents WHERE article_id = ?", [article_id]
    ).fetchone()
    if row is None:
        return None
    document = dict(zip(DOCUMENT_COLUMNS, row, strict=True))
    document["cfr_parts"] = json.loads(document["cfr_parts"])
    document["agencies"] = json.loads(document["agencies"])
    return document


def documents_dated(
    db: sqlite_utils.Database, column: str, start: str, end: str, *, relevant_only: bool = True
) -> list[dict[str, Any]]:
    """Documents whose effective date (column effective_on) or comment deadline (comments_close_on) falls in
    [start, end], soonest first, with their article's id, title and URL."""
    if column not in ("effective_on", "comments_close_on"):
        raise ValueError(column)
    if "rule_documents" not in db.table_names():
        return []
    sql = (
        f"SELECT a.id, a.title, a.url, {', '.join('d.' + c for c in DOCUMENT_COLUMNS)} FROM rule_documents d "
        f"JOIN articles a ON a.id = d.article_id WHERE d.{column} BETWEEN ? AND ?"
        + (" AND a.relevant = 1" if relevant_only else "")
        + f" ORDER BY d.{column}, a.id"
    )
    rows = []
    for values in db.execute(sql, [start, end]):
        row = dict(zip(("article_id", "title", "url", *DOCUMENT_COLUMNS), values, strict=True))
        row["cfr_parts"] = json.loads(row["cfr_parts"])
        row["agencies"] = json.loads(row["agencies"])
        rows.append(row)
    return rows
