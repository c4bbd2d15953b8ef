"""The demo's fictional screening list (demo/lists.toml), served in the Consolidated Screening List's shapes.

Version N holds the entries that name N, each as revised by the last of its from_version tables at or before
N. A [[truncated]] version is another version's file cut off halfway, as a dropped download leaves it.
"""

from __future__ import annotations

import csv
import io
import json
import tomllib
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

LISTS = Path(str(files("demo").joinpath("lists.toml")))
CSV_COLUMNS = (
    "_id", "source", "entity_number", "type", "programs", "name", "title", "addresses", "federal_register_notice",
    "start_date", "end_date", "standard_order", "license_requirement", "license_policy", "call_sign",
    "vessel_type", "gross_tonnage", "gross_registered_tonnage", "vessel_flag", "vessel_owner", "remarks",
    "source_list_url", "alt_names", "citizenships", "dates_of_birth", "nationalities", "places_of_birth",
    "source_information_url", "ids",
)  # fmt: skip
FICTION_NOTICE = "FICTIONAL demo screening list for chipwatch: no real party, address or notice."


@cache
def demo_lists(path: Path = LISTS) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def versions() -> list[int]:
    data = demo_lists()
    return sorted({v for entry in data["entry"] for v in entry["versions"]})


def latest_good_version() -> int:
    truncated = {t["version"] for t in demo_lists().get("truncated", [])}
    return max(v for v in versions() if v not in truncated)


def expected_changes(version: int) -> list[dict[str, Any]]:
    """The changes version makes against the one before, as lists.toml states them."""
    for expect in demo_lists().get("expect", []):
        if expect["version"] == version:
            return list(expect["changes"])
    return []


def entries_of(version: int) -> list[dict[str, Any]]:
    results = []
    for raw in demo_lists()["entry"]:
        if version not in raw["versions"]:
            continue
        entry = {k: v for k, v in raw.items() if k not in ("versions", "from_version")}
        revision = raw.get("from_version")
        if revision and revision["version"] <= version:
            entry.update({k: v for k, v in revision.items() if k != "version"})
        results.append(_published_shape(entry))
    return results


def _published_shape(entry: dict[str, Any]) -> dict[str, Any]:
    shaped: dict[str, Any] = {column.lstrip("_"): None for column in CSV_COLUMNS}
    shaped.update({"programs": [], "alt_names": [], "addresses": [], "ids": [], "citizenships": [],
                   "dates_of_birth": [], "nationalities": [], "places_of_birth": []})  # fmt: skip
    shaped.update(entry)
    shaped["addresses"] = [
        {"address": a.get("address"), "city": a.get("city"), "state": a.get("state"),
         "postal_code": a.get("postal_code"), "country": a.get("country")}
        for a in entry.get("addresses", [])
    ]  # fmt: skip
    shaped["remarks"] = FICTION_NOTICE
    return shaped


def _truncated_of(version: int) -> int | None:
    for truncated in demo_lists().get("truncated", []):
        if truncated["version"] == version:
            return int(truncated["of"])
    return None


def list_json(version: int) -> tuple[bytes, str]:
    whole = _truncated_of(version)
    results = entries_of(whole or version)
    body = {
        "total": len(results),
        "sources_used": [
            {"source": name, "source_last_updated": f"2025-12-{version:02d}T00:00:00-05:00"}
            for name in sorted({r["source"] for r in results})
        ],
        "results": results,
        "description": FICTION_NOTICE,
    }
    data = json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8")
    if whole is not None:
        data = data[: len(data) // 2]
    return data, "application/json; charset=utf-8"


def list_csv(version: int) -> tuple[bytes, str]:
    whole = _truncated_of(version)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries_of(whole or version):
        row = []
        for column in CSV_COLUMNS:
            value: Any = entry.get(column.lstrip("_"))
            if column == "addresses":
                value = "; ".join(", ".join(str(a[k]) for k in a if a[k]) for a in value or [])
            elif isinstance(value, list):
                value = "; ".join(str(v) for v in value)
            row.append("" if value is None else value)
        writer.writerow(row)
    data = out.getvalue().encode("utf-8")
    if whole is not None:
        data = data[: len(data) // 2]
    return data, "text/csv; charset=utf-8"
