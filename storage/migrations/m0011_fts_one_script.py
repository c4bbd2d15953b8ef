"""Migration 0011_fts_one_script: The full-text index folded to one script (OpenCC tw2sp), so Simplified and
Traditional spellings find each other: rebuilt. Self-contained, like 0008: the indexing rules as they were when it
shipped.
"""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
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
