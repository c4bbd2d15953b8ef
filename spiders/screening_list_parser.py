"""The US Consolidated Screening List (ITA, data.trade.gov) in its published shapes, to list entries.

JSON (the downloadable `consolidated.json`, or a page of the search API): {"total", "sources_used",
"results": [...]}; each result has id, source ("Entity List (EL) - Bureau of Industry and Security"),
entity_number, type, programs, name, alt_names, addresses [{address, city, state, postal_code, country}],
federal_register_notice, start_date, end_date, license_requirement, license_policy, remarks,
nationalities, citizenships, source_list_url and more. CSV (`consolidated.csv`): one column per field
(`_id` for id), lists joined with "; " and each address written "street, city, state, postal code, country".

A broken file is a FeedError (nothing of it is used); a broken row is a problem of its own and the other
rows stand.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from chipwatch.errors import FeedError
from pipeline.encoding import decode_bytes
from pipeline.list_entries import CITATION, COMPARED_FIELDS, ListEntry

__all__ = ["CITATION", "COMPARED_FIELDS", "ListEntry", "ParsedList", "list_code_of", "parse_screening_list"]

KNOWN_FIELDS = {
    "id", "_id", "source", "entity_number", "type", "programs", "name", "title", "addresses",
    "federal_register_notice", "start_date", "end_date", "standard_order", "license_requirement",
    "license_policy", "call_sign", "vessel_type", "gross_tonnage", "gross_registered_tonnage", "vessel_flag",
    "vessel_owner", "remarks", "source_list_url", "alt_names", "citizenships", "dates_of_birth",
    "nationalities", "places_of_birth", "source_information_url", "ids",
}  # fmt: skip
LIST_CODE = re.compile(r"\(([A-Z][A-Z0-9 -]{0,15})\)")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff（）()·]{2,}")
ISO_COUNTRY = re.compile(r"^[A-Z]{2}$")


@dataclass
class ParsedList:
    entries: list[ListEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one line per row (or field) that could not be used
    total: int | None = None


def parse_screening_list(body: bytes, content_type: str | None = None, url: str = "") -> ParsedList:
    """A whole list file (JSON or CSV, told apart by content type, name, then the first byte)."""
    if not body.strip():
        raise FeedError("empty file: no screening list in it")
    text, _ = decode_bytes(body, content_type or "application/json; charset=utf-8")
    text = text.lstrip("\ufeff")
    kind = (content_type or "").lower()
    looks_json = text.lstrip()[:1] in ("{", "[")
    if "json" in kind or url.lower().split("?")[0].endswith(".json") or looks_json:
        return _from_json(text)
    return _from_csv(text)


def _from_json(text: str) -> ParsedList:
    try:
        data = json.loads(text)
    except ValueError as error:
        raise FeedError(f"not a complete JSON file (truncated download?): {error}") from None
    rows: Any
    if isinstance(data, list):
        rows, total = data, None
    elif isinstance(data, dict):
        if "results" not in data and any(key in data for key in ("errors", "error", "message")):
            problem = data.get("errors") or data.get("error") or data.get("message")
            raise FeedError(f"the server returned an error: {str(problem)[:200]}")
        rows = data.get("results")
        if not isinstance(rows, list):
            raise FeedError("not a screening list: no 'results' array")
        total = data.get("total") if isinstance(data.get("total"), int) else None
    else:
        raise FeedError("not a screening list: expected a JSON object with 'results'")
    if total is not None and total != len(rows):
        raise FeedError(
            f"the file holds {len(rows)} of the list's {total} entries (a page of the search API, or a cut "
            "download): read the whole downloadable file"
        )
    parsed = _entries(rows)
    parsed.total = total
    return parsed


def _from_csv(text: str) -> ParsedList:
    if text and not text.endswith(("\n", "\r")):
        # The published file ends each row with a newline: a last row without one was cut off.
        raise FeedError("the CSV file ends in the middle of a row (truncated download?)")
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as error:
        raise FeedError(f"not a CSV screening list: {error or 'no header row'}") from None
    columns = [column.strip().lower().replace(" ", "_") for column in header]
    if "name" not in columns or "source" not in columns:
        raise FeedError("not a screening list: the CSV header has no 'name' and 'source' columns")
    rows: list[Any] = []
    problems: list[str] = []
    try:
        for number, row in enumerate(reader, 2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                problems.append(f"line {number}: {len(row)} cells where the header has {len(columns)}; row skipped")
                continue
            record: dict[str, Any] = dict(zip(columns, row, strict=True))
            for name in ("alt_names", "programs", "nationalities", "citizenships"):
                if name in record:
                    record[name] = _split(record[name])
            if "addresses" in record:
                record["addresses"] = _split(record["addresses"])
            rows.append(record)
    except csv.Error as error:
        raise FeedError(f"the CSV file is broken: {error}") from None
    parsed = _entries(rows)
    parsed.problems[:0] = problems
    return parsed


def _entries(rows: list[Any]) -> ParsedList:
    parsed = ParsedList()
    seen: dict[tuple[str, str], int] = {}
    new_fields: set[str] = set()
    for number, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            parsed.problems.append(f"entry {number}: not an object; skipped")
            continue
        new_fields.update(key for key in row if key not in KNOWN_FIELDS)
        entry, problem = _entry(row)
        if entry is None:
            parsed.problems.append(f"entry {number}: {problem}; skipped")
            continue
        if entry.key in seen:
            parsed.problems.append(
                f"entry {number}: id {entry.id!r} is already used on the {entry.list_code} list by entry "
                f"{seen[entry.key]}; the first is kept"
            )
            continue
        seen[entry.key] = number
        parsed.entries.append(entry)
    if new_fields:
        parsed.problems.append(f"fields this version of chipwatch does not read: {', '.join(sorted(new_fields))}")
    return parsed


def _entry(row: dict[str, Any]) -> tuple[ListEntry | None, str]:
    name = _text(row.get("name"))
    source = _text(row.get("source"))
    if not source:
        return None, "no 'source' (which list it is on)"
    list_code = list_code_of(source)
    if not name:
        return None, f"no name (on the {list_code} list)"
    entry_id = _text(row.get("id")) or _text(row.get("_id")) or _text(row.get("entity_number"))
    if not entry_id:
        # Without the list's own id the entry is known by its list and name.
        entry_id = "name:" + hashlib.sha1(f"{list_code}|{name.casefold()}".encode()).hexdigest()[:16]
    aliases = tuple(dict.fromkeys(a for a in (_text(a) for a in _list(row.get("alt_names"))) if a and a != name))
    addresses, countries = _addresses(row.get("addresses"))
    for key in ("nationalities", "citizenships"):
        countries += tuple(c for c in (_text(v) for v in _list(row.get(key))) if c and ISO_COUNTRY.match(c))
    return (
        ListEntry(
            list_code=list_code,
            list_name=source,
            id=entry_id,
            name=name,
            alt_names=aliases,
            addresses=addresses,
            countries=tuple(dict.fromkeys(countries)),
            citation=_text(row.get("federal_register_notice")),
            start_date=_text(row.get("start_date")),
            end_date=_text(row.get("end_date")),
            license_requirement=_text(row.get("license_requirement")),
            license_policy=_text(row.get("license_policy")),
            entity_type=_text(row.get("type")),
            programs=tuple(p for p in (_text(p) for p in _list(row.get("programs"))) if p),
            source_list_url=_text(row.get("source_list_url")),
            original_name=_original_name(name, aliases, row),
        ),
        "",
    )


def list_code_of(source: str) -> str:
    """ "Entity List (EL) - Bureau of Industry and Security" -> EL; a list without a code, its name in capitals."""
    match = LIST_CODE.search(source)
    if match:
        return match.group(1).strip()
    return re.sub(r"[^A-Z0-9]+", "-", source.upper()).strip("-")[:24] or "LIST"


def _addresses(value: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    lines, countries = [], []
    for address in _list(value):
        if isinstance(address, dict):
            parts = [_text(address.get(k)) for k in ("address", "city", "state", "postal_code", "country")]
            country = _text(address.get("country"))
        else:
            text = _text(address)
            parts = [text]
            tail = text.rsplit(",", 1)[-1].strip() if text else ""
            country = tail if ISO_COUNTRY.match(tail) else None
        line = ", ".join(part for part in parts if part)
        if line:
            lines.append(line)
        if country and ISO_COUNTRY.match(country.upper()):
            countries.append(country.upper())
    return tuple(lines), tuple(countries)


def _original_name(name: str, aliases: Iterable[str], row: dict[str, Any]) -> str | None:
    for candidate in (name, *aliases):
        if CJK.search(candidate):
            return candidate
    # Lists put a name in its own script where they can: in remarks, a title, even an address line.
    for key, value in row.items():
        if key in ("name", "alt_names") or not isinstance(value, str):
            continue
        match = CJK_RUN.search(value)
        if match:
            return match.group().strip("（）() ")
    return None


def _list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return _split(value)
    return [value]


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()] if isinstance(value, str) else []


def _text(value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    return " ".join(value.split()) or None if isinstance(value, str) else None
