"""Migration 0008_fts_facets: articles_fts gains a facets column (month, language and topic tokens): rebuilt."""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
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
