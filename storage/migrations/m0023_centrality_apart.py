"""Migration 0023_centrality_apart: an article's centrality moves from article_profiles to a table of its own,
article_centrality, which holds a row only for an article with links.

Every article that joins a story adds to the centrality of each article it links to, often a hundred of
them. In article_profiles each of those sat in a row of a kilobyte or more (the keywords), mostly one to a
page, so one new article rewrote a hundred pages and wrote each to the journal (0.3-0.4 ms of the commit
with 1,000 articles stored, most of grouping's time in storage). Their own rows are a few bytes, hundreds
to a page.
"""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    conn = db.conn
    conn.execute(
        "CREATE TABLE IF NOT EXISTS article_centrality (article_id INTEGER PRIMARY KEY REFERENCES articles(id), "
        "centrality REAL NOT NULL DEFAULT 0)"
    )
    columns = [row[1] for row in conn.execute("PRAGMA table_info(article_profiles)")]
    if "centrality" not in columns:
        return
    conn.execute(
        "INSERT INTO article_centrality (article_id, centrality) SELECT article_id, centrality FROM article_profiles "
        "WHERE centrality IS NOT NULL AND centrality != 0 AND article_id IN (SELECT id FROM articles)"
    )
    conn.execute("ALTER TABLE article_profiles DROP COLUMN centrality")
