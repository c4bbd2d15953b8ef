"""The site_names table: how many stored pages of a site end their headline with the same segment.

A segment shared by enough of a site's pages is the site's name, not part of any headline: from then on it
is taken off that site's titles, and off the ones stored before it was learned.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from storage.articles import reindex
from storage.database import transaction

# Pages of one site that must share the segment before it counts as the site's name.
LEARNED_AFTER = 3


def learned_site_names(db: sqlite_utils.Database, host: str) -> set[str]:
    """The names learned for a site (host without www.)."""
    rows = db.conn.execute("SELECT name FROM site_names WHERE host = ? AND learned_at IS NOT NULL", [host])
    return {row[0] for row in rows}


def all_learned_site_names(db: sqlite_utils.Database) -> dict[str, set[str]]:
    """Every site's learned names (what a cluster's workers are told)."""
    found: dict[str, set[str]] = {}
    for host, name in db.conn.execute("SELECT host, name FROM site_names WHERE learned_at IS NOT NULL"):
        found.setdefault(host, set()).add(name)
    return found


def note_site_name(db: sqlite_utils.Database, host: str, name: str, suffix: str, article_id: int, moment: str) -> bool:
    """Count one more stored page of host whose headline ends with name (article_id, just stored). True
    when name is the site's name: learned just now (suffix, the separator and name as written, comes off
    every title of the site stored so far) or before (another crawl process learned it while this page was
    on its way: it comes off this article's title)."""
    with transaction(db) as conn:
        conn.execute(
            "INSERT INTO site_names (host, name, pages) VALUES (?, ?, 1) "
            "ON CONFLICT (host, name) DO UPDATE SET pages = pages + 1",
            [host, name],
        )
        pages, learned_at = conn.execute(
            "SELECT pages, learned_at FROM site_names WHERE host = ? AND name = ?", [host, name]
        ).fetchone()
        if learned_at is None and pages < LEARNED_AFTER:
            return False
        if learned_at is None:
            conn.execute("UPDATE site_names SET learned_at = ? WHERE host = ? AND name = ?", [moment, host, name])
        _strip_titles(conn, host, suffix, article_id, only_it=learned_at is not None)
    return True


def _strip_titles(conn: Any, host: str, suffix: str, article_id: int, *, only_it: bool = False) -> None:
    """Titles of the site's articles, their stories and the site's copies of other articles that end with
    suffix lose it."""
    patterns = [f"{scheme}://{www}{host}/%" for scheme in ("http", "https") for www in ("", "www.")]
    rows = conn.execute(
        "SELECT id, title FROM articles WHERE (" + " OR ".join("canonical_url LIKE ?" for _ in patterns) + ") "
        "AND substr(title, -?) = ? AND id " + ("= ?" if only_it else "<= ?"),
        [*patterns, len(suffix), suffix, article_id],
    ).fetchall()
    for found_id, title in rows:
        stripped = title[: -len(suffix)].rstrip()
        if not stripped:
            continue
        conn.execute("UPDATE articles SET title = ? WHERE id = ?", [stripped, found_id])
        conn.execute("UPDATE stories SET title = ? WHERE title_article_id = ?", [stripped, found_id])
        reindex(conn, found_id)
    if only_it:
        return
    copies = conn.execute(
        "SELECT id, title FROM copies WHERE (" + " OR ".join("url LIKE ?" for _ in patterns) + ") "
        "AND substr(title, -?) = ?",
        [*patterns, len(suffix), suffix],
    ).fetchall()
    for copy_id, title in copies:
        if title[: -len(suffix)].strip():
            conn.execute("UPDATE copies SET title = ? WHERE id = ?", [title[: -len(suffix)].rstrip(), copy_id])
