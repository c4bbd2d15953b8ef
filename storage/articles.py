"""The articles table, its topics, its copies and its full-text index."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlite_utils

from storage.database import transaction
from storage.entities import store_entities
from storage.fts import facets, index_text
from storage.near_duplicates import store_fingerprint
from storage.rule_documents import document_of
from storage.screening_lists import changes_of
from storage.stories import leave_story
from storage.story_summaries import refresh_summary

if TYPE_CHECKING:
    from pipeline.items import TopicScore

# Columns written from an article record; id and first_seen_at are managed here.
ARTICLE_COLUMNS = (
    "canonical_url",
    "url",
    "source",
    "title",
    "text",
    "summary",
    "authors",
    "published_at",
    "updated_at",
    "fetched_at",
    "lang",
    "content_hash",
    "relevant",
    "relevance",
    "model_version",
    "publisher",
    "published_date",
    "published_precision",
    "title_only",
    "title_key",
)


@dataclass
class StoreResult:
    article_id: int
    status: str  # "new", "updated" or "unchanged"


def is_stored(db: sqlite_utils.Database, url: str) -> bool:
    """Whether a page at this URL is already stored, as an article or as a copy of one."""
    return stored_since(db, url) is not None


def stored_since(db: sqlite_utils.Database, url: str) -> str | None:
    """When the page at this URL was first stored (as an article or a copy), or None."""
    row = db.execute(
        "SELECT first_seen_at FROM articles WHERE url = ? OR canonical_url = ? "
        "UNION ALL SELECT fetched_at FROM copies WHERE url = ? LIMIT 1",
        [url, url, url],
    ).fetchone()
    return row[0] if row else None


def stored_pages(db: sqlite_utils.Database) -> list[tuple[str, str]]:
    """(url, first stored at) of every stored page: articles at their URL and canonical URL, and copies."""
    rows = db.execute(
        "SELECT url, first_seen_at FROM articles UNION ALL "
        "SELECT canonical_url, first_seen_at FROM articles WHERE canonical_url IS NOT NULL AND canonical_url != url "
        "UNION ALL SELECT url, fetched_at FROM copies"
    ).fetchall()
    return [(row[0], row[1]) for row in rows if row[0]]


def recent_pages(db: sqlite_utils.Database, source: str, since: str) -> list[tuple[str, str | None]]:
    """(url, title) of the source's articles first stored at or after since."""
    rows = db.execute(
        "SELECT url, title FROM articles WHERE source = ? AND first_seen_at >= ? ORDER BY id", [source, since]
    ).fetchall()
    return [(row[0], row[1]) for row in rows]


def find_by_content_hash(db: sqlite_utils.Database, content_hash: str, canonical_url: str) -> int | None:
    """The id of another article with exactly this text, if any."""
    row = db.execute(
        "SELECT id FROM articles WHERE content_hash = ? AND canonical_url != ? ORDER BY id LIMIT 1",
        [content_hash, canonical_url],
    ).fetchone()
    return row[0] if row else None


def canonical_url_of(db: sqlite_utils.Database, article_id: int) -> str | None:
    row = db.execute("SELECT canonical_url FROM articles WHERE id = ?", [article_id]).fetchone()
    return row[0] if row else None


def store_article(
    db: sqlite_utils.Database,
    record: dict[str, Any],
    topics: list[TopicScore],
    first_seen_at: str,
    entities: list[str] | None = None,
    fingerprint: tuple[bytes, list[int]] | None = None,
) -> StoreResult:
    """Insert or update one article keyed on canonical_url, with its topics, entities, near-duplicate
    fingerprint and FTS row, atomically."""
    values = {column: record.get(column) for column in ARTICLE_COLUMNS}
    values["title_only"] = int(bool(values["title_only"]))
    if isinstance(values["authors"], list):
        values["authors"] = json.dumps(values["authors"], ensure_ascii=False)
    with transaction(db) as conn:
        row = conn.execute(
            "SELECT id, content_hash, title, relevance FROM articles WHERE canonical_url = ?",
            [values["canonical_url"]],
        ).fetchone()
        if row is None:
            columns = [*values, "first_seen_at"]
            cursor = conn.execute(
                f"INSERT INTO articles ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                [*values.values(), first_seen_at],
            )
            assert cursor.lastrowid is not None
            article_id, status = cursor.lastrowid, "new"
        else:
            article_id = row[0]
            changed = (row[1], row[2], row[3]) != (
                values["content_hash"],
                values["title"],
                values["relevance"],
            )
            if not changed:
                conn.execute("UPDATE articles SET fetched_at = ? WHERE id = ?", [values["fetched_at"], article_id])
                return StoreResult(article_id, "unchanged")
            assignments = ", ".join(f"{column} = ?" for column in values)
            conn.execute(f"UPDATE articles SET {assignments} WHERE id = ?", [*values.values(), article_id])
            status = "updated"
        conn.execute("DELETE FROM article_topics WHERE article_id = ?", [article_id])
        conn.executemany(
            "INSERT INTO article_topics (article_id, topic, score, evidence) VALUES (?, ?, ?, ?)",
            [(article_id, t.id, round(t.score, 4), json.dumps(t.evidence, ensure_ascii=False)) for t in topics],
        )
        reindex(conn, article_id)
        if entities is not None:
            store_entities(
                conn, article_id, [(kind, value) for kind, _, value in (key.partition(":") for key in entities)]
            )
        if fingerprint is not None:
            store_fingerprint(conn, article_id, *fingerprint)
    return StoreResult(article_id, status)


def reindex(conn: Any, article_id: int) -> None:
    """Write the article's full-text row: title and text (CJK as bigrams) and its facets."""
    row = conn.execute(
        "SELECT title, text, COALESCE(published_at, first_seen_at), lang FROM articles WHERE id = ?", [article_id]
    ).fetchone()
    conn.execute("DELETE FROM articles_fts WHERE rowid = ?", [article_id])
    if row is None:
        return
    topics = [r[0] for r in conn.execute("SELECT topic FROM article_topics WHERE article_id = ?", [article_id])]
    conn.execute(
        "INSERT INTO articles_fts (rowid, title, text, facets) VALUES (?, ?, ?, ?)",
        [article_id, index_text(row[0]), index_text(row[1]), facets(row[2], row[3], topics)],
    )


def set_classification(
    db: sqlite_utils.Database,
    article_id: int,
    relevant: bool,
    relevance: float,
    topics: list[TopicScore],
    model_version: str,
) -> bool:
    """Replace an article's relevance and topics; False when nothing changed."""
    with transaction(db) as conn:
        before = conn.execute("SELECT relevant, relevance, model_version FROM articles WHERE id = ?", [article_id])
        row = before.fetchone()
        old_topics = conn.execute(
            "SELECT topic, round(score, 4) FROM article_topics WHERE article_id = ? ORDER BY topic", [article_id]
        ).fetchall()
        new_topics = sorted((t.id, round(t.score, 4)) for t in topics)
        unchanged = row == (int(relevant), round(relevance, 4), model_version) and old_topics == new_topics
        if unchanged:
            return False
        conn.execute(
            "UPDATE articles SET relevant = ?, relevance = ?, model_version = ? WHERE id = ?",
            [int(relevant), round(relevance, 4), model_version, article_id],
        )
        conn.execute("DELETE FROM article_topics WHERE article_id = ?", [article_id])
        conn.executemany(
            "INSERT INTO article_topics (article_id, topic, score, evidence) VALUES (?, ?, ?, ?)",
            [(article_id, t.id, round(t.score, 4), json.dumps(t.evidence, ensure_ascii=False)) for t in topics],
        )
        reindex(conn, article_id)  # its topic facets changed
        # The story follows: an article no longer relevant leaves it; new topics change its summary.
        story = conn.execute("SELECT story_id FROM articles WHERE id = ?", [article_id]).fetchone()
        if story is not None and story[0] is not None:
            if relevant:
                refresh_summary(conn, story[0])
            else:
                leave_story(conn, article_id)
    return True


def articles_since(db: sqlite_utils.Database, since: str | None) -> list[dict[str, Any]]:
    """id, title, text and lang of stored articles first seen since a date (all when since is None)."""
    sql = "SELECT id, title, text, lang FROM articles"
    params: list[Any] = []
    if since:
        sql += " WHERE first_seen_at >= ?"
        params.append(since)
    return list(db.query(sql + " ORDER BY id", params))


def published_at(db: sqlite_utils.Database, article_id: int) -> str | None:
    row = db.execute("SELECT published_at FROM articles WHERE id = ?", [article_id]).fetchone()
    return row[0] if row else None


def promote_original(db: sqlite_utils.Database, article_id: int, record: dict[str, Any]) -> None:
    """An earlier-published page carries the same article as a stored one: it becomes the article (same id,
    story and topics) and the page stored so far becomes its copy. Readers then see the original."""
    # The page's own fields move over; what was decided about the article (relevance, topics) stays.
    keep = [c for c in ARTICLE_COLUMNS if c not in ("relevant", "relevance", "model_version")]
    values = {column: record.get(column) for column in keep}
    values["title_only"] = int(bool(values["title_only"]))
    if isinstance(values["authors"], list):
        values["authors"] = json.dumps(values["authors"], ensure_ascii=False)
    with transaction(db) as conn:
        old = conn.execute(
            "SELECT source, url, fetched_at, title, publisher FROM articles WHERE id = ?", [article_id]
        ).fetchone()
        assignments = ", ".join(f"{column} = ?" for column in values)
        conn.execute(f"UPDATE articles SET {assignments} WHERE id = ?", [*values.values(), article_id])
        conn.execute(
            "INSERT OR IGNORE INTO copies (article_id, source, url, fetched_at, title, publisher) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [article_id, *old],
        )
        reindex(conn, article_id)
        if values["published_at"]:
            conn.execute(
                "UPDATE article_profiles SET moment = ? WHERE article_id = ?", [values["published_at"], article_id]
            )
        story = conn.execute("SELECT story_id FROM articles WHERE id = ?", [article_id]).fetchone()
        if story and story[0]:
            refresh_summary(conn, story[0])


def add_copy(
    db: sqlite_utils.Database,
    article_id: int,
    source: str,
    url: str,
    fetched_at: str,
    title: str | None = None,
    publisher: str | None = None,
) -> bool:
    """Record that url carries the same article; False when that copy was already known."""
    with transaction(db) as conn:
        cursor = conn.execute(
            "INSERT OR IGNORE INTO copies (article_id, source, url, fetched_at, title, publisher) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [article_id, source, url, fetched_at, title, publisher],
        )
        added = cursor.rowcount == 1
        story = conn.execute("SELECT story_id FROM articles WHERE id = ?", [article_id]).fetchone()
        if added and story and story[0]:
            refresh_summary(conn, story[0])  # the copy's outlet now carries the story too
        return added


def get_article(db: sqlite_utils.Database, article_id: int) -> dict[str, Any] | None:
    """One article with its topics, or None."""
    rows = list(db.query("SELECT * FROM articles WHERE id = ?", [article_id]))
    if not rows:
        return None
    article = rows[0]
    article["authors"] = json.loads(article["authors"]) if article["authors"] else []
    article["topics"] = topics_for(db, [article_id]).get(article_id, [])
    return article


def topics_for(db: sqlite_utils.Database, article_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Topics per article id, best first."""
    result: dict[int, list[dict[str, Any]]] = {article_id: [] for article_id in article_ids}
    for start in range(0, len(article_ids), 500):
        chunk = article_ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for row in db.execute(
            f"SELECT article_id, topic, score, evidence FROM article_topics WHERE article_id IN ({marks}) "
            "ORDER BY article_id, score DESC, topic",
            chunk,
        ):
            result[row[0]].append({"id": row[1], "score": row[2], "evidence": json.loads(row[3] or "[]")})
    return result


def article_details(db: sqlite_utils.Database, article_id: int) -> dict[str, Any] | None:
    """Everything stored about one article: topics with evidence, story, copies and entities, and for a
    Federal Register document or a list change item its structured fields."""
    article = get_article(db, article_id)
    if article is None:
        return None
    article["relevant"] = bool(article["relevant"])
    article["is_follow_up"] = bool(article.get("is_follow_up"))
    article["topics"] = [
        {"id": row[0], "score": row[1], "evidence": json.loads(row[2] or "[]")}
        for row in db.execute(
            "SELECT topic, score, evidence FROM article_topics WHERE article_id = ? ORDER BY score DESC", [article_id]
        )
    ]
    story = None
    if article.get("story_id"):
        row = db.execute(
            "SELECT id, title, article_count, first_seen, last_seen FROM stories WHERE id = ?", [article["story_id"]]
        ).fetchone()
        if row:
            story = dict(zip(("id", "title", "article_count", "first_seen", "last_seen"), row, strict=True))
    article["story"] = story
    article["copies"] = [
        dict(zip(("outlet", "source", "url", "title", "fetched_at"), row, strict=True))
        for row in db.execute(
            "SELECT COALESCE(publisher, source), source, url, title, fetched_at FROM copies WHERE article_id = ? "
            "ORDER BY id",
            [article_id],
        )
    ]
    entities: dict[str, list[str]] = {}
    for kind, value in db.execute(
        "SELECT kind, value FROM entities WHERE article_id = ? ORDER BY kind, value", [article_id]
    ):
        entities.setdefault(kind, []).append(value)
    article["entities"] = entities
    article["document"] = document_of(db, article_id)
    article["list_changes"] = changes_of(db, article_id) if "screening_changes" in db.table_names() else []
    return article


def texts_for(db: sqlite_utils.Database, article_ids: list[int]) -> dict[int, str]:
    """The stored text of each article id."""
    result: dict[int, str] = {}
    for start in range(0, len(article_ids), 500):
        chunk = article_ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        result.update(db.execute(f"SELECT id, text FROM articles WHERE id IN ({marks})", chunk).fetchall())
    return result
