"""List changes and screening hits as people read them (a table) and scripts read them (JSON, CSV).

The JSON shapes are a stable contract: fields are added, never renamed or removed.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from typing import Any, TextIO

from chipwatch.lists.screen import Hit

CHANGE_FIELDS = (
    "observed_at", "kind", "list_code", "list_name", "entry_id", "previous_id", "name", "original_name",
    "aliases", "countries", "addresses", "citation", "start_date", "changed_fields", "before", "source",
    "article_id",
)  # fmt: skip
HIT_FIELDS = (
    "row", "counterparty", "counterparty_id", "counterparty_country", "score", "match", "matched_name",
    "entry_name", "entry_id", "list_code", "list_name", "citation", "countries", "country_match", "source",
)  # fmt: skip


def change_record(row: dict[str, Any]) -> dict[str, Any]:
    """One stored change for `lists changes --format json`."""
    return {
        "observed_at": row["observed_at"],
        "kind": row["kind"],
        "list_code": row["list_code"],
        "list_name": row["list_name"],
        "entry_id": row["entry_id"],
        "previous_id": row["previous_id"],
        "name": row["name"],
        "original_name": row["original_name"],
        "aliases": row["alt_names"],
        "countries": row["countries"],
        "addresses": row["addresses"],
        "citation": row["citation"],
        "start_date": row["start_date"],
        "changed_fields": row["fields"],
        "before": row["before"],
        "source": row["source"],
        "article_id": row["article_id"],
    }


def print_changes(rows: Sequence[dict[str, Any]], fmt: str, stream: TextIO) -> None:
    records = [change_record(row) for row in rows]
    if fmt == "json":
        json.dump(records, stream, ensure_ascii=False, indent=2)
        stream.write("\n")
    elif fmt == "csv":
        _csv(records, CHANGE_FIELDS, stream)
    elif not records:
        stream.write("no list changes stored (a screening-list source records them from its second reading on)\n")
    else:
        for record in records:
            stream.write(_change_lines(record))


def print_hits(hits: Sequence[Hit], fmt: str, stream: TextIO, screened: int) -> None:
    records = [hit.to_json() for hit in hits]
    if fmt == "json":
        json.dump(records, stream, ensure_ascii=False, indent=2)
        stream.write("\n")
    elif fmt == "csv":
        _csv(records, HIT_FIELDS, stream)
    else:
        parties = len({hit.row for hit in hits})
        stream.write(f"{screened} counterparties screened, {parties} with possible matches ({len(hits)} hits)\n")
        for hit in hits:
            country = ""
            if hit.country_match is False:
                country = f" (listed in {', '.join(hit.countries)}, not {hit.counterparty_country})"
            matched = "" if hit.matched_name == hit.entry_name else f" as {hit.matched_name!r}"
            stream.write(
                f"row {hit.row}: {hit.counterparty}  ~  {hit.entry_name}{matched}\n"
                f"    {hit.score:g} {hit.match}; {hit.list_name} ({hit.list_code}) {hit.entry_id}"
                f"{'; ' + hit.citation if hit.citation else ''}{country}\n"
            )


def _change_lines(record: dict[str, Any]) -> str:
    name = record["name"] + (f" ({record['original_name']})" if record["original_name"] else "")
    head = f"{record['observed_at'][:10]}  {record['kind']:<7} {record['list_code']}  {name}"
    details = []
    if record["countries"]:
        details.append(", ".join(record["countries"]))
    if record["citation"]:
        details.append(record["citation"])
    if record["start_date"]:
        details.append(f"from {record['start_date']}")
    if record["kind"] == "changed" and record["changed_fields"]:
        details.append("changed: " + ", ".join(record["changed_fields"]))
    lines = [head, "    " + "; ".join(details)] if details else [head]
    if record["aliases"]:
        lines.append("    also: " + "; ".join(record["aliases"]))
    for address in record["addresses"]:
        lines.append("    at: " + address)
    return "\n".join(lines) + "\n"


def _csv(records: list[dict[str, Any]], fields: Sequence[str], stream: TextIO) -> None:
    writer = csv.writer(stream)
    writer.writerow(fields)
    for record in records:
        writer.writerow([_cell(record[name]) for name in fields])


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False) if value else ""
    return "" if value is None else value
