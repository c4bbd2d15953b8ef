"""Searching stored articles: full text plus filters, newest first."""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlite_utils

from chipwatch.errors import QueryError
from storage.articles import topics_for
from storage.fts import fts_query

RESULT_COLUMNS = (
    "a.id, a.canonical_url AS url, a.url AS fetched_url, a.title, a.source, a.publisher, a.lang, a.published_at, "
    "a.first_seen_at, "
    "a.relevant, a.relevance, substr(a.text, 1, 400) AS excerpt"
)


def search_articles(
    db: sqlite_utils.Database,
    query: str | None = None,
    *,
    topic: str | None = None,
    since: str | None = None,
    lang: str | None = None,
    entity: str | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """Articles matching the query and filters, newest first, each with its topics.

    since is an ISO date or datetime compared with published_at (first_seen_at when that is unknown).
    lang "zh" matches both zh-Hans and zh-Hant.
    """
    where: list[str] = []
    params: list[Any] = []
    joins = ""
    if query and query.strip():
        match = fts_query(query)
        if not match:
            raise QueryError(f"nothing to search for in {query!r}")
        joins = "JOIN articles_fts ON articles_fts.rowid = a.id"
        where.append("articles_fts MATCH ?")
        params.append(match)
    if topic:
        where.append("a.id IN (SELECT article_id FROM article_topics WHERE topic = ?)")
        params.append(topic)
    if since:
        where.append("COALESCE(a.published_at, a.first_seen_at) >= ?")
        params.append(since)
    if entity:
        kind, _, value = entity.partition(":")
        where.append("a.id IN (SELECT article_id FROM entities WHERE kind = ? AND value = ?)")
        params.extend([kind, value])
    if lang:
        where.append("(a.lang = ? OR a.lang LIKE ?)")
        params.extend([lang, f"{lang}-%"])
    sql = f"SELECT {RESULT_COLUMNS} FROM articles a {joins}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY COALESCE(a.published_at, a.first_seen_at) DESC, a.id DESC LIMIT ?"
    params.append(limit)
    try:
        rows = list(db.query(sql, params))
    except sqlite3.OperationalError as error:
        if "fts5" in str(error) or "MATCH" in str(error):
            raise QueryError(f"cannot parse search query {query!r}: {error}") from None
        raise
    topics = topics_for(db, [row["id"] for row in rows])
    for row in rows:
        row["relevant"] = bool(row["relevant"])
        row["topics"] = [{"id": t["id"], "score": t["score"]} for t in topics[row["id"]]]
    return rows
