"""Opening the SQLite database: WAL mode, a busy timeout, and migrations applied on open."""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from chipwatch.errors import StorageError
from storage.migrations import MIGRATIONS, apply_migrations

BUSY_TIMEOUT_SECONDS = 30.0


def open_database(path: Path | str, *, migrate: bool = True, readonly: bool = False) -> sqlite_utils.Database:
    """Open (creating if needed) the database at path, in WAL mode, with the schema up to date."""
    path = Path(path)
    try:
        if readonly:
            if path.is_dir():
                raise StorageError(f"{path}: is a directory, not a database file")
            if not path.exists():
                raise StorageError(f"{path}: no database here yet (run `chipwatch crawl` or `make demo` first)")
            conn = _open_readonly(path)
        else:
            if path.is_dir():
                raise StorageError(f"{path}: is a directory, not a database file")
            if path.exists() and not writable(path):
                raise StorageError(f"{path}: this command writes to the database, which is read-only here")
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


def writable(path: Path) -> bool:
    """Whether this process may write the database (and the journal files beside it)."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _open_readonly(path: Path) -> sqlite3.Connection:
    """A connection that never writes. A database on a read-only mount (or a copied snapshot without its
    -wal and -shm files, in a directory we cannot write) cannot take SQLite's shared-memory lock: it is read
    as immutable, which is right for a file nobody can be writing."""
    quoted = urllib.parse.quote(str(path))
    conn = sqlite3.connect(f"file:{quoted}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    try:
        done = _applied(conn)
    except sqlite3.OperationalError:
        conn.close()
        conn = sqlite3.connect(f"file:{quoted}?immutable=1", uri=True, isolation_level=None)
        done = _applied(conn)
    missing = {name for name, _ in MIGRATIONS} - done
    if missing:
        # Written by an older chipwatch: it gets the newer tables before anyone reads it, if it can.
        conn.close()
        if not writable(path):
            raise StorageError(
                f"{path}: written by an older chipwatch and read-only here; open it once with write access "
                "(any command that writes, such as `chipwatch crawl`) to upgrade it"
            )
        open_database(path).close()
        conn = sqlite3.connect(f"file:{quoted}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    return conn


def _applied(conn: sqlite3.Connection) -> set[str]:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "migrations" not in tables:
        return set()
    return {row[0] for row in conn.execute("SELECT name FROM migrations")}


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
