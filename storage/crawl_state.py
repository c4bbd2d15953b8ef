"""What a source's crawl leaves for the next one: how far pagination was read completely, which sitemaps
were read, the entries whose page failed (retried with backoff, then given up), and the crawl leases that
keep two crawls of one source apart."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlite_utils

from storage.database import transaction


@dataclass(frozen=True)
class Pagination:
    resume_url: str | None  # the first page not yet read completely (None: read to the end, or never)
    resume_page: int | None
    caught_up: bool  # a complete read reached the end (or the backfill limit) once


def get_pagination(db: sqlite_utils.Database, source: str) -> Pagination:
    row = db.execute("SELECT resume_url, resume_page, caught_up FROM pagination WHERE source = ?", [source]).fetchone()
    return Pagination(row[0], row[1], bool(row[2])) if row else Pagination(None, None, False)


def save_pagination(db: sqlite_utils.Database, source: str, state: Pagination, now: str) -> None:
    with transaction(db) as conn:
        conn.execute(
            "INSERT INTO pagination (source, resume_url, resume_page, caught_up, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(source) DO UPDATE SET resume_url = excluded.resume_url, resume_page = excluded.resume_page, "
            "caught_up = excluded.caught_up, updated_at = excluded.updated_at",
            [source, state.resume_url, state.resume_page, int(state.caught_up), now],
        )


def sitemaps_read(db: sqlite_utils.Database, source: str) -> dict[str, str | None]:
    """The child sitemaps of a source read completely, with the lastmod they had then."""
    return dict(db.execute("SELECT url, lastmod FROM sitemaps_read WHERE source = ?", [source]).fetchall())


def mark_sitemaps_read(
    db: sqlite_utils.Database, source: str, read: Iterable[tuple[str, str | None]], now: str
) -> None:
    with transaction(db) as conn:
        conn.executemany(
            "INSERT INTO sitemaps_read (source, url, lastmod, read_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(source, url) DO UPDATE SET lastmod = excluded.lastmod, read_at = excluded.read_at",
            [(source, url, lastmod, now) for url, lastmod in read],
        )


# -- entries whose page failed ---------------------------------------------------------------------------------


def record_failed_entry(
    db: sqlite_utils.Database,
    source: str,
    url: str,
    title: str | None,
    kind: str,
    message: str,
    now: datetime,
    backoff: timedelta,
    attempts_allowed: int,
) -> None:
    """Remember an entry whose page failed: retried after backoff (doubling with each attempt), then given up."""
    stamp = _iso(now)
    with transaction(db) as conn:
        row = conn.execute("SELECT attempts FROM failed_entries WHERE source = ? AND url = ?", [source, url]).fetchone()
        attempts = (row[0] + 1) if row else 1
        given_up = attempts >= attempts_allowed
        # The next run tries again at once (a passing blip); after that the waits double from `backoff`.
        next_try = None if given_up else _iso(now + backoff * (2 ** (attempts - 2)) if attempts > 1 else now)
        conn.execute(
            "INSERT INTO failed_entries (source, url, title, kind, message, attempts, first_failed_at, "
            "last_failed_at, next_try_at, given_up) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(source, url) DO UPDATE SET title = COALESCE(excluded.title, title), kind = excluded.kind, "
            "message = excluded.message, attempts = excluded.attempts, last_failed_at = excluded.last_failed_at, "
            "next_try_at = excluded.next_try_at, given_up = excluded.given_up",
            [source, url, title, kind, message, attempts, stamp, stamp, next_try, int(given_up)],
        )


def record_blocked(
    db: sqlite_utils.Database, source: str, entries: Iterable[tuple[str, str | None]], now: datetime, recheck: timedelta
) -> None:
    """Entries the site's robots.txt asks us not to fetch: not requested again until `recheck` has passed
    (the site may change its mind). Policy, not failure: never counted as given up."""
    stamp, later = _iso(now), _iso(now + recheck)
    with transaction(db) as conn:
        conn.executemany(
            "INSERT INTO failed_entries (source, url, title, kind, message, attempts, first_failed_at, "
            "last_failed_at, next_try_at, given_up) VALUES (?, ?, ?, 'robots', 'disallowed by robots.txt', 1, ?, ?, "
            "?, 2) ON CONFLICT(source, url) DO UPDATE SET last_failed_at = excluded.last_failed_at, "
            "next_try_at = excluded.next_try_at, given_up = 2",
            [(source, url, title, stamp, stamp, later) for url, title in entries],
        )


def entries_to_retry(db: sqlite_utils.Database, source: str, now: str) -> list[tuple[str, str | None]]:
    """(url, title) of the source's failed entries due for another try."""
    rows = db.execute(
        "SELECT url, title FROM failed_entries WHERE source = ? AND given_up != 1 AND next_try_at <= ? ORDER BY url",
        [source, now],
    ).fetchall()
    return [(row[0], row[1]) for row in rows]


def entries_waiting(db: sqlite_utils.Database, source: str, now: str) -> set[str]:
    """URLs of the source's failed entries not to fetch now: waiting out their backoff, or given up."""
    rows = db.execute(
        "SELECT url FROM failed_entries WHERE source = ? AND (given_up = 1 OR next_try_at > ?)", [source, now]
    ).fetchall()
    return {row[0] for row in rows}


def failed_entry_urls(db: sqlite_utils.Database, source: str) -> set[str]:
    """Every URL the source has in failed_entries (waiting, given up or blocked)."""
    return {row[0] for row in db.execute("SELECT url FROM failed_entries WHERE source = ?", [source])}


def clear_failed_entries(db: sqlite_utils.Database, source: str, urls: Iterable[str]) -> None:
    """The entries' pages were stored after all."""
    with transaction(db) as conn:
        conn.executemany("DELETE FROM failed_entries WHERE source = ? AND url = ?", [(source, url) for url in urls])


def failed_entry_counts(db: sqlite_utils.Database) -> dict[str, tuple[int, int]]:
    """Per source: (entries waiting for another try, entries given up)."""
    rows = db.execute(
        "SELECT source, sum(given_up = 0), sum(given_up = 1) FROM failed_entries WHERE given_up < 2 GROUP BY source"
    ).fetchall()
    return {row[0]: (row[1] or 0, row[2] or 0) for row in rows}


def given_up_entries(db: sqlite_utils.Database, source: str) -> list[dict[str, object]]:
    return [
        dict(row)
        for row in db.query(
            "SELECT url, title, kind, message, attempts, last_failed_at FROM failed_entries "
            "WHERE source = ? AND given_up = 1 ORDER BY last_failed_at DESC",
            [source],
        )
    ]


# -- crawl leases ------------------------------------------------------------------------------------------------


def take_lease(
    db: sqlite_utils.Database,
    source: str,
    pid: int,
    process_start: str | None,
    now: str,
    alive: Callable[[int, str | None], bool],
) -> tuple[int, str] | None:
    """Take the source's crawl lease for this process; (pid, since) of a live process that holds it instead.
    A lease whose process is gone (a killed crawl) is taken over."""
    with transaction(db) as conn:
        row = conn.execute("SELECT pid, process_start, since FROM crawl_leases WHERE source = ?", [source]).fetchone()
        if row is not None and row[0] != pid and alive(row[0], row[1]):
            return row[0], row[2]
        conn.execute(
            "INSERT INTO crawl_leases (source, pid, process_start, since) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(source) DO UPDATE SET pid = excluded.pid, process_start = excluded.process_start, "
            "since = excluded.since",
            [source, pid, process_start, now],
        )
    return None


def release_lease(db: sqlite_utils.Database, source: str, pid: int) -> None:
    with transaction(db) as conn:
        conn.execute("DELETE FROM crawl_leases WHERE source = ? AND pid = ?", [source, pid])


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
