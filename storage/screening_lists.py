"""screening_entries and screening_changes: each screening-list source's stored snapshot, and what changed.

The snapshot moves only by applying changes, in the same transaction that records them: a reading cut off
halfway (a crash, a dropped item) leaves the snapshot where its last recorded change put it, and the next
reading finds exactly the changes still unrecorded. A change the snapshot already shows is not applied or
recorded again (an item stored twice); the same change made again later (an entry taken off a second time)
is a row of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import sqlite_utils

from storage.database import transaction

CHANGE_COLUMNS = (
    "id", "source", "article_id", "kind", "list_code", "list_name", "entry_id", "previous_id", "name",
    "original_name", "alt_names", "countries", "addresses", "citation", "start_date", "fields", "before",
    "observed_at",
)  # fmt: skip
JSON_COLUMNS = ("alt_names", "countries", "addresses", "fields", "before")


def apply_changes(
    db: sqlite_utils.Database, source: str, article_id: int | None, changes: Iterable[Mapping[str, Any]], at: str
) -> int:
    """Record the changes (kind listed/added/changed/removed) and move the snapshot by them, atomically.
    Returns how many change rows were new."""
    recorded = 0
    with transaction(db) as conn:
        for change in changes:
            entry = change["entry"]
            code, entry_id = change["list_code"], change["entry_id"]
            held = conn.execute(
                "SELECT fingerprint FROM screening_entries WHERE source = ? AND list_code = ? AND entry_id = ?",
                [source, code, entry_id],
            ).fetchone()
            if (
                (held is None)
                if change["kind"] == "removed"
                else (held is not None and held[0] == change["fingerprint"])
            ):
                continue  # the snapshot shows it already: applied by an earlier try of the same reading
            # The same change can happen again (an entry taken off, put back, taken off again): each time is
            # a row of its own, told apart by how many changes the entry had before.
            (earlier,) = conn.execute(
                "SELECT count(*) FROM screening_changes WHERE source = ? AND list_code = ? AND entry_id = ?",
                [source, code, entry_id],
            ).fetchone()
            if change["kind"] == "removed":
                conn.execute(
                    "DELETE FROM screening_entries WHERE source = ? AND list_code = ? AND entry_id = ?",
                    [source, code, entry_id],
                )
            else:
                if change.get("previous_id"):
                    conn.execute(
                        "DELETE FROM screening_entries WHERE source = ? AND list_code = ? AND entry_id = ?",
                        [source, code, change["previous_id"]],
                    )
                conn.execute(
                    "INSERT INTO screening_entries (source, list_code, entry_id, name, fingerprint, data, "
                    "first_seen_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (source, list_code, entry_id) DO UPDATE SET name = excluded.name, "
                    "fingerprint = excluded.fingerprint, data = excluded.data, updated_at = excluded.updated_at",
                    [
                        source,
                        code,
                        entry_id,
                        change["name"],
                        change["fingerprint"],
                        json.dumps(entry, ensure_ascii=False),
                        at,
                        at,
                    ],
                )
            if change["kind"] == "listed":
                continue  # a first reading is the snapshot itself, not a change
            cursor = conn.execute(
                "INSERT OR IGNORE INTO screening_changes (source, change_key, article_id, kind, list_code, "
                "list_name, entry_id, previous_id, name, original_name, alt_names, countries, addresses, citation, "
                f"start_date, fields, before, observed_at) VALUES ({', '.join('?' * 18)})",
                [
                    source, f"{change['change_key']}|{earlier}", article_id, change["kind"], code,
                    change["list_name"], entry_id,
                    change.get("previous_id"), change["name"], change.get("original_name"),
                    *(json.dumps(change.get(name) or ([] if name != "before" else {}), ensure_ascii=False)
                      for name in ("alt_names", "countries", "addresses")),
                    change.get("citation"), change.get("start_date"),
                    json.dumps(change.get("fields") or []), json.dumps(change.get("before") or {}, ensure_ascii=False),
                    at,
                ],
            )  # fmt: skip
            recorded += cursor.rowcount
    return recorded


def stored_entries(db: sqlite_utils.Database, source: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The source's snapshot: (list code, entry id) -> the entry's fields."""
    if "screening_entries" not in db.table_names():
        return {}
    rows = db.execute("SELECT list_code, entry_id, data FROM screening_entries WHERE source = ?", [source])
    return {(code, entry_id): json.loads(data) for code, entry_id, data in rows}


def all_entries(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every stored entry of every list (what `screen` compares against), with its source."""
    rows = db.execute("SELECT source, data FROM screening_entries ORDER BY source, list_code, entry_id")
    return [{**json.loads(data), "source": source} for source, data in rows]


def list_changes(
    db: sqlite_utils.Database,
    *,
    since: str | None = None,
    list_name: str | None = None,
    country: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Changes newest first; list_name matches the code (EL) or any part of the list's name."""
    where, params = [], []
    if since:
        where.append("observed_at >= ?")
        params.append(since)
    if list_name:
        where.append("(upper(list_code) = upper(?) OR list_name LIKE ?)")
        params += [list_name, f"%{list_name}%"]
    if country:
        where.append("EXISTS (SELECT 1 FROM json_each(countries) WHERE upper(value) = upper(?))")
        params.append(country)
    sql = f"SELECT {', '.join(CHANGE_COLUMNS)} FROM screening_changes"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY observed_at DESC, id DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [_change(values) for values in db.execute(sql, params)]


def changes_of(db: sqlite_utils.Database, article_id: int) -> list[dict[str, Any]]:
    rows = db.execute(
        f"SELECT {', '.join(CHANGE_COLUMNS)} FROM screening_changes WHERE article_id = ? ORDER BY id", [article_id]
    )
    return [_change(values) for values in rows]


def _change(values: Iterable[Any]) -> dict[str, Any]:
    row = dict(zip(CHANGE_COLUMNS, values, strict=True))
    for name in JSON_COLUMNS:
        row[name] = json.loads(row[name])
    return row


def entry_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """How many entries each list holds in the stored snapshots."""
    if "screening_entries" not in db.table_names():
        return {}
    return dict(db.execute("SELECT list_code, count(*) FROM screening_entries GROUP BY list_code ORDER BY list_code"))


def list_change_articles(db: sqlite_utils.Database, article_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Which of these articles are the items of screening-list changes, each with its changes (kind, name,
    original_name, countries) in the order recorded."""
    found: dict[int, list[dict[str, Any]]] = {}
    for start in range(0, len(article_ids), 500):
        chunk = article_ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        rows = db.execute(
            f"SELECT article_id, kind, name, original_name, countries FROM screening_changes "
            f"WHERE article_id IN ({marks}) ORDER BY id",
            chunk,
        )
        for article_id, kind, name, original_name, countries in rows:
            found.setdefault(article_id, []).append(
                {"kind": kind, "name": name, "original_name": original_name, "countries": json.loads(countries)}
            )
    return found
