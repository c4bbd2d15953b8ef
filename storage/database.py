"""Opening the SQLite database: WAL mode, a busy timeout, and migrations applied on open."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from chipwatch.errors import StorageError
from storage.migrations import apply_migrations

BUSY_TIMEOUT_SECONDS = 30.0


def open_database(path: Path | str, *, migrate: bool = True, readonly: bool = False) -> sqlite_utils.Database:
    """Open (creating if needed) the database at path, in WAL mode, with the schema up to date."""
    path = Path(path)
    try:
        if readonly:
            if not path.exists():
                raise StorageError(f"{path}: no database here yet (run `chipwatch crawl` or `make demo` first)")
            _upgrade_if_needed(path)
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: transactions are opened explicitly by transaction(), never implicitly.
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        db = sqlite_utils.Database(conn)
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            if migrate:
                apply_migrations(db)
        return db
    except sqlite3.DatabaseError as error:
        raise StorageError(f"{path}: cannot open database: {error}") from None
    except OSError as error:
        raise StorageError(f"{path}: cannot create database: {error.strerror or error}") from None


def _upgrade_if_needed(path: Path) -> None:
    """A database written by an older chipwatch gets the newer tables before anyone reads it."""
    from storage.migrations import MIGRATIONS

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        done = {row[0] for row in conn.execute("SELECT name FROM migrations")}
    except sqlite3.OperationalError:
        done = set()
    finally:
        conn.close()
    if {name for name, _ in MIGRATIONS} - done:
        open_database(path).close()


@contextmanager
def opened(path: Path | str, *, readonly: bool = False) -> Iterator[sqlite_utils.Database]:
    """The database at path for the length of a with block, closed after whatever happens."""
    db = open_database(path, readonly=readonly)
    try:
        yield db
    finally:
        db.close()


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite3.Connection]:
    """One write transaction: BEGIN IMMEDIATE takes the write lock up front, so it never deadlocks midway."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")
