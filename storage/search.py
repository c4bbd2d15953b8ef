"""Searching stored articles: full text plus filters, sorted by date or relevance, as a list or a stream.

A full-text search carries its topic, language and date filters into the index as facet tokens (see
storage/fts.py), so the index returns only articles that pass them; the exact filters are applied again on
the rows. Sorting by date then has two plans. When few articles match, the index leads: collect them,
sort, cut. When many match (a common word and no narrow filter), sorting them all to show 50 would be
slow, so the articles are walked newest first on the date index and each is checked against the full-text
index until the page is full. A bounded count of matches picks the plan. Sorting by relevance, the index
ranks its matches on its own and only the page's articles are read (see _ranked).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from chipwatch.errors import QueryError
from storage.articles import topics_for
from storage.fts import facet_filter, fts_query, months_between

SORTS = ("date", "relevance")
# The date an article is filed under: its publication, else when we first saw it (an index covers it).
MOMENT = "COALESCE(a.published_at, a.first_seen_at)"
RESULT_COLUMNS = (
    "a.id, a.canonical_url AS url, a.url AS fetched_url, a.title, a.source, a.publisher, a.lang, a.published_at, "
    "a.updated_at, "
    f"a.first_seen_at, {MOMENT} AS moment, a.relevant, a.relevance, a.story_id, a.is_follow_up, "
    "substr(a.text, 1, 400) AS excerpt"
)
EXPORT_COLUMNS = RESULT_COLUMNS.replace("substr(a.text, 1, 400) AS excerpt", "a.summary, a.text")
# Below this many matches the full-text index always leads (see _is_common).
MIN_COMMON_MATCHES = 500
STREAM_BATCH = 500
# Articles read at once for a page in relevance order (storage/search.py: _ranked), the first time and at most.
RANKED_BATCH = 100
MAX_RANKED_BATCH = 3200


@dataclass(frozen=True)
class SearchQuery:
    text: str | None = None  # FTS5 syntax; Chinese words match anywhere (see storage/fts.py)
    topic: str | None = None
    story: int | None = None
    source: str | None = None  # a source name, or a publisher's name
    lang: str | None = None  # "zh" matches zh-Hans and zh-Hant
    since: str | None = None  # UTC ISO date or datetime, inclusive
    until: str | None = None  # exclusive
    min_relevance: float | None = None
    relevant: bool | None = None  # True: only articles the classifier (or a label) calls relevant
    entity: str | None = None  # KIND:VALUE, e.g. chip:h200
    sort: str = "date"
    limit: int | None = 20
    # Only articles stored after `after_id` and up to `through_id` (ids grow as articles are stored): what a
    # watch matches of the articles stored since it last looked.
    after_id: int | None = None
    through_id: int | None = None
    offset: int = 0  # rows to skip (the pages of a long result)
    stored_since: str | None = None  # UTC ISO: only articles first stored at or after this (what a digest covers)
    doc_type: str | None = None  # a Federal Register type as the API writes it ("Rule", "Proposed Rule", ...)
    effective_since: str | None = None  # YYYY-MM-DD: only documents taking effect on or after this day


def search_articles(db: sqlite_utils.Database, query: str | None = None, **filters: Any) -> list[dict[str, Any]]:
    """Articles matching the query and filters, each with its topics (newest first by default)."""
    return search(db, SearchQuery(text=query, **filters))


def search(db: sqlite_utils.Database, request: SearchQuery) -> list[dict[str, Any]]:
    """The articles a SearchQuery asks for, each with its topics."""
    rows = _run(db, request, RESULT_COLUMNS)
    _attach_topics(db, rows)
    return rows


def count_matches(db: sqlite_utils.Database, request: SearchQuery) -> int:
    """How many articles match in all (the M of "N of M"), whatever the page asked for."""
    from dataclasses import replace

    sql, params = _plan(db, replace(request, limit=None, offset=0), "a.id")
    return int(_execute(db, f"SELECT count(*) FROM ({sql})", params, request.text).fetchone()[0])


def iter_articles(db: sqlite_utils.Database, request: SearchQuery) -> Iterator[dict[str, Any]]:
    """Every matching article with its full text and topics, streamed (for export): memory stays flat."""
    sql, params = _plan(db, request, EXPORT_COLUMNS)
    cursor = _execute(db, sql, params, request.text)
    names = [column[0] for column in cursor.description]
    while True:
        batch = [dict(zip(names, row, strict=True)) for row in cursor.fetchmany(STREAM_BATCH)]
        if not batch:
            return
        _attach_topics(db, batch)
        yield from batch


def _run(db: sqlite_utils.Database, request: SearchQuery, columns: str) -> list[dict[str, Any]]:
    if request.sort not in SORTS:
        raise QueryError(f"unknown sort {request.sort!r} (known: {', '.join(SORTS)})")
    if request.sort == "relevance" and request.limit and request.text and request.text.strip():
        return _ranked(db, request, columns)
    sql, params = _plan(db, request, columns)
    cursor = _execute(db, sql, params, request.text)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _ranked(db: sqlite_utils.Database, request: SearchQuery, columns: str) -> list[dict[str, Any]]:
    """A page in relevance order: the index ranks its matches on its own, they are sorted here as ORDER BY
    f.rank, a.id DESC sorts them, and their articles are read in that order, in growing batches, until the
    page is full. Joined with the articles before sorting (to apply the exact filters), every match's row
    was read to show a page of them: a fifth of the time of two common words over 60 days in a million
    articles."""
    match = _match(db, request)[0]
    ranged, range_params = _id_range(request, "rowid")
    cursor = _execute(
        db,
        f"SELECT rowid, rank FROM articles_fts{_where(['articles_fts MATCH ?', *ranged])}",
        [match, *range_params],
        request.text,
    )
    ranked = sorted(cursor.fetchall(), key=lambda hit: (hit[1], -hit[0]))
    where, params = _filters(request)
    wanted = request.offset + (request.limit or 0)
    rows: list[dict[str, Any]] = []
    start, batch = 0, RANKED_BATCH
    while start < len(ranked) and len(rows) < wanted:
        ids = [hit[0] for hit in ranked[start : start + batch]]
        among = f"a.id IN ({', '.join('?' for _ in ids)})"
        cursor = db.execute(f"SELECT {columns} FROM articles a{_where([among, *where])}", [*ids, *params])
        names = [column[0] for column in cursor.description]
        found = {article["id"]: article for article in (dict(zip(names, row, strict=True)) for row in cursor)}
        rows += [found[article_id] for article_id in ids if article_id in found]
        start += batch
        batch = min(batch * 2, MAX_RANKED_BATCH)  # the filters keep few: fewer, larger reads
    return rows[request.offset : wanted]


def _match(db: sqlite_utils.Database, request: SearchQuery) -> tuple[str | None, str | None, tuple[str, str] | None]:
    """The MATCH expression (the words, narrowed by the filters' facets), the words alone, and the stored
    time span when the request has a date filter (read once: the month facets and the plan both use it)."""
    span = _span(db) if request.text and (request.since or request.until) else None
    if not (request.text and request.text.strip()):
        return None, None, span
    _check_balanced(request.text)
    words = fts_query(request.text)
    if not words:
        raise QueryError(f"nothing to search for in {request.text!r}")
    months = months_between(request.since, request.until, *span) if span else None
    narrowing = facet_filter(topic=request.topic, lang=request.lang, months=months)
    return (f"({words}) AND {narrowing}" if narrowing else words), words, span


def _plan(db: sqlite_utils.Database, request: SearchQuery, columns: str) -> tuple[str, list[Any]]:
    if request.sort not in SORTS:
        raise QueryError(f"unknown sort {request.sort!r} (known: {', '.join(SORTS)})")
    match, words, span = _match(db, request)
    where, params = _filters(request)
    limit = " LIMIT ? OFFSET ?" if request.limit else ""
    limit_params = [request.limit, request.offset] if request.limit else []
    if match is None:
        order = "a.relevance DESC, a.id DESC" if request.sort == "relevance" else f"{MOMENT} DESC, a.id DESC"
        sql = f"SELECT {columns} FROM articles a{_where(where)} ORDER BY {order}{limit}"
        return sql, [*params, *limit_params]
    if request.sort == "relevance" or not request.limit or not _is_common(db, request, match, span):
        order = "f.rank, a.id DESC" if request.sort == "relevance" else f"{MOMENT} DESC, a.id DESC"
        # The id range asked of the index itself, so it reads only the new rows' postings.
        ranged, range_params = _id_range(request, "f.rowid")
        sql = (
            f"SELECT {columns} FROM articles_fts f JOIN articles a ON a.id = f.rowid"
            f"{_where(['articles_fts MATCH ?', *ranged, *where])} ORDER BY {order}{limit}"
        )
        return sql, [match, *range_params, *params, *limit_params]
    # A common query: newest first along the date index, cheap filters before the full-text check, which
    # looks at the words only (facets would make each check read their long lists: 40x slower).
    where.append("EXISTS (SELECT 1 FROM articles_fts f WHERE f.rowid = a.id AND articles_fts MATCH ?)")
    sql = (
        f"SELECT {columns} FROM articles a INDEXED BY articles_moment{_where(where)} "
        f"ORDER BY {MOMENT} DESC, a.id DESC{limit}"
    )
    return sql, [*params, words, *limit_params]


def _check_balanced(text: str) -> None:
    if text.count('"') % 2:
        raise QueryError(f'unbalanced quotes in search query {text!r}: close the phrase with "')
    depth = 0
    for char in text.replace('""', ""):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            break
    if depth:
        raise QueryError(f"unbalanced parentheses in search query {text!r}")


def _span(db: sqlite_utils.Database) -> tuple[str, str] | None:
    """The first and last moment stored (two index probes; min() and max() in one query would scan)."""
    ends = [
        db.execute(f"SELECT {MOMENT} FROM articles a INDEXED BY articles_moment ORDER BY {MOMENT} {way} LIMIT 1")
        for way in ("ASC", "DESC")
    ]
    first, last = (cursor.fetchone() for cursor in ends)
    if not first or not first[0]:
        return None
    return first[0], last[0]


def _is_common(db: sqlite_utils.Database, request: SearchQuery, match: str, span: tuple[str, str] | None) -> bool:
    """Whether walking the date index beats sorting the matches.

    Sorting costs about one step per match (M). Walking newest first costs about limit x W / M steps,
    W being the articles in the date window, before the page is full. The walk wins when M exceeds
    sqrt(limit x W); W is estimated from the window's share of the stored time span.
    """
    window = _window_size(db, request, span)
    threshold = max(MIN_COMMON_MATCHES, int(math.sqrt(((request.limit or 1) + request.offset) * window)))
    sql = "SELECT count(*) FROM (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? LIMIT ?)"
    count = _execute(db, sql, [match, threshold], request.text).fetchone()[0]
    return count >= threshold


def _window_size(db: sqlite_utils.Database, request: SearchQuery, span: tuple[str, str] | None) -> float:
    total = db.execute("SELECT max(id) FROM articles").fetchone()[0] or 0
    if not span:
        return float(total)
    first, last = (_seconds(value) for value in span)
    start = max(first, _seconds(request.since)) if request.since else first
    end = min(last, _seconds(request.until)) if request.until else last
    if last <= first:
        return float(total)
    return total * max(0.0, end - start) / (last - first)


def _seconds(value: str) -> float:
    text = value.replace("Z", "+00:00")
    moment = datetime.fromisoformat(text if "T" in text else text[:10])
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _filters(request: SearchQuery) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if request.since:
        where.append(f"{MOMENT} >= ?")
        params.append(request.since)
    if request.until:
        where.append(f"{MOMENT} < ?")
        params.append(request.until)
    if request.stored_since:
        where.append("a.first_seen_at >= ?")
        params.append(request.stored_since)
    if request.lang:
        where.append("(a.lang = ? OR a.lang LIKE ?)")
        params.extend([request.lang, f"{request.lang}-%"])
    if request.source:
        where.append("(a.source = ? OR a.publisher = ?)")
        params.extend([request.source, request.source])
    if request.story is not None:
        where.append("a.story_id = ?")
        params.append(request.story)
    ranged, range_params = _id_range(request, "a.id")
    where += ranged
    params += range_params
    if request.min_relevance is not None:
        where.append("a.relevance >= ?")
        params.append(request.min_relevance)
    if request.relevant is not None:
        where.append("a.relevant = ?")
        params.append(int(request.relevant))
    if request.topic:
        where.append("EXISTS (SELECT 1 FROM article_topics t WHERE t.article_id = a.id AND t.topic = ?)")
        params.append(request.topic)
    if request.entity:
        kind, _, value = request.entity.partition(":")
        where.append("EXISTS (SELECT 1 FROM entities e WHERE e.article_id = a.id AND e.kind = ? AND e.value = ?)")
        params.extend([kind, value])
    if request.doc_type or request.effective_since:
        clauses = ["d.article_id = a.id"]
        if request.doc_type:
            clauses.append("d.doc_type = ?")
            params.append(request.doc_type)
        if request.effective_since:
            clauses.append("d.effective_on >= ?")
            params.append(request.effective_since)
        where.append(f"EXISTS (SELECT 1 FROM rule_documents d WHERE {' AND '.join(clauses)})")
    return where, params


def _id_range(request: SearchQuery, column: str) -> tuple[list[str], list[Any]]:
    """The request's article-id range (after_id, through_id] on a column: the rows', or the index's."""
    clauses: list[str] = []
    params: list[Any] = []
    for operator, bound in (("> ?", request.after_id), ("<= ?", request.through_id)):
        if bound is not None:
            clauses.append(f"{column} {operator}")
            params.append(bound)
    return clauses, params


def _where(clauses: list[str]) -> str:
    return " WHERE " + " AND ".join(clauses) if clauses else ""


def _execute(db: sqlite_utils.Database, sql: str, params: list[Any], text: str | None) -> sqlite3.Cursor:
    try:
        return db.execute(sql, params)
    except sqlite3.OperationalError as error:
        message = str(error)
        if "fts5" in message or "MATCH" in message or "syntax error" in message:
            raise QueryError(f"cannot parse search query {text!r}: {message}") from None
        raise


def _attach_topics(db: sqlite_utils.Database, rows: list[dict[str, Any]]) -> None:
    topics = topics_for(db, [row["id"] for row in rows])
    for row in rows:
        row["relevant"] = bool(row["relevant"])
        row["is_follow_up"] = bool(row.get("is_follow_up"))
        row["topics"] = [{"id": t["id"], "score": t["score"]} for t in topics.get(row["id"], [])]


def rows_for_ids(db: sqlite_utils.Database, ids: list[int]) -> list[dict[str, Any]]:
    """These articles as search returns them, with topics, in id order."""
    rows: list[dict[str, Any]] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        cursor = db.execute(f"SELECT {RESULT_COLUMNS} FROM articles a WHERE a.id IN ({marks}) ORDER BY a.id", chunk)
        names = [column[0] for column in cursor.description]
        rows.extend(dict(zip(names, row, strict=True)) for row in cursor.fetchall())
    _attach_topics(db, rows)
    return rows
