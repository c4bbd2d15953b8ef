"""Watches as people read them (`watch list`) and as scripts read them (JSON), and failing deliveries."""

from __future__ import annotations

from typing import Any

from chipwatch.watches.definition import FILTERS


def watch_record(row: dict[str, Any]) -> dict[str, Any]:
    """One watch for `watch list --format json` (a stable shape)."""
    return {
        "name": row["name"],
        "query": row["query"],
        **{key: row[key] for key in FILTERS},
        "emails": row["emails"],
        "webhooks": row["webhooks"],
        "every": row["every"],
        "counterparties": row.get("counterparties"),
        "defined_in": "config" if row["origin"] == "config" else "command",
        "matches": row["matches"],
        "pending": row["pending"],
        "last_sent_at": row["last_sent_at"],
        "last_matched_at": row["last_matched_at"],
    }


def describe(record: dict[str, Any]) -> str:
    parts = [repr(record["query"])] if record["query"] else []
    parts += [f"--{key.replace('_', '-')} {record[key]}" for key in FILTERS if record[key] is not None]
    if record.get("counterparties"):
        parts.append(f"--counterparties {record['counterparties']}")
    return " ".join(parts)


def format_watches(records: list[dict[str, Any]]) -> str:
    if not records:
        return "no watches yet: add one with `chipwatch watch add NAME QUERY --email ADDRESS`\n"
    lines = []
    for record in records:
        targets = [*record["emails"], *record["webhooks"]] or ["(no target: watch show, feed)"]
        origin = " [config file]" if record["defined_in"] == "config" else ""
        lines.append(f"{record['name']}{origin}: {describe(record)}")
        lines.append(
            f"    every {record['every']} → {', '.join(targets)}; {record['matches']} matched, "
            f"{record['pending']} pending, last sent {record['last_sent_at'] or 'never'}"
        )
    return "\n".join(lines) + "\n"


def format_delivery_problems(problems: list[dict[str, Any]]) -> list[str]:
    """Lines for `status`: each target whose messages are waiting after a failure."""
    lines = []
    for p in problems:
        lines.append(
            f"  {p['watch']} → {p['channel']} {p['target']}: {p['pending']} pending since {p['pending_since']}, "
            f"{p['attempts']} tries, next {p['next_attempt_at'] or 'next run'}: {p['last_error'] or '?'}"
        )
    return lines
