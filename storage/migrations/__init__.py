"""Named, ordered schema migrations, one module each (mNNNN_name.py, with one function, migrate). Each runs
once, inside a transaction, and is recorded in `migrations`.

Add a migration as a new module appended to MIGRATIONS; never edit one that has shipped. A migration calls
no code of today's (no chipwatch module): it must do what it did when it shipped, whatever changes later.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import sqlite_utils

from storage.migrations import (
    m0001_initial,
    m0002_labels,
    m0003_stories,
    m0004_schedule,
    m0005_digests,
    m0006_publishers,
    m0007_views,
    m0008_fts_facets,
    m0009_resume,
    m0010_stated_dates,
    m0011_fts_one_script,
    m0012_site_names,
    m0013_time_evidence,
    m0014_title_only,
    m0015_entries_found,
    m0016_watches,
    m0017_lists_and_rules,
    m0018_watch_counterparties,
    m0019_profile_revision,
    m0020_rank_words_only,
    m0021_story_leads,
    m0022_text_last,
    m0023_centrality_apart,
)

MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [
    ("0001_initial", m0001_initial.migrate),
    ("0002_labels", m0002_labels.migrate),
    ("0003_stories", m0003_stories.migrate),
    ("0004_schedule", m0004_schedule.migrate),
    ("0005_digests", m0005_digests.migrate),
    ("0006_publishers", m0006_publishers.migrate),
    ("0007_views", m0007_views.migrate),
    ("0008_fts_facets", m0008_fts_facets.migrate),
    ("0009_resume", m0009_resume.migrate),
    ("0010_stated_dates", m0010_stated_dates.migrate),
    ("0011_fts_one_script", m0011_fts_one_script.migrate),
    ("0012_site_names", m0012_site_names.migrate),
    ("0013_time_evidence", m0013_time_evidence.migrate),
    ("0014_title_only", m0014_title_only.migrate),
    ("0015_entries_found", m0015_entries_found.migrate),
    ("0016_watches", m0016_watches.migrate),
    ("0017_lists_and_rules", m0017_lists_and_rules.migrate),
    ("0018_watch_counterparties", m0018_watch_counterparties.migrate),
    ("0019_profile_revision", m0019_profile_revision.migrate),
    ("0020_rank_words_only", m0020_rank_words_only.migrate),
    ("0021_story_leads", m0021_story_leads.migrate),
    ("0022_text_last", m0022_text_last.migrate),
    ("0023_centrality_apart", m0023_centrality_apart.migrate),
]
# Migrations that rebuild a table others refer to: they run with foreign keys off (SQLite cannot turn them
# off inside a transaction, and dropping the old table would otherwise delete or refuse its children), and
# must leave no reference broken that was not broken before.
WITHOUT_FOREIGN_KEYS = frozenset({"0022_text_last"})


def apply_migrations(db: sqlite_utils.Database) -> list[str]:
    """Apply every migration not yet recorded, in order; returns the names applied."""
    conn = db.conn
    conn.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {row[0] for row in conn.execute("SELECT name FROM migrations")}
    applied = []
    for name, migrate in MIGRATIONS:
        if name in done:
            continue
        with _foreign_keys_off(conn, name in WITHOUT_FOREIGN_KEYS):
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have applied it while we waited for the write lock.
                if conn.execute("SELECT 1 FROM migrations WHERE name = ?", [name]).fetchone():
                    conn.execute("ROLLBACK")
                    continue
                broken_before = _broken_references(conn) if name in WITHOUT_FOREIGN_KEYS else set()
                migrate(db)
                if name in WITHOUT_FOREIGN_KEYS and (broken := _broken_references(conn) - broken_before):
                    # open_database reports it as the database that cannot be opened, in one line.
                    raise sqlite3.IntegrityError(f"migration {name} would break {len(broken)} references between rows")
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


@contextlib.contextmanager
def _foreign_keys_off(conn: sqlite3.Connection, off: bool) -> Iterator[None]:
    """Foreign keys off for the block when `off`, and back as they were after it."""
    was = conn.execute("PRAGMA foreign_keys").fetchone()[0]
    if off and was:
        conn.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        if off and was:
            conn.execute("PRAGMA foreign_keys = ON")


def _broken_references(conn: sqlite3.Connection) -> set[tuple[object, ...]]:
    return {tuple(row) for row in conn.execute("PRAGMA foreign_key_check")}
