"""What one crawl run writes to the database: its failures, the entries to try again, the entries a stored
page clears, and its end (the outcome, the counts, what the next run starts from).

The run recorder (recorder.py) calls it on one machine; the cluster's writer calls it for the events its
workers send (chipwatch/cluster/writer.py). Either way the same rows are written the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from pipeline.dates import utc_now_iso
from spiders.base import CrawlState
from storage.crawl_runs import finish_run, record_error
from storage.crawl_state import (
    clear_failed_entries,
    failed_entry_urls,
    mark_sitemaps_read,
    record_blocked,
    record_failed_entry,
    save_pagination,
)
from storage.sources import record_outcome, save_validators

CLOSE_REASONS = {"finished": "ok", "shutdown": "cancelled", "closespider_timeout": "timed_out"}
ROBOTS_RECHECK = timedelta(days=7)  # how long a page robots.txt disallows is left alone


@dataclass(frozen=True)
class RunEnd:
    """How a spider's run ended, as the spider saw it."""

    reason: str  # Scrapy's close reason
    source_failed: bool = False
    fatal_error: str | None = None
    validators: tuple[str | None, str | None] | None = None
    state: CrawlState | None = None

    @property
    def status(self) -> str:
        status = CLOSE_REASONS.get(self.reason, "failed")
        return "failed" if status == "ok" and self.source_failed else status


class RunBook:
    def __init__(self, db: Database, source: str, run_id: int, retry_after: float, attempts: int) -> None:
        self.db = db
        self.source = source
        self.run_id = run_id
        self.retry_after = timedelta(seconds=retry_after)
        self.attempts = attempts
        # The source's entries in failed_entries: what a stored page clears. Read once per run.
        self.failed_urls = failed_entry_urls(db, source)

    def error(self, url: str | None, kind: str, message: str) -> None:
        record_error(self.db, self.run_id, self.source, url, kind, message, utc_now_iso())

    def failed_entry(self, url: str, title: str | None, kind: str, message: str) -> None:
        """An entry whose page failed for a passing reason: tried again on later runs, with backoff."""
        record_failed_entry(
            self.db, self.source, url, title, kind, message, datetime.now(UTC), self.retry_after, self.attempts
        )
        self.failed_urls.add(url)

    def page_stored(self, urls: Iterable[str]) -> None:
        """A page that failed before is stored now: no longer waiting for another try. Only such pages cost a
        write; the rest pass by the set."""
        cleared = set(urls) & self.failed_urls
        if cleared:
            clear_failed_entries(self.db, self.source, cleared)
            self.failed_urls -= cleared

    def finish(self, end: RunEnd, counts: Mapping[str, int | None]) -> str:
        """The run's row closed, the source's health, and what the next run starts from; its status."""
        status = end.status
        finish_run(self.db, self.run_id, status, utc_now_iso(), dict(counts))
        if status != "cancelled":  # stopped by someone, which says nothing of the source's health
            error = end.fatal_error or (f"the crawl ended: {end.reason}" if status != "ok" else None)
            record_outcome(self.db, self.source, status == "ok", utc_now_iso(), error)
        if end.validators is not None:
            save_validators(self.db, self.source, *end.validators)
        state = end.state
        if state is not None:
            if state.pagination is not None:
                save_pagination(self.db, self.source, state.pagination, utc_now_iso())
            if state.sitemaps_read:
                mark_sitemaps_read(self.db, self.source, state.sitemaps_read, utc_now_iso())
            if state.blocked:
                record_blocked(self.db, self.source, state.blocked, datetime.now(UTC), ROBOTS_RECHECK)
        return status
