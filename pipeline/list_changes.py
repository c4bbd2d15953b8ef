"""What changed on a screening list between the stored snapshot and today's reading, and how those changes
read as news: one item per list and Federal Register citation.

Pure functions over list entries (pipeline/list_entries.py); the spider calls them, the store
stage writes what they found (storage/screening_lists.py).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pipeline.entities import citation_key
from pipeline.list_entries import COMPARED_FIELDS, ListEntry

# A reading that would take more than this share of a list's stored entries off it is refused: lists grow
# by notices a few dozen entries at a time, and a file that lost half a list was cut, not revised.
MAX_REMOVED_SHARE = 0.5
MIN_ENTRIES_FOR_GUARD = 20

COUNTRY_NAMES = {
    "CN": "China", "HK": "Hong Kong", "TW": "Taiwan", "MO": "Macau", "RU": "Russia", "IR": "Iran",
    "KP": "North Korea", "BY": "Belarus", "SG": "Singapore", "MY": "Malaysia", "AE": "the United Arab Emirates",
    "TR": "Turkey", "IN": "India", "PK": "Pakistan", "SY": "Syria", "VE": "Venezuela", "CU": "Cuba",
    "US": "the United States", "GB": "the United Kingdom", "DE": "Germany", "FR": "France", "JP": "Japan",
    "KR": "South Korea", "TH": "Thailand", "VN": "Vietnam", "ID": "Indonesia", "IL": "Israel",
}  # fmt: skip
LIST_NAMES = {
    "EL": "Entity List", "MEU": "Military End-User List", "DPL": "Denied Persons List",
    "UVL": "Unverified List", "SDN": "Specially Designated Nationals List", "DTC": "ITAR Debarred List",
    "ISN": "Nonproliferation Sanctions", "CMIC": "Chinese Military-Industrial Complex Companies List",
    "SSI": "Sectoral Sanctions Identifications List", "FSE": "Foreign Sanctions Evaders List",
}  # fmt: skip
# Lists whose entries are penalties for what a party did: their changes are enforcement as well.
ENFORCEMENT_LISTS = {"DPL", "DTC", "ISN"}
AGENCY_OF_LIST = {"EL": "bis", "MEU": "bis", "DPL": "bis", "UVL": "bis", "SDN": "ofac", "CMIC": "ofac"}


class SuspiciousReading(ValueError):
    """A reading that would remove too much of a list to be believed."""


@dataclass(frozen=True)
class Change:
    kind: str  # added | removed | changed | listed (the first reading of a list)
    entry: ListEntry  # the entry as it is now (as it was, for a removal)
    before: ListEntry | None = None
    fields: tuple[str, ...] = ()  # for a change: which compared fields differ

    @property
    def citation(self) -> str | None:
        return self.entry.latest_citation

    def key(self) -> str:
        """Names this change and no other: the same change found twice is stored once."""
        return f"{self.kind}|{self.entry.list_code}|{self.entry.id}|{self.entry.fingerprint()}"

    def row(self) -> dict[str, object]:
        entry = self.entry
        return {
            "change_key": self.key(),
            "kind": self.kind,
            "list_code": entry.list_code,
            "list_name": entry.list_name,
            "entry_id": entry.id,
            "previous_id": self.before.id if self.before is not None and self.before.id != entry.id else None,
            "name": entry.name,
            "original_name": entry.original_name,
            "alt_names": list(entry.alt_names),
            "countries": list(entry.countries),
            "addresses": list(entry.addresses),
            "citation": self.citation,
            "start_date": entry.start_date,
            "fields": list(self.fields),
            "before": {name: getattr(self.before, name) for name in self.fields} if self.before else {},
            "entry": entry.to_dict(),
        }


def diff_lists(stored: Mapping[tuple[str, str], ListEntry], current: Iterable[ListEntry]) -> list[Change]:
    """Entries added, removed and changed, by each list's own id. An entry whose id changed but whose
    name did not (lists that key entries by a hash of them) is one change, not a removal and an addition."""
    current_by_key = {entry.key: entry for entry in current}
    if not stored:
        return [Change("listed", entry) for entry in current_by_key.values()]
    added = [entry for key, entry in current_by_key.items() if key not in stored]
    removed = [entry for key, entry in stored.items() if key not in current_by_key]
    changes: list[Change] = []
    for key, entry in current_by_key.items():
        before = stored.get(key)
        if before is not None and before.fingerprint() != entry.fingerprint():
            changes.append(Change("changed", entry, before, _differing(before, entry)))
    removed_by_name = {(e.list_code, e.name.casefold()): e for e in removed}
    for entry in added:
        before = removed_by_name.pop((entry.list_code, entry.name.casefold()), None)
        if before is None:
            changes.append(Change("added", entry))
        elif before.fingerprint() != entry.fingerprint():
            changes.append(Change("changed", entry, before, _differing(before, entry)))
    changes.extend(Change("removed", entry) for entry in removed_by_name.values())
    _check_removals(stored, changes)
    return changes


def _differing(before: ListEntry, after: ListEntry) -> tuple[str, ...]:
    old, new = before.compared(), after.compared()
    return tuple(name for name in COMPARED_FIELDS if old[name] != new[name])


def _check_removals(stored: Mapping[tuple[str, str], ListEntry], changes: list[Change]) -> None:
    stored_per_list = Counter(code for code, _ in stored)
    removed_per_list = Counter(c.entry.list_code for c in changes if c.kind == "removed")
    for code, removed in removed_per_list.items():
        held = stored_per_list[code]
        if held >= MIN_ENTRIES_FOR_GUARD and removed > held * MAX_REMOVED_SHARE:
            raise SuspiciousReading(
                f"the {code} list would lose {removed} of its {held} entries in one reading: the file looks "
                "cut short, so the stored snapshot stays"
            )


@dataclass
class ChangeGroup:
    """The changes of one reading to one list under one Federal Register citation: one item."""

    list_code: str
    list_name: str
    citation: str | None
    changes: list[Change] = field(default_factory=list)

    @property
    def first_reading(self) -> bool:
        return all(change.kind == "listed" for change in self.changes)

    def identity(self) -> str:
        digest = hashlib.sha1("\n".join(sorted(c.key() for c in self.changes)).encode()).hexdigest()
        return digest[:20]

    def headline(self) -> str:
        name = LIST_NAMES.get(self.list_code) or self.list_name.split(" - ")[0]
        if self.first_reading:
            return f"{name}: first reading, {_entries(len(self.changes))} recorded"
        kinds = Counter(change.kind for change in self.changes)
        parts = []
        if kinds["added"]:
            countries = Counter(
                c for change in self.changes if change.kind == "added" for c in change.entry.countries[:1]
            )
            parts.append(f"{_entries(kinds['added'])} added{_under(countries)}")
        # The first part says "entries"; the rest read on from it ("3 entries added, 1 revised").
        for kind, verb in (("changed", "revised"), ("removed", "removed")):
            if kinds[kind]:
                parts.append(f"{kinds[kind] if parts else _entries(kinds[kind])} {verb}")
        return f"{name}: {', '.join(parts)}" + (f" — {self.citation}" if self.citation else "")

    def text(self) -> str:
        """The item's body: one paragraph per change, the names in every script the list gives."""
        if self.first_reading:
            countries = Counter(c for change in self.changes for c in change.entry.countries[:1])
            top = ", ".join(f"{_country(code)} {count}" for code, count in countries.most_common(8))
            return (
                f"chipwatch read the {self.list_name} for the first time: {_entries(len(self.changes))}"
                + (f" ({top})" if top else "")
                + ". Later readings report each addition, removal and revision."
            )
        lines = []
        verbs = {"added": "Added", "removed": "Removed", "changed": "Revised"}
        for change in sorted(self.changes, key=lambda c: (c.kind, c.entry.name.casefold())):
            entry = change.entry
            line = f"{verbs[change.kind]}: {entry.name}"
            if entry.original_name and entry.original_name != entry.name:
                line += f" ({entry.original_name})"
            aliases = [name for name in entry.alt_names if name != entry.original_name]
            if aliases:
                line += f"; also known as {', '.join(aliases[:6])}"
            if entry.addresses:
                line += f"; {entry.addresses[0]}"
            if change.kind == "changed":
                line += f"; changed: {', '.join(_field_label(name) for name in change.fields)}"
            if entry.license_requirement and change.kind == "added":
                line += f". Licence requirement: {entry.license_requirement}"
            if entry.license_policy and change.kind == "added":
                line += f". Licence policy: {entry.license_policy}"
            lines.append(line.rstrip(".") + ".")
        cited = f" under {self.citation}" if self.citation else ""
        return f"Changes to the {self.list_name}{cited}.\n\n" + "\n\n".join(lines)

    def published(self, fetched_at: str) -> str:
        """When the changes took effect: the start date the list gives its added entries (the day of the
        notice), else when they were found."""
        starts = [c.entry.start_date for c in self.changes if c.kind == "added" and c.entry.start_date]
        latest = max(starts) if starts and len(set(starts)) == 1 else None
        return latest if latest and len(latest) == 10 and latest <= fetched_at[:10] else fetched_at

    def topics(self) -> list[str]:
        return ["export-controls", "enforcement"] if self.list_code in ENFORCEMENT_LISTS else ["export-controls"]

    def entities(self) -> list[str]:
        """What the changes name, as entity keys: the countries, the list's agency, the citation."""
        keys = {f"country:{c.lower()}" for change in self.changes for c in change.entry.countries}
        agency = AGENCY_OF_LIST.get(self.list_code)
        if agency:
            keys.add(f"agency:{agency}")
        if self.list_code == "EL":
            keys.add("bill:entity-list")
        citation = citation_key(self.citation)
        if citation:
            keys.add(citation)
        return sorted(keys)


def group_changes(changes: Iterable[Change]) -> list[ChangeGroup]:
    """One group per list and citation (a first reading: one per list), in a stable order."""
    groups: dict[tuple[str, str | None], ChangeGroup] = {}
    names: dict[str, str] = {}
    by_key: dict[tuple[str, str | None], list[Change]] = defaultdict(list)
    for change in changes:
        citation = None if change.kind == "listed" else change.citation
        by_key[(change.entry.list_code, citation)].append(change)
        names.setdefault(change.entry.list_code, change.entry.list_name)
    for key in sorted(by_key, key=lambda k: (k[0], k[1] or "")):
        groups[key] = ChangeGroup(key[0], names[key[0]], key[1], by_key[key])
    return list(groups.values())


def _entries(count: int) -> str:
    return f"{count:,} entr{'y' if count == 1 else 'ies'}"


def _under(countries: Counter[str]) -> str:
    if not countries:
        return ""
    if len(countries) == 1:
        return f" under {_country(next(iter(countries)))}"
    return " under " + ", ".join(f"{_country(code)} ({count})" for code, count in countries.most_common(4))


def _country(code: str) -> str:
    return COUNTRY_NAMES.get(code, code)


def _field_label(name: str) -> str:
    return {
        "alt_names": "aliases",
        "license_requirement": "licence requirement",
        "license_policy": "licence policy",
    }.get(name, name.replace("_", " "))
