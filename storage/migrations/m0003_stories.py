"""Migration 0003_stories."""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
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
