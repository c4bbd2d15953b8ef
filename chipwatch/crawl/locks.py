"""Exclusive locks on files next to the database, holding the owner's PID: one daemon per database, one
crawl per source at a time.

The kernel drops a lock when its process dies, however it dies, so a lock left by a killed process is
simply taken over by the next one.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from chipwatch.errors import ChipwatchError


class FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def owner_message(self, owner: str) -> str:
        return f"locked by PID {owner} ({self.path})"

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise LockHeld(self.owner_message(owner)) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing releases the lock
            self._handle = None


class LockHeld(ChipwatchError):
    """Another process holds the lock."""


class DaemonLock(FileLock):
    def __init__(self, db_path: Path) -> None:
        super().__init__(Path(f"{db_path}.daemon.lock"))

    def owner_message(self, owner: str) -> str:
        return f"another chipwatch daemon (PID {owner}) is already running on this database ({self.path})"


class SourceLock(FileLock):
    """Held while a source is crawled, so two crawls of one source never run at once."""

    def __init__(self, db_path: Path, source: str) -> None:
        super().__init__(Path(f"{db_path}.{source}.crawl.lock"))

    def owner_message(self, owner: str) -> str:
        return f"already being crawled by PID {owner}"
