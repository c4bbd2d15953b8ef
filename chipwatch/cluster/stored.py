"""What the writer shares with the workers: which pages are stored, and the site names it learned.

Workers have no database; they ask Redis instead. The writer fills the index from the database when it
starts (once per database: a marker says which one it holds) and adds every page it stores.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import redis
from sqlite_utils import Database

from chipwatch.cluster.connection import Keys
from chipwatch.cluster.queue import through_outage
from storage.articles import stored_pages
from storage.site_names import all_learned_site_names

CHUNK = 5_000


def fill(server: redis.Redis, keys: Keys, db: Database, path: str) -> int:
    """The index made from the database when it was made from another (or never); pages indexed."""
    marker: Any = server.get(keys.stored_of)
    pages = stored_pages(db)
    identity = f"{path}#{len(pages)}"  # the same database, as far along: the index is already right
    if marker is not None and marker.decode("utf-8") == identity:
        share_site_names(server, keys, db)
        return 0
    pipe = server.pipeline(transaction=False)
    pipe.delete(keys.stored)
    for start in range(0, len(pages), CHUNK):
        chunk = dict(pages[start : start + CHUNK])
        if chunk:
            pipe.hset(keys.stored, mapping=chunk)  # type: ignore[arg-type]
    pipe.set(keys.stored_of, identity)
    pipe.execute()
    share_site_names(server, keys, db)
    return len(pages)


def note_stored(pipe: Any, keys: Keys, urls: Iterable[str], first_seen: str) -> None:
    for url in urls:
        if url:
            pipe.hsetnx(keys.stored, url, first_seen)


def share_site_names(server: redis.Redis, keys: Keys, db: Database) -> None:
    names = all_learned_site_names(db)
    pipe = server.pipeline()
    pipe.delete(keys.site_names)
    if names:
        pipe.hset(keys.site_names, mapping={host: json.dumps(sorted(found)) for host, found in names.items()})
    pipe.execute()


class SharedIndex:
    """A worker's questions: is this page stored, which names has this site. Asked while a document is
    parsed: a Redis restarting makes the question wait (through_outage), never the parse fail half-way,
    which would leave the rest of the document's links unread."""

    def __init__(self, server: redis.Redis, keys: Keys) -> None:
        self.server = server
        self.keys = keys
        self._names = lru_cache(maxsize=4096)(self._site_names)

    def stored_since(self, url: str) -> str | None:
        value = through_outage(lambda: self.server.hget(self.keys.stored, url))
        return value.decode("utf-8") if isinstance(value, bytes) else value

    def site_names(self, host: str) -> set[str]:
        return self._names(host)

    def _site_names(self, host: str) -> set[str]:
        value = through_outage(lambda: self.server.hget(self.keys.site_names, host))
        return set(json.loads(value)) if value else set()
