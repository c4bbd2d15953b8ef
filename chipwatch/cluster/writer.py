"""The cluster's one writer: queue the crawls, then store what the workers send, in order, until every
crawl it queued has ended.

An entry of the stream is acknowledged only once what it says is committed: a writer killed at any moment
leaves its unacknowledged entries for the next writer, which claims them (XAUTOCLAIM) and applies them
again. Applying twice is harmless: storing is keyed on the canonical URL, and counts that cannot be told
apart count the second time as unchanged.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

import redis
from sqlite_utils import Database

from chipwatch.cluster import stored as shared
from chipwatch.cluster.connection import ClusterError, Keys, connect, process_name, safe_address
from chipwatch.cluster.jobs import Job, JobQueue
from chipwatch.cluster.stream import Entry, Reader
from chipwatch.config import Options
from chipwatch.crawl.recorder import COUNTS, ENTRIES, STORE_STATUS_COUNT, plural
from chipwatch.crawl.runbook import RunBook, RunEnd
from pipeline import process
from pipeline.classify import load_classifier
from pipeline.dates import to_utc_iso, utc_now_iso
from pipeline.items import ArticleItem
from spiders.sources import Source
from spiders.view import StoredView, ViewSnapshot
from storage import opened
from storage.crawl_runs import get_run, start_run
from storage.schedule import settle_runs

BLOCK_MS = 1000
NO_WORKER_NOTE = 15.0  # seconds without a live worker before the writer says so


@dataclass
class RunState:
    book: RunBook
    seen: set[str] = field(default_factory=set)  # canonical URLs handled in this run (one article each)


class Writer:
    def __init__(self, options: Options, db: Database, server: redis.Redis, stream: TextIO) -> None:
        self.options = options
        self.db = db
        self.server: Any = server  # redis-py's replies are typed loosely
        self.out = stream
        self.keys = Keys(options.cluster.prefix)
        self.name = process_name("writer")
        self.jobs = JobQueue(server, self.keys, options.cluster.heartbeat_timeout)
        self.reader = Reader(server, self.keys, self.name, options.cluster.heartbeat_timeout)
        self.stories = process.StoryModel.of(load_classifier(options.classify.topics, options.classify.model))
        self.runs: dict[int, RunState] = {}
        self.ended: set[int] = set()
        self.pages_by_worker: dict[int, dict[str, int]] = {}
        self.applied = 0
        self.stop_asked = False
        self._last_beat = 0.0

    # -- queueing ---------------------------------------------------------------------------------------------

    def queue(self, sources: list[Source]) -> dict[str, int]:
        """One crawl run per source, each queued for the workers with its snapshot; run ids by source."""
        shared.fill(self.server, self.keys, self.db, str(self.options.storage.db))
        run_ids = {}
        now = datetime.now(UTC)
        for source in sources:
            since = to_utc_iso(now - timedelta(hours=source.refresh_hours)) if source.refresh_hours else None
            snapshot = ViewSnapshot.take(
                StoredView(self.db, source.name), to_utc_iso(now), since, lists=source.kind == "screening-list"
            )
            run_id = start_run(self.db, source.name, utc_now_iso())
            self.jobs.put(Job(run_id, source, snapshot, self.name))
            run_ids[source.name] = run_id
        return run_ids

    # -- writing ----------------------------------------------------------------------------------------------

    def drain(self, run_ids: set[int]) -> bool:
        """Apply entries until every one of run_ids has ended; False when stopped first."""
        waiting_since = time.monotonic()
        said_no_worker = False
        self._apply_mine()
        last_claim = 0.0
        lost = False
        while not self.stop_asked:
            now = time.monotonic()
            try:
                if lost:
                    self.reader.ensure_group()  # a Redis that restarted without its AOF has no group
                    # Entries delivered while the connection broke are this writer's but were never seen.
                    self._apply_mine()
                    lost = False
                self._beat()
                if now - last_claim >= min(5.0, self.options.cluster.heartbeat_timeout / 2):
                    last_claim = now
                    self._apply_all(self.reader.claim())
                self._apply_all(self.reader.read(BLOCK_MS))
            except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError) as error:
                # Redis restarting (its AOF keeps the stream): wait for it; nothing was acknowledged.
                if not lost:
                    self.out.write(f"the cluster's Redis is unreachable ({error}); retrying\n")
                lost = True
                time.sleep(1.0)
                continue
            if run_ids <= self.ended or run_ids <= self._finished_elsewhere(run_ids):
                self._apply_mine()  # nothing read is left behind unapplied
                return True
            if (
                not said_no_worker
                and now - waiting_since > NO_WORKER_NOTE
                and not live_workers(self.server, self.keys, self.options)
            ):
                said_no_worker = True
                self.out.write(
                    "no worker is running: start `chipwatch worker` on any machine that reaches "
                    f"{safe_address(self.options.cluster.redis)} (waiting; Ctrl-C leaves the crawls queued)\n"
                )
        return False

    def _apply_mine(self) -> None:
        while True:
            entries = self.reader.mine()
            if not entries:
                return
            self._apply_all(entries)

    def _finished_elsewhere(self, run_ids: set[int]) -> set[int]:
        """Runs another writer ended (entries go to whichever writer reads them first)."""
        done = set(self.ended)
        for run_id in run_ids - self.ended:
            run = get_run(self.db, run_id)
            if run is not None and run["status"] != "running":
                done.add(run_id)
        return done

    def _apply_all(self, entries: list[Entry]) -> None:
        for entry in entries:
            self.apply(entry)
            self.reader.ack(entry)
            self.applied += 1

    def apply(self, entry: Entry) -> None:
        state = self._run(entry.run_id)
        if state is None:  # a run this database does not know (another writer's database): left alone
            return
        if entry.kind == "item":
            self._store(entry, state, entry.data)
        elif entry.kind == "error":
            data = entry.data
            self._count(entry.run_id, "errors")
            state.book.error(data.get("url"), data.get("kind", "network"), data.get("message", ""))
            if data.get("retry") and data.get("url"):
                state.book.failed_entry(data["url"], data.get("title"), data["kind"], data.get("message", ""))
        elif entry.kind == "dropped":
            data = entry.data
            self._count(entry.run_id, "items_dropped")
            self._count(entry.run_id, "errors")
            state.book.error(data.get("url"), data.get("kind", "dropped"), data.get("message", ""))
        elif entry.kind == "end":
            self._end(entry.run_id, state, entry.data)

    def _run(self, run_id: int) -> RunState | None:
        state = self.runs.get(run_id)
        if state is None:
            run = get_run(self.db, run_id)
            if run is None:
                return None
            crawl = self.options.crawl
            book = RunBook(self.db, run["source"], run_id, crawl.entry_retry_after, crawl.entry_attempts)
            state = self.runs[run_id] = RunState(book)
        return state

    def _store(self, entry: Entry, state: RunState, item: ArticleItem) -> None:
        canonical = item.canonical_url or item.url
        if canonical in state.seen:  # the same article twice in one crawl: dropped, but not an error
            self._count(entry.run_id, "items_dropped")
            return
        state.seen.add(canonical)
        try:
            process.store_half(self.db, self.stories, item)
        except Exception as error:  # one bad item never stops the others
            self._count(entry.run_id, "items_dropped")
            self._count(entry.run_id, "errors")
            state.book.error(item.url, "pipeline", f"{type(error).__name__}: {error}")
            return
        urls = {item.url, canonical, *item.page_urls}
        state.book.page_stored(urls)
        pipe = self.server.pipeline()
        pipe.hincrby(
            self.keys.counts(entry.run_id), STORE_STATUS_COUNT.get(item.store_status or "", "items_unchanged"), 1
        )
        shared.note_stored(pipe, self.keys, urls, item.fetched_at or utc_now_iso())
        pipe.execute()
        if item.store_status == "new" and item.article_id is not None and self._learned_name(item):
            shared.share_site_names(self.server, self.keys, self.db)

    def _learned_name(self, item: ArticleItem) -> bool:
        from pipeline.site_names import site_of
        from storage.site_names import learned_site_names

        site = site_of(item.canonical_url or item.url)
        if not site:
            return False
        known = json.loads(self.server.hget(self.keys.site_names, site) or "[]")
        return learned_site_names(self.db, site) != set(known)

    def _count(self, run_id: int, name: str) -> None:
        self.server.hincrby(self.keys.counts(run_id), name, 1)

    def _end(self, run_id: int, state: RunState, end: RunEnd) -> None:
        raw = self.server.hgetall(self.keys.counts(run_id))
        found = {key.decode(): int(value) for key, value in raw.items()}
        counts: dict[str, int | None] = {name: found.get(name, 0) for name in COUNTS}
        counts[ENTRIES] = found.get(ENTRIES)
        if found.get("helper_entry_failures"):
            end = dataclasses.replace(end, validators=None)  # a page failed: the next run reads it all again
        status = state.book.finish(end, counts)
        verdict = {"ok": "finished", "failed": "failed"}.get(status, f"stopped ({status})")
        self.ended.add(run_id)
        self.out.write(
            f"{time.strftime('%H:%M:%S')} {verdict} {state.book.source}: {counts['pages_fetched']} pages, "
            f"{counts['items_new']} new, {counts['errors']} errors — crawls {len(self.ended)} ended\n"
        )
        workers = self.server.hgetall(self.keys.pages_by_worker(run_id))
        self.pages_by_worker[run_id] = {key.decode(): int(value) for key, value in workers.items()}
        self.server.delete(self.keys.counts(run_id), self.keys.pages_by_worker(run_id))
        self.runs.pop(run_id, None)

    def _beat(self) -> None:
        if time.monotonic() - self._last_beat < 1.0:
            return
        self._last_beat = time.monotonic()
        record = {
            "name": self.name,
            "role": "writer",
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "state": "running",
            "last_heartbeat": utc_now_iso(),
            "entries_applied": self.applied,
            "database": str(self.options.storage.db),
        }
        self.server.hset(self.keys.workers, self.name, json.dumps(record))

    def leave(self) -> None:
        self.server.hdel(self.keys.workers, self.name)


def live_workers(server: redis.Redis, keys: Keys, options: Options) -> list[dict[str, Any]]:
    """Workers whose last heartbeat is recent."""
    from chipwatch.cluster.status import members

    return [m for m in members(server, keys, options) if m["role"] == "worker" and m["alive"]]


def write_crawls(
    options: Options, sources: list[Source], *, stream: TextIO
) -> tuple[dict[str, int], dict[int, dict[str, int]]]:
    """`chipwatch crawl` on a cluster: queue the sources' crawls, write what the workers send until every one
    has ended. Ctrl-C (or SIGTERM) stops writing: the crawls stay queued, their runs are cancelled here, and
    whatever the workers still send is stored by the next writer."""
    server = connect(options.cluster)
    with opened(options.storage.db) as db:
        writer = Writer(options, db, server, stream)
        run_ids = writer.queue(sources)
        stream.write(f"queued {plural(len(run_ids), 'crawl')} on {safe_address(options.cluster.redis)}\n")

        def stop(signum: int, frame: object) -> None:
            writer.stop_asked = True

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            finished = writer.drain(set(run_ids.values()))
        except redis.RedisError as error:
            raise ClusterError(f"the cluster's Redis failed while writing: {error}") from None
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            with contextlib.suppress(redis.RedisError):
                writer.leave()
        if not finished:
            settle_runs(db, os.getpid(), "cancelled", utc_now_iso(), only_unfinished=True)
        return run_ids, writer.pages_by_worker
