"""One daemon per database, one crawl per source at a time.

The daemon's lock is one file beside the database (`DB.daemon.lock`, holding its PID, written when it started), locked
with flock: the kernel drops the lock when the process dies, however it dies, and the file is removed when
the daemon stops. A crawl's lock is a lease row inside the database (crawl_leases): no file is left behind,
and a lease whose process is gone, or is another process that reused its PID, is taken over.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from chipwatch.errors import ChipwatchError
from pipeline.dates import utc_now_iso
from storage import opened
from storage.crawl_state import release_lease, take_lease


class LockHeld(ChipwatchError):
    """Another process holds the lock."""


def process_start(pid: int) -> str | None:
    """When the process started, in clock ticks since boot (/proc): tells a PID's reuse from its owner."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def process_alive(pid: int, started: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return started is None or process_start(pid) in (None, started)


class SourceLock:
    """Held while a source is crawled, so two crawls of one source never run at once."""

    def __init__(self, db_path: Path, source: str) -> None:
        self.db_path = db_path
        self.source = source
        self.pid = os.getpid()
        self.held = False

    def acquire(self) -> None:
        with opened(self.db_path) as db:
            holder = take_lease(db, self.source, self.pid, process_start(self.pid), utc_now_iso(), process_alive)
        if holder is not None:
            raise LockHeld(f"already being crawled by PID {holder[0]} (since {holder[1]})")
        self.held = True

    def release(self) -> None:
        if self.held:
            with opened(self.db_path) as db:
                release_lease(db, self.source, self.pid)
            self.held = False


@dataclass(frozen=True)
class DaemonHolder:
    pid: int
    since: str


class DaemonLock:
    def __init__(self, db_path: Path) -> None:
        self.path = Path(f"{db_path}.daemon.lock")
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            handle = self.path.open("a+")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(handle)
                handle.close()
                pid = holder.pid if holder else "unknown"
                raise LockHeld(
                    f"another chipwatch daemon (PID {pid}) is already running on this database ({self.path})"
                ) from None
            # The file may have been removed by a daemon that stopped between our open and our lock: lock the
            # file that is at the path now.
            if _same_file(handle, self.path):
                break
            handle.close()
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")  # and since when: the file's modification time
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
            self._handle.close()  # closing releases the lock
            self._handle = None


def daemon_holder(db_path: Path) -> DaemonHolder | None:
    """The daemon that holds this database, or None when none runs (read only: nothing is written)."""
    path = Path(f"{db_path}.daemon.lock")
    try:
        handle = path.open("r")
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(handle)
        except OSError:
            return None
        return None  # nobody holds it: a file left by a daemon killed before it could remove it


def _read_holder(handle: IO[str]) -> DaemonHolder | None:
    handle.seek(0)
    parts = handle.read().split()
    if not parts or not parts[0].isdigit():
        return None
    since = datetime.fromtimestamp(os.fstat(handle.fileno()).st_mtime, UTC)
    return DaemonHolder(int(parts[0]), since.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _same_file(handle: IO[str], path: Path) -> bool:
    try:
        return os.fstat(handle.fileno()).st_ino == path.stat().st_ino
    except OSError:
        return False
