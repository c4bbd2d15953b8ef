"""Migration 0020_rank_words_only: relevance (the full-text table's rank, bm25) counts the query's words in
the title and the text only. The facets column holds the month, language and topic tokens that a search's
filters add to its MATCH; weighted like words, they raised an article's score for being in a quieter month
or a rarer topic, which says nothing about how well it answers the query."""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    # Columns in order: title, text, facets.
    db.conn.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('rank', 'bm25(1.0, 1.0, 0.0)')")
