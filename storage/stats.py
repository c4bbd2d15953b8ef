"""Counts for summaries: what the database holds, by source, topic and language."""

from __future__ import annotations

from typing import Any

import sqlite_utils


def database_summary(db: sqlite_utils.Database) -> dict[str, Any]:
    """Article counts in total, by source, by topic (relevant articles) and by language."""

    def pairs(sql: str) -> list[tuple[str, int]]:
        return [(row[0] or "unknown", row[1]) for row in db.execute(sql)]

    return {
        "articles": db.execute("SELECT count(*) FROM articles").fetchone()[0],
        "relevant": db.execute("SELECT count(*) FROM articles WHERE relevant = 1").fetchone()[0],
        "copies": db.execute("SELECT count(*) FROM copies").fetchone()[0],
        "stories": db.execute("SELECT count(*) FROM stories").fetchone()[0],
        "by_source": pairs("SELECT source, count(*) FROM articles GROUP BY source ORDER BY 2 DESC, 1"),
        "by_topic": pairs(
            "SELECT t.topic, count(*) FROM article_topics t JOIN articles a ON a.id = t.article_id "
            "WHERE a.relevant = 1 GROUP BY t.topic ORDER BY 2 DESC, 1"
        ),
        "by_lang": pairs("SELECT lang, count(*) FROM articles GROUP BY lang ORDER BY 2 DESC, 1"),
    }
