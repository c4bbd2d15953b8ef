"""Migration 0001_initial."""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
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
