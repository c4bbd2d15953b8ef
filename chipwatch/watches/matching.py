"""Matching the articles stored since each watch last looked, and making the messages to send.

Each watch keeps a mark: the highest article id it has looked at. A pass reads the newest id, runs the
watch's search over the ids above its mark (the same search `chipwatch search` makes, restricted to that
range in the index itself), and in one transaction records the matches, moves the mark and, for a watch
that reports every run, makes its message and one pending delivery per target. A process killed before
that transaction commits leaves the mark where it was: the next pass matches the same articles again. Two
processes matching at once cannot both record: the mark moves only from the value the matcher read.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chipwatch.config import Options
from chipwatch.errors import ChipwatchError, QueryError
from chipwatch.watches.definition import request_for, spec_from_row
from chipwatch.watches.messages import payload
from storage.database import transaction
from storage.deliveries import add_batch
from storage.search import rows_for_ids, search
from storage.watches import (
    assign_batch,
    config_watch_names,
    get_watch,
    list_watches,
    newest_article_id,
    record_matches,
    remove_watch,
    save_watch,
    unbatched_matches,
)

if TYPE_CHECKING:
    import sqlite3

    from sqlite_utils import Database

    from chipwatch.watches.definition import WatchSpec

log = logging.getLogger("chipwatch.watches")


@dataclass
class Matched:
    watch: str
    new: int  # articles matched in this pass
    messages: int  # messages made (0 for a daily watch until its digest)


def sync_config_watches(options: Options, db: Database, now: str) -> list[str]:
    """The config file's [[watch]] tables into the database; they win over a watch of the same name made
    with `watch add` (which is then replaced, its matches kept). A [[watch]] taken out of the file is removed.
    Returns one note per change."""
    notes = []
    for spec in options.watch:
        before = get_watch(db, spec.name)
        outcome = save_watch(db, spec.name, spec.definition(), "config", now)
        if before is not None and before["origin"] != "config":
            notes.append(f"watch {spec.name}: the config file's [[watch]] replaces the one made with `watch add`")
        elif outcome != "unchanged":
            notes.append(f"watch {spec.name}: {outcome} from the config file")
    if options.config_file is not None:
        in_file = {spec.name for spec in options.watch}
        for name in config_watch_names(db):
            if name not in in_file:
                remove_watch(db, name)
                notes.append(f"watch {name}: removed (no longer in {options.config_file})")
    return notes


def match_new(options: Options, db: Database, now: str) -> list[Matched]:
    """Every watch against the articles stored since it last looked; the messages of run watches made."""
    through = newest_article_id(db)
    results = []
    for row in list_watches(db):
        if row["matched_through"] >= through:
            continue
        spec = spec_from_row(row)
        try:
            found = search(db, request_for(spec, row["matched_through"], through))
        except QueryError as error:
            # A stored watch the parser no longer takes (a topic renamed): said, and it waits to be fixed.
            log.error("watch %s not matched: %s", spec.name, error)
            continue
        if spec.counterparties:
            try:
                found = touching_counterparties(db, spec.counterparties, found)
            except ChipwatchError as error:
                # The file went missing or broke: said, and the watch waits (its mark stays) to be fixed.
                log.error("watch %s not matched: counterparties: %s", spec.name, error)
                continue
        found.sort(key=lambda article: article["id"])
        with transaction(db) as conn:
            added = record_matches(conn, row["id"], row["matched_through"], through, [a["id"] for a in found], now)
            if not added:
                continue
            messages = 0
            if spec.every == "run":
                wanted = set(added)
                messages = make_message(conn, options, row["id"], spec, [a for a in found if a["id"] in wanted], now)
        results.append(Matched(spec.name, len(added), messages))
    return results


def touching_counterparties(db: Database, path: str, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The found articles that are screening-list changes adding or revising an entry that matches one of
    the counterparties in the file (a removal from a list is no warning about anyone)."""
    from pathlib import Path

    from chipwatch.lists.counterparties import read_counterparties
    from chipwatch.lists.screen import Screener
    from storage.screening_lists import changes_of, list_change_articles

    changed = list_change_articles(db, [article["id"] for article in found])
    if not changed:
        return []
    parties = read_counterparties(Path(path)).parties
    kept = []
    for article in found:
        if article["id"] not in changed:
            continue
        entries = [
            {"id": c["entry_id"], "name": c["name"], "alt_names": c["alt_names"], "original_name": c["original_name"],
             "countries": c["countries"], "list_code": c["list_code"], "list_name": c["list_name"],
             "citation": c["citation"], "source": c["source"]}
            for c in changes_of(db, article["id"]) if c["kind"] != "removed"
        ]  # fmt: skip
        screener = Screener(entries)
        if entries and any(screener.screen(party) for party in parties):
            kept.append(article)
    return kept


def targets_of(spec: WatchSpec, readers: Collection[str] = ()) -> list[tuple[str, str]]:
    """(channel, target) for each place the watch's message goes; a daily watch's address that gets the
    digest gets it inside the digest."""
    channel = "digest" if spec.every == "day" else "email"
    emails = [(channel if address in readers else "email", address) for address in spec.emails]
    return emails + [("webhook", url) for url in spec.webhooks]


def make_message(
    conn: sqlite3.Connection,
    options: Options,
    watch_id: int,
    spec: WatchSpec,
    rows: list[dict[str, Any]],
    now: str,
    readers: Collection[str] = (),
) -> int:
    """Inside the caller's transaction: one message for these matches (oldest first) and its deliveries."""
    targets = targets_of(spec, readers)
    if not rows or not targets:
        return 0
    body = payload(options, spec.name, rows)
    batch = add_batch(conn, watch_id, spec.name, now, body, body.get("more", 0), targets)
    assign_batch(conn, watch_id, [row["id"] for row in rows], batch)
    return 1


def batch_daily(options: Options, db: Database, now: str, readers: Collection[str]) -> int:
    """The daily watches' matches since their last message, one message each (made when the digest goes
    out: to a reader inside the digest, to other addresses and webhooks on their own). Returns messages."""
    made = 0
    for row in list_watches(db):
        if row["every"] != "day":
            continue
        spec = spec_from_row(row)
        with transaction(db) as conn:
            ids = unbatched_matches(conn, row["id"])
            if not ids:
                continue
            rows = rows_for_ids(db, ids)
            made += make_message(conn, options, row["id"], spec, rows, now, readers)
    return made
