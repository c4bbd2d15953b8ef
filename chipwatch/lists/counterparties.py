"""A team's counterparties as `screen` reads them: a CSV of name, optional country, optional id.

Files come from spreadsheets: UTF-8 with or without a BOM, or GBK/GB18030 from a Chinese Excel, with or
without a header row, with blank and repeated rows. Each row that cannot be read is a problem with its row
number; every other row is screened.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from chipwatch.errors import ChipwatchError

# Header words for each column, in the languages such files come in.
NAME_HEADERS = {
    "name",
    "counterparty",
    "company",
    "entity",
    "party",
    "customer",
    "supplier",
    "名称",
    "公司",
    "企业名称",
}
COUNTRY_HEADERS = {"country", "country code", "nation", "国家", "國家", "国家/地区"}
ID_HEADERS = {"id", "ref", "reference", "number", "customer id", "account", "编号", "編號"}
ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass(frozen=True)
class Counterparty:
    row: int  # the line in the file (1 is the first), for the team to find it
    name: str
    country: str | None = None
    id: str | None = None


@dataclass
class Counterparties:
    parties: list[Counterparty] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    encoding: str = "utf-8"


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was in: UTF-8 (a BOM is dropped), else GB18030 (which reads GBK)."""
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), "utf-8" if encoding == "utf-8-sig" else encoding
        except UnicodeDecodeError:
            continue
    raise ChipwatchError("the counterparty file is neither UTF-8 nor GBK/GB18030 text; save it as UTF-8 CSV")


def read_counterparties(path: Path) -> Counterparties:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ChipwatchError(f"cannot read {path}: {error.strerror or error}") from None
    return parse_counterparties(data, str(path))


def parse_counterparties(data: bytes, label: str = "the counterparty file") -> Counterparties:
    text, encoding = decode(data)
    if not text.strip():
        raise ChipwatchError(f"{label} is empty: give one counterparty per line (name, country, id)")
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text, newline=""), dialect))
    result = Counterparties(encoding=encoding)
    columns = _columns(rows[0]) if rows else None
    start = 1 if columns else 0
    name_at, country_at, id_at = columns or (0, 1, 2)
    seen: set[tuple[str, str | None, str | None]] = set()
    for number, cells in enumerate(rows[start:], start=start + 1):
        cells = [cell.strip() for cell in cells]
        if not any(cells):
            continue
        name = cells[name_at] if name_at < len(cells) else ""
        if not name:
            result.problems.append(f"row {number}: no name; skipped")
            continue
        country = _cell(cells, country_at)
        if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
            result.problems.append(
                f"row {number}: country {country!r} is not a two-letter code; screened without a country"
            )
            country = None
        party_id = _cell(cells, id_at)
        key = (name.casefold(), country.upper() if country else None, party_id)
        if key in seen:
            result.problems.append(f"row {number}: repeats an earlier row ({name}); screened once")
            continue
        seen.add(key)
        result.parties.append(Counterparty(number, name, country.upper() if country else None, party_id))
    if not result.parties:
        raise ChipwatchError(f"{label} has no counterparty with a name ({len(result.problems)} rows skipped)")
    return result


def _columns(header: list[str]) -> tuple[int, int, int] | None:
    """Where name, country and id are when the first row is a header (an absent column is out of range)."""
    cells = [cell.strip().casefold() for cell in header]
    if not any(cell in NAME_HEADERS for cell in cells):
        return None
    absent = len(cells) + 1

    def find(words: set[str]) -> int:
        return next((i for i, cell in enumerate(cells) if cell in words), absent)

    return find(NAME_HEADERS), find(COUNTRY_HEADERS), find(ID_HEADERS)


def _cell(cells: list[str], at: int) -> str | None:
    return (cells[at] or None) if at < len(cells) else None
