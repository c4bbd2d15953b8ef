"""The results stream: what workers send the writer, in order, and how the writer reads it.

An entry is one of: `item` (a page through the page half of the pipeline), `error` (a failure to record
on the run), `dropped` (a page the page half dropped, with why) and `end` (the crawl is over, with what
the next run starts from). The writer acknowledges an entry only after what it says is committed; entries
a writer read and never acknowledged (it died) are claimed by the next one after a while (XAUTOCLAIM).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

from chipwatch.cluster import serializer
from chipwatch.cluster.connection import Keys

KINDS = ("item", "error", "dropped", "end")


@dataclass(frozen=True)
class Entry:
    id: str
    kind: str
    run_id: int
    worker: str
    data: Any


def add(pipe: Any, keys: Keys, kind: str, run_id: int, worker: str, data: Any) -> None:
    pipe.xadd(keys.results, {"kind": kind, "run": run_id, "worker": worker, "data": serializer.dumps(data)})


def _entry(entry_id: Any, fields: dict[bytes, bytes]) -> Entry:
    def text(name: str) -> str:
        return fields.get(name.encode(), b"").decode("utf-8")

    raw = fields.get(b"data")
    return Entry(
        id=entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id),
        kind=text("kind"),
        run_id=int(text("run") or 0),
        worker=text("worker"),
        data=serializer.loads(raw) if raw else None,
    )


class Reader:
    """One writer's side of the stream (a consumer in the writers' group)."""

    def __init__(self, server: redis.Redis, keys: Keys, name: str, claim_after: float) -> None:
        self.server: Any = server  # redis-py's replies are typed loosely
        self.keys = keys
        self.name = name
        self.claim_after_ms = int(claim_after * 1000)
        self.ensure_group()

    def ensure_group(self) -> None:
        try:
            self.server.xgroup_create(self.keys.results, self.keys.WRITERS, id="0", mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    def claim(self, count: int = 100) -> list[Entry]:
        """Entries another writer read and never acknowledged for claim_after: now this writer's."""
        start = "0-0"
        found: list[Entry] = []
        while True:
            reply = self.server.xautoclaim(
                self.keys.results, self.keys.WRITERS, self.name, self.claim_after_ms, start_id=start, count=count
            )
            start, entries = reply[0], reply[1]
            found += [_entry(entry_id, fields) for entry_id, fields in entries if fields]
            if not entries or start in (b"0-0", "0-0"):
                return found

    def mine(self) -> list[Entry]:
        """Entries this writer read before and has not acknowledged (after a failure to apply them)."""
        reply = self.server.xreadgroup(self.keys.WRITERS, self.name, {self.keys.results: "0"}, count=100)
        return [_entry(entry_id, fields) for _, entries in reply or [] for entry_id, fields in entries if fields]

    def read(self, block_ms: int, count: int = 100) -> list[Entry]:
        reply = self.server.xreadgroup(
            self.keys.WRITERS, self.name, {self.keys.results: ">"}, count=count, block=block_ms
        )
        return [_entry(entry_id, fields) for _, entries in reply or [] for entry_id, fields in entries if fields]

    def ack(self, entry: Entry) -> None:
        pipe = self.server.pipeline()
        pipe.xack(self.keys.results, self.keys.WRITERS, entry.id)
        pipe.xdel(self.keys.results, entry.id)
        pipe.execute()

    @staticmethod
    def lengths_of(server: redis.Redis, keys: Keys) -> dict[str, int]:
        """Entries in the stream, and those read by a writer but not acknowledged yet."""
        try:
            pending = server.xpending(keys.results, keys.WRITERS)
        except redis.ResponseError:  # no writer has read it yet
            pending = {"pending": 0}
        return {"stream": int(server.xlen(keys.results)), "unacknowledged": int(pending["pending"])}
