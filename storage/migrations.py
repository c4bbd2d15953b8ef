"""Named, ordered schema migrations. Each runs once, inside a transaction, and is recorded in `migrations`.

Add a migration by appending to MIGRATIONS; never edit one that has shipped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlite_utils


def _initial(db: sqlite_utils.Database) -> None:
    db.table("sources").create(
        {
            "name": str,
            "kind": str,
            "url": str,
            "lang": str,
            "schedule": str,
            "timezone": str,
            "enabled": int,
            "etag": str,
            "last_modified": str,
            "last_success_at": str,
            "consecutive_failures": int,
            "updated_at": str,
        },
        pk="name",
        not_null={"kind", "url"},
        defaults={"enabled": 1, "consecutive_failures": 0},
    )
    db.table("articles").create(
        {
            "id": int,
            "canonical_url": str,
            "url": str,
            "source": str,
            "title": str,
            "text": str,
            "summary": str,
            "authors": str,
            "published_at": str,
            "updated_at": str,
            "first_seen_at": str,
            "fetched_at": str,
            "lang": str,
            "content_hash": str,
            "relevant": int,
            "relevance": float,
            "model_version": str,
            "story_id": int,
            "duplicate_of": int,
        },
        pk="id",
        not_null={"canonical_url", "url", "source", "first_seen_at", "fetched_at"},
    )
    db.table("articles").create_index(["canonical_url"], unique=True)
    db.table("articles").create_index(["url"])
    db.table("articles").create_index(["published_at"])
    db.table("articles").create_index(["first_seen_at"])
    db.table("articles").create_index(["source"])
    db.table("articles").create_index(["content_hash"])
    db.table("article_topics").create(
        {"article_id": int, "topic": str, "score": float, "evidence": str},
        pk=("article_id", "topic"),
        foreign_keys=[("article_id", "articles", "id")],
    )
    db.table("article_topics").create_index(["topic", "score"])
    db.table("copies").create(
        {"id": int, "article_id": int, "source": str, "url": str, "fetched_at": str},
        pk="id",
        not_null={"article_id", "source", "url", "fetched_at"},
        foreign_keys=[("article_id", "articles", "id")],
    )
    db.table("copies").create_index(["url"], unique=True)
    db.table("copies").create_index(["article_id"])
    db.table("crawl_runs").create(
        {
            "id": int,
            "source": str,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "pages_fetched": int,
            "items_new": int,
            "items_updated": int,
            "items_unchanged": int,
            "items_dropped": int,
            "errors": int,
            "pid": int,
        },
        pk="id",
        not_null={"source", "started_at", "status"},
        defaults={
            "pages_fetched": 0,
            "items_new": 0,
            "items_updated": 0,
            "items_unchanged": 0,
            "items_dropped": 0,
            "errors": 0,
        },
    )
    db.table("crawl_runs").create_index(["source", "started_at"])
    db.table("crawl_errors").create(
        {"id": int, "run_id": int, "source": str, "url": str, "kind": str, "message": str, "at": str},
        pk="id",
        foreign_keys=[("run_id", "crawl_runs", "id")],
    )
    db.table("crawl_errors").create_index(["run_id"])
    # Full-text index. Title and text are stored pre-segmented (CJK runs as overlapping bigrams, see
    # storage/fts.py) so that two- and three-character Chinese words can be found; rowid = articles.id.
    db.execute("CREATE VIRTUAL TABLE articles_fts USING fts5(title, text, tokenize = 'porter unicode61')")


def _labels(db: sqlite_utils.Database) -> None:
    # Corrections from users: the newest label of an article wins, and training learns from all of them.
    db.table("labels").create(
        {"id": int, "article_id": int, "relevant": int, "topics": str, "created_at": str},
        pk="id",
        not_null={"article_id", "relevant", "topics", "created_at"},
        foreign_keys=[("article_id", "articles", "id")],
    )
    db.table("labels").create_index(["article_id", "id"])


def _stories(db: sqlite_utils.Database) -> None:
    db.table("articles").add_column("is_follow_up", int, not_null_default=0)
    db.table("articles").create_index(["story_id"])
    db.table("copies").add_column("title", str)
    # Near-duplicate fingerprints: a MinHash signature per article and its LSH band hashes, looked up by
    # (band, hash) so finding a copy costs the same with a thousand articles stored or a million.
    db.table("minhash_signatures").create(
        {"article_id": int, "signature": bytes}, pk="article_id", foreign_keys=[("article_id", "articles", "id")]
    )
    db.table("minhash_bands").create({"band": int, "hash": int, "article_id": int}, pk=("band", "hash", "article_id"))
    db.table("entities").create(
        {"article_id": int, "kind": str, "value": str},
        pk=("article_id", "kind", "value"),
        foreign_keys=[("article_id", "articles", "id")],
    )
    db.table("entities").create_index(["kind", "value"])
    db.table("stories").create(
        {
            "id": int,
            "title": str,
            "title_article_id": int,
            "first_seen": str,
            "last_seen": str,
            "article_count": int,
            "outlets": str,
            "languages": str,
            "topics": str,
            "updated_at": str,
        },
        pk="id",
    )
    db.table("stories").create_index(["last_seen"])
    # What story grouping compares: each article's moment, keywords and topics (entities are in entities),
    # and how central it is in its story (the sum of its links' strengths; the most central names the story).
    db.table("article_profiles").create(
        {"article_id": int, "moment": str, "keywords": str, "topics": str, "centrality": float},
        pk="article_id",
        foreign_keys=[("article_id", "articles", "id")],
        defaults={"centrality": 0.0},
    )
    db.table("article_profiles").create_index(["moment"])


def _schedule(db: sqlite_utils.Database) -> None:
    # When each scheduled job (a source's crawl, the digest) last ran: `run-due` and the daemon resume from it.
    db.table("schedule_state").create({"job": str, "last_run_at": str, "last_status": str}, pk="job")


def _digests(db: sqlite_utils.Database) -> None:
    # One row per reader per day: sent exactly once; a failed send stays here to be retried on the next run.
    db.table("digests").create(
        {
            "id": int,
            "reader": str,
            "day": str,
            "status": str,  # pending, sent, empty, failed
            "delivery": str,  # smtp or outbox
            "covers_from": str,
            "covers_to": str,
            "item_count": int,
            "story_count": int,
            "message_id": str,
            "sent_at": str,
            "attempts": int,
            "error": str,
        },
        pk="id",
        not_null={"reader", "day", "status"},
        defaults={"attempts": 0, "item_count": 0, "story_count": 0},
    )
    db.table("digests").create_index(["reader", "day"], unique=True)


def _publishers(db: sqlite_utils.Database) -> None:
    # The outlet that published an article, when the source is not the outlet (a search feed, a news sitemap).
    db.table("articles").add_column("publisher", str)
    db.table("copies").add_column("publisher", str)
    # Why a source last failed, for `chipwatch sources`.
    db.table("sources").add_column("last_failure_at", str)
    db.table("sources").add_column("last_error", str)


def _views(db: sqlite_utils.Database) -> None:
    # Searches filed by date walk this index newest first (storage/search.py).
    db.execute("CREATE INDEX articles_moment ON articles (COALESCE(published_at, first_seen_at))")
    db.execute("CREATE INDEX articles_relevance ON articles (relevance)")
    # For people who bring their own SQL tool (and for Datasette): one row per article with its topics
    # flattened, stories with their counts, sources with their health, coverage per day and language.
    db.execute(
        """CREATE VIEW articles_flat AS
        SELECT a.id, a.title, a.canonical_url AS url, a.source, COALESCE(a.publisher, a.source) AS outlet,
               a.lang, COALESCE(a.published_at, a.first_seen_at) AS moment, a.published_at, a.first_seen_at,
               a.relevant, a.relevance,
               (SELECT t.topic FROM article_topics t WHERE t.article_id = a.id ORDER BY t.score DESC LIMIT 1)
                   AS primary_topic,
               (SELECT json_group_array(topic) FROM (SELECT t.topic FROM article_topics t
                    WHERE t.article_id = a.id ORDER BY t.score DESC)) AS topics,
               a.story_id, s.title AS story_title, a.is_follow_up,
               (SELECT count(*) FROM copies c WHERE c.article_id = a.id) AS copies,
               a.summary
        FROM articles a LEFT JOIN stories s ON s.id = a.story_id"""
    )
    db.execute(
        """CREATE VIEW stories_overview AS
        SELECT s.id, s.title, s.first_seen, s.last_seen, s.article_count,
               (SELECT count(*) FROM copies c JOIN articles a ON a.id = c.article_id WHERE a.story_id = s.id)
                   AS copy_count,
               (SELECT count(*) FROM articles a WHERE a.story_id = s.id AND a.is_follow_up = 1) AS follow_ups,
               json_array_length(s.outlets) AS outlet_count, s.outlets, s.languages, s.topics
        FROM stories s"""
    )
    db.execute(
        """CREATE VIEW source_health AS
        SELECT s.name, s.kind, s.enabled, s.schedule, s.last_success_at, s.consecutive_failures,
               s.last_failure_at, s.last_error,
               (SELECT count(*) FROM crawl_runs r WHERE r.source = s.name) AS runs,
               (SELECT max(r.started_at) FROM crawl_runs r WHERE r.source = s.name) AS last_run_at,
               (SELECT max(r.started_at) FROM crawl_runs r WHERE r.source = s.name AND r.items_new > 0)
                   AS last_new_item_at,
               (SELECT round(avg(items_new), 1) FROM (SELECT r.items_new FROM crawl_runs r
                    WHERE r.source = s.name ORDER BY r.id DESC LIMIT 10)) AS items_per_run
        FROM sources s"""
    )
    db.execute(
        """CREATE VIEW coverage_by_day AS
        SELECT substr(COALESCE(published_at, first_seen_at), 1, 10) AS day, lang,
               count(*) AS articles, sum(relevant) AS relevant
        FROM articles GROUP BY day, lang"""
    )


def _fts_facets(db: sqlite_utils.Database) -> None:
    """articles_fts gains a facets column (month, language and topic tokens): rebuilt.

    Self-contained: the indexing rules below are frozen as they were when this migration shipped, so a
    later change to storage/fts.py or storage/articles.py cannot break an upgrade from 0007.
    """
    import re

    cjk_run = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]+")

    def bigrams(run: str) -> str:
        return run if len(run) == 1 else " ".join(run[i : i + 2] for i in range(len(run) - 1))

    def index_text(text: str | None) -> str:
        return cjk_run.sub(lambda match: f" {bigrams(match.group())} ", text) if text else ""

    def token(prefix: str, value: str) -> str:
        return prefix + "".join(char for char in value.lower() if char.isalnum())

    def facets(moment: str | None, lang: str | None, topics: list[str]) -> str:
        tokens = []
        if moment and len(moment) >= 7:
            tokens.append("zm" + moment[:7].replace("-", ""))
        if lang:
            tokens += [token("zl", lang.split("-")[0]), token("zl", lang)]
        tokens += [token("zt", topic) for topic in topics]
        return " ".join(dict.fromkeys(tokens))

    conn = db.conn
    conn.execute("DROP TABLE articles_fts")
    conn.execute("CREATE VIRTUAL TABLE articles_fts USING fts5(title, text, facets, tokenize = 'porter unicode61')")
    rows = conn.execute(
        "SELECT id, title, text, COALESCE(published_at, first_seen_at), lang FROM articles ORDER BY id"
    ).fetchall()
    for article_id, title, text, moment, lang in rows:
        topics = [r[0] for r in conn.execute("SELECT topic FROM article_topics WHERE article_id = ?", [article_id])]
        conn.execute(
            "INSERT INTO articles_fts (rowid, title, text, facets) VALUES (?, ?, ?, ?)",
            [article_id, index_text(title), index_text(text), facets(moment, lang, topics)],
        )


def _resume(db: sqlite_utils.Database) -> None:
    """What lets an interrupted crawl resume and a crawl lock leave no file behind: how far each source's
    pagination was read completely, which sitemaps were read, entries whose page failed (retried with
    backoff, then given up), and crawl leases (one crawl per source at a time, inside the database)."""
    conn = db.conn
    conn.execute(
        "CREATE TABLE pagination (source TEXT PRIMARY KEY, resume_url TEXT, resume_page INTEGER, "
        "caught_up INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL)"
    )
    conn.execute(
        "CREATE TABLE sitemaps_read (source TEXT NOT NULL, url TEXT NOT NULL, lastmod TEXT, read_at TEXT NOT NULL, "
        "PRIMARY KEY (source, url))"
    )
    conn.execute(
        "CREATE TABLE failed_entries (source TEXT NOT NULL, url TEXT NOT NULL, title TEXT, kind TEXT, message TEXT, "
        "attempts INTEGER NOT NULL DEFAULT 1, first_failed_at TEXT NOT NULL, last_failed_at TEXT NOT NULL, "
        "next_try_at TEXT, given_up INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (source, url))"
    )
    conn.execute(
        "CREATE TABLE crawl_leases (source TEXT PRIMARY KEY, pid INTEGER NOT NULL, process_start TEXT, "
        "since TEXT NOT NULL)"
    )
    conn.execute("ALTER TABLE sources ADD COLUMN expect_items_days REAL")


def _stated_dates(db: sqlite_utils.Database) -> None:
    """Articles keep the day their page states and how precise the date is (second, minute, day, month).
    Older rows have only the UTC moment: its day is the best they have, precision unknown."""
    conn = db.conn
    conn.execute("ALTER TABLE articles ADD COLUMN published_date TEXT")
    conn.execute("ALTER TABLE articles ADD COLUMN published_precision TEXT")
    conn.execute("UPDATE articles SET published_date = substr(published_at, 1, 10) WHERE published_at IS NOT NULL")


def _fts_one_script(db: sqlite_utils.Database) -> None:
    """The full-text index folded to one script (OpenCC tw2sp), so Simplified and Traditional spellings
    find each other: rebuilt. Self-contained, like 0008: the indexing rules as they were when it shipped."""
    import re

    import opencc

    cjk_run = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]+")
    converter = opencc.OpenCC("tw2sp")

    def bigrams(run: str) -> str:
        return run if len(run) == 1 else " ".join(run[i : i + 2] for i in range(len(run) - 1))

    def index_text(text: str | None) -> str:
        return cjk_run.sub(lambda match: f" {bigrams(converter.convert(match.group()))} ", text) if text else ""

    conn = db.conn
    rows = conn.execute("SELECT rowid, facets FROM articles_fts").fetchall()
    facets = dict(rows)
    for article_id, title, text in conn.execute("SELECT id, title, text FROM articles ORDER BY id").fetchall():
        conn.execute("DELETE FROM articles_fts WHERE rowid = ?", [article_id])
        conn.execute(
            "INSERT INTO articles_fts (rowid, title, text, facets) VALUES (?, ?, ?, ?)",
            [article_id, index_text(title), index_text(text), facets.get(article_id, "")],
        )


MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [
    ("0001_initial", _initial),
    ("0002_labels", _labels),
    ("0003_stories", _stories),
    ("0004_schedule", _schedule),
    ("0005_digests", _digests),
    ("0006_publishers", _publishers),
    ("0007_views", _views),
    ("0008_fts_facets", _fts_facets),
    ("0009_resume", _resume),
    ("0010_stated_dates", _stated_dates),
    ("0011_fts_one_script", _fts_one_script),
]


def apply_migrations(db: sqlite_utils.Database) -> list[str]:
    """Apply every migration not yet recorded, in order; returns the names applied."""
    conn = db.conn
    conn.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {row[0] for row in conn.execute("SELECT name FROM migrations")}
    applied = []
    for name, migrate in MIGRATIONS:
        if name in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have applied it while we waited for the write lock.
            if conn.execute("SELECT 1 FROM migrations WHERE name = ?", [name]).fetchone():
                conn.execute("ROLLBACK")
                continue
            migrate(db)
            conn.execute(
                "INSERT INTO migrations (name, applied_at) VALUES (?, ?)",
                [name, datetime.now(UTC).isoformat(timespec="seconds")],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied
