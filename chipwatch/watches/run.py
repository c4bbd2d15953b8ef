"""One watch pass: the config file's watches synced, every watch matched against the articles stored since
it last looked, and the messages that are due sent. Run after every crawl (crawl, run-due, the daemon's
crawls, demo), by the daemon every few minutes for retries, and by `chipwatch watch run`."""

from __future__ import annotations

from dataclasses import dataclass, field

from chipwatch.config import Options
from chipwatch.watches.delivery import Delivered, deliver_due
from chipwatch.watches.matching import Matched, match_new, sync_config_watches
from pipeline.dates import utc_now_iso
from storage import opened
from storage.deliveries import has_pending


@dataclass
class WatchPass:
    notes: list[str] = field(default_factory=list)
    matched: list[Matched] = field(default_factory=list)
    delivered: Delivered | None = None

    def summary(self) -> str | None:
        """One line for a crawl's output, or None when no watch found anything and nothing was sent."""
        parts = [f"{m.watch}: {m.new} new" for m in self.matched if m.new]
        if self.delivered and (self.delivered.sent or self.delivered.failed):
            parts.append(f"{self.delivered.sent} message(s) sent")
            if self.delivered.failed:
                parts.append(f"{self.delivered.failed} failed, kept to retry (see `chipwatch status`)")
        return "watches — " + "; ".join(parts) if parts else None


def watch_pass(options: Options, *, deliver: bool = True) -> WatchPass:
    result = WatchPass()
    with opened(options.storage.db) as db:
        result.notes = sync_config_watches(options, db, utc_now_iso())
        result.matched = match_new(options, db, utc_now_iso())
        due = deliver and has_pending(db, ("email", "webhook"))
    if due:
        result.delivered = deliver_due(options)
    return result
