"""One daemon per database: an exclusive lock on a file next to it, holding the owner's PID.

The kernel drops the lock when its process dies, however it dies, so a lock left by a killed daemon is
simply taken over by the next one.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from chipwatch.errors import ChipwatchError


class DaemonLock:
    def __init__(self, db_path: Path) -> None:
        self.path = Path(f"{db_path}.daemon.lock")
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise ChipwatchError(
                f"another chipwatch daemon (PID {owner}) is already running on this database ({self.path})"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing releases the lock
            self._handle = None
