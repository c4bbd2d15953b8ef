"""Making and sending each reader's digest for a day, exactly once.

A digest covers the relevant items first stored since the reader's last digest (the first one: the last
24 hours) up to the day's digest time in the reader's timezone (or now, if that is earlier). The digests
table holds one row per reader per day: a sent row is never sent again; a failed one is retried on the
next run; a reader who missed days gets one digest covering all of them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from chipwatch.config import TOPIC_IDS, Options, Reader
from chipwatch.digest.compose import CHART_DAYS, Context, Digest, compose, watch_sections
from chipwatch.digest.deliver import DeliveryError, deliver, write_files
from chipwatch.digest.render import message, render
from pipeline.dates import to_utc_iso
from storage import opened
from storage.deliveries import has_pending, pending_for_digest, sent
from storage.digests import begin, digest_for, earliest_in_story, finish, last_sent, new_items
from storage.entities import entities_of
from storage.reading import coverage_by_topic
from storage.rule_documents import documents_dated
from storage.screening_lists import list_change_articles
from storage.stories import story_titles

if TYPE_CHECKING:
    from sqlite_utils import Database

from chipwatch.watches.delivery import deliver_due
from chipwatch.watches.matching import batch_daily

log = logging.getLogger("chipwatch.digest")
# "Comments close soon": deadlines in the next two weeks, time enough to write one.
COMMENTS_AHEAD_DAYS = 14


@dataclass
class ReaderOutcome:
    reader: str
    status: str  # sent, outbox, empty, already-sent, failed, written
    items: int = 0
    detail: str = ""


def utc(moment: datetime) -> str:
    return to_utc_iso(moment)


def window(
    options: Options, reader: Reader, day: date, now: datetime, previous: str | None, until_now: bool = False
) -> tuple[str, str]:
    """(from, to) a reader's digest covers: from the end of their last one (the first: 24 hours back) to the
    day's digest time in their zone (the scheduled digest), or, with until_now (`digest --send` and
    `--preview` by hand), to now when the day is today or later."""
    zone = ZoneInfo(reader.timezone or options.daemon.timezone)
    hour, minute = (int(x) for x in options.daemon.digest_time.split(":"))
    end = min(datetime.combine(day, time(hour, minute), zone), now)
    if until_now and day >= now.astimezone(zone).date():
        end = now
    start = previous or utc(end - timedelta(hours=24))
    return start, utc(end)


def build(options: Options, db: Database, reader: Reader, day: date, covers: tuple[str, str]) -> Digest:
    rows = new_items(db, covers[0], covers[1], reader.min_relevance)
    stories = sorted({row["story_id"] for row in rows if row["story_id"]})
    zone = reader.timezone or options.daemon.timezone
    week = ((day - timedelta(days=CHART_DAYS - 1)).isoformat(), day.isoformat())
    context = Context(
        first_articles=earliest_in_story(db, stories),
        story_titles=story_titles(db, stories, reader.lang),
        zone=zone,
        max_per_topic=options.digest.max_items_per_topic,
        covers=covers,
        public_url=options.serve.public_url,
        entities=entities_of(db, [row["id"] for row in rows]) if reader.languages else {},
        coverage=coverage_by_topic(db, *week),
        list_items=list_change_articles(db, [row["id"] for row in rows]),
        effective=documents_dated(db, "effective_on", day.isoformat(), (day + timedelta(days=6)).isoformat()),
        closing=documents_dated(
            db, "comments_close_on", day.isoformat(), (day + timedelta(days=COMMENTS_AHEAD_DAYS)).isoformat()
        ),
    )
    digest = compose(reader, day.isoformat(), rows, context)
    digest.attention = sources_needing_attention(db, options.daemon.timezone)
    messages = pending_for_digest(db, reader.address)
    digest.watches = watch_sections(messages)
    digest.watch_deliveries = [message["id"] for message in messages]
    return digest


def sources_needing_attention(db: Database, timezone: str) -> list[tuple[str, str, str]]:
    """The sources whose health a reader should know about: failing, silent, overdue or declining."""
    from chipwatch.reports.health import source_health

    wanted = ("failing", "silent", "overdue", "declining")
    return [(h.name, h.status, h.reason) for h in source_health(db, timezone) if h.status in wanted]


def ad_hoc_reader(address: str, options: Options) -> Reader:
    from chipwatch.config import ADDRESS

    if not ADDRESS.match(address):
        raise DeliveryError(f"not an email address: {address!r}")
    return Reader(address.lower(), "", TOPIC_IDS, 0.5, options.daemon.timezone, send_empty=True)


def send_digests(
    options: Options, day: date, readers: list[Reader], now: datetime | None = None, until_now: bool = False
) -> list[ReaderOutcome]:
    """Each reader's digest for the day, sent (or filed in the outbox) once; failures kept for retry."""
    now = now or datetime.now(UTC)
    outcomes = []
    with opened(options.storage.db) as db:
        # Daily watches: their matches since their last message, into the digests below (for readers) or
        # sent on their own (other addresses, webhooks) right after.
        daily = batch_daily(options, db, utc(now), {reader.address for reader in options.digest.readers})
        for reader in readers:
            outcomes.append(_send_one(options, db, reader, day, now, until_now))
        others = daily and has_pending(db, ("email", "webhook"))
    if others:
        deliver_due(options)
    return outcomes


def _send_one(
    options: Options, db: Database, reader: Reader, day: date, now: datetime, until_now: bool
) -> ReaderOutcome:
    existing = digest_for(db, reader.address, day.isoformat())
    if existing and existing["status"] in ("sent", "empty"):
        return ReaderOutcome(reader.address, "already-sent", existing["item_count"])
    previous = last_sent(db, reader.address)
    covers = window(options, reader, day, now, previous["covers_to"] if previous else None, until_now)
    row = begin(db, reader.address, day.isoformat(), *covers)
    digest = build(options, db, reader, day, covers)
    if not digest.items and not digest.watches and not reader.send_empty:
        finish(db, row["id"], "empty", utc(now))
        return ReaderOutcome(reader.address, "empty")
    html, text = render(digest, options.digest)
    mail = message(digest, html, text, options.digest)
    try:
        delivery = deliver(mail, html, options.digest, _file_name(reader, day))
    except DeliveryError as error:
        finish(db, row["id"], "failed", utc(now), items=digest.items, stories=digest.stories, error=str(error))
        log.error("digest for %s on %s not sent: %s", reader.address, day, error)
        return ReaderOutcome(reader.address, "failed", digest.items, str(error))
    if digest.watch_deliveries:
        sent(db, digest.watch_deliveries, utc(now), "digest")
    finish(
        db,
        row["id"],
        "sent",
        utc(now),
        delivery=delivery,
        message_id=mail["Message-ID"],
        items=digest.items,
        stories=digest.stories,
    )
    return ReaderOutcome(reader.address, "sent" if delivery == "smtp" else "outbox", digest.items)


def preview(
    options: Options, day: date, reader: Reader, directory: Path, now: datetime | None = None, until_now: bool = True
) -> tuple[Path, Path]:
    """Write the digest a reader would get as .eml and .html files, recording nothing."""
    now = now or datetime.now(UTC)
    with opened(options.storage.db, readonly=True) as db:
        previous = last_sent(db, reader.address)
        covers = window(options, reader, day, now, previous["covers_to"] if previous else None, until_now)
        digest = build(options, db, reader, day, covers)
    html, text = render(digest, options.digest)
    return write_files(message(digest, html, text, options.digest), html, directory, _file_name(reader, day))


def _file_name(reader: Reader, day: date) -> str:
    return f"digest-{day.isoformat()}-{re.sub(r'[^a-z0-9]+', '-', reader.address.lower())}"


def readers_for(options: Options, to: str | None) -> list[Reader]:
    if to:
        return [ad_hoc_reader(to.strip(), options)]
    return list(options.digest.readers)
