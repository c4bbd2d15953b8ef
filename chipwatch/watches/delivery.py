"""Sending the pending messages: each target's in the order they were made, each once it is taken.

Per target (an address, a webhook), messages go oldest first; when one fails, the target's later ones wait
behind it, so a receiver always sees them in order. A delivery is marked sent only after the target took
it (SMTP accepted it; the webhook answered 2xx): a process killed between the two leaves it pending, and it
is sent again with the same delivery id (X-Chipwatch-Delivery, and the same Message-ID for email) for the
receiver to recognise. Nothing is dropped: a failed delivery stays pending, tried again on later runs after
a growing pause (or the pause the endpoint asked for), and `status` shows it. One process delivers at a
time (a lease in the database); another that finds it taken waits a little, then leaves its messages to it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from chipwatch.config import Options
from chipwatch.crawl.locks import LockHeld, SourceLock
from chipwatch.digest.deliver import DeliveryError, deliver
from chipwatch.watches.messages import email, message_id
from chipwatch.watches.webhook import WebhookFailed
from chipwatch.watches.webhook import send as post
from pipeline.dates import to_utc_iso
from storage import opened
from storage.deliveries import attempted, failed, pending, sent

log = logging.getLogger("chipwatch.watches")
LEASE = "watch-delivery"  # the name of the lease row (crawl_leases) one delivering process holds
FIRST_PAUSE = timedelta(minutes=5)
LONGEST_PAUSE = timedelta(hours=6)


@dataclass
class Delivered:
    sent: int = 0
    failed: int = 0
    waiting: int = 0  # pending behind a failed one, or not yet due again
    problems: list[str] = field(default_factory=list)
    skipped: bool = False  # another process was delivering


def pause_after(attempts: int, asked: float | None = None) -> timedelta:
    """How long a failed delivery waits before a later run tries it again."""
    pause = min(FIRST_PAUSE * 2 ** max(0, attempts - 1), LONGEST_PAUSE)
    if asked is not None:
        pause = max(pause, timedelta(seconds=asked))
    return pause


def deliver_due(
    options: Options, now: Callable[[], datetime] = lambda: datetime.now(UTC), wait: float = 30.0
) -> Delivered:
    """Send every pending email and webhook message that is due, under the delivery lease."""
    lock = SourceLock(options.storage.db, LEASE)
    deadline = time.monotonic() + wait
    while True:
        try:
            lock.acquire()
            break
        except LockHeld:
            if time.monotonic() >= deadline:
                return Delivered(skipped=True)
            time.sleep(0.25)
    try:
        with opened(options.storage.db) as db:
            return _deliver(options, db, now)
    finally:
        lock.release()


def _deliver(options: Options, db: Any, now: Callable[[], datetime]) -> Delivered:
    report = Delivered()
    by_target: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in pending(db, ("email", "webhook")):
        by_target.setdefault((row["channel"], row["target"]), []).append(row)
    for (channel, target), rows in by_target.items():
        for index, row in enumerate(rows):
            moment = now()
            if row["next_attempt_at"] and row["next_attempt_at"] > to_utc_iso(moment):
                report.waiting += len(rows) - index
                break
            attempted(db, row["id"], to_utc_iso(moment))
            try:
                how = _send(options, channel, target, row)
            except (WebhookFailed, DeliveryError) as error:
                asked = error.retry_after if isinstance(error, WebhookFailed) else None
                retry_at = to_utc_iso(now() + pause_after(row["attempts"] + 1, asked))
                failed(db, row["id"], str(error), retry_at)
                log.warning(
                    "watch %s: %s %s not delivered, retried from %s: %s", row["watch"], channel, target, retry_at, error
                )
                report.failed += 1
                report.waiting += len(rows) - index - 1
                report.problems.append(f"{row['watch']} → {target}: {error}")
                break
            sent(db, [row["id"]], to_utc_iso(now()), how)
            report.sent += 1
    return report


def _send(options: Options, channel: str, target: str, row: dict[str, Any]) -> str:
    body = row["payload"]
    if channel == "webhook":
        # The bytes are the message's own, the same on every try and for every target.
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return post(target, data, row["id"], options.watches)
    mail, html = email(options, body, target, message_id(options, row["id"]))
    return deliver(mail, html, options.digest, f"watch-{row['watch']}-{row['id']}")
