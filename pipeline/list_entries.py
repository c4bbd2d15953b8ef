"""A screening list's entry as chipwatch keeps it: one party on one list, the fields a change is reported
on, and the fingerprint that tells two readings of it apart. The parser (spiders/screening_list_parser.py)
makes them; the comparison (list_changes.py) and storage read them."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

CITATION = re.compile(r"\b(\d{1,3})\s*FR\s*(\d{1,6})\b")
# The fields a change is reported on; the rest of an entry is kept but does not make a change.
COMPARED_FIELDS = (
    "name",
    "alt_names",
    "addresses",
    "license_requirement",
    "license_policy",
    "citation",
    "start_date",
    "end_date",
)


@dataclass(frozen=True)
class ListEntry:
    """One party on one list, in the list's own words."""

    list_code: str  # EL, MEU, DPL, SDN ...
    list_name: str
    id: str  # the list's own id
    name: str
    alt_names: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()  # ISO 3166 alpha-2, from the addresses (and nationalities)
    citation: str | None = None  # federal_register_notice as written
    start_date: str | None = None
    end_date: str | None = None
    license_requirement: str | None = None
    license_policy: str | None = None
    entity_type: str | None = None
    programs: tuple[str, ...] = ()
    source_list_url: str | None = None
    original_name: str | None = None  # the name in its own (non-Latin) script, where the list gives one

    @property
    def key(self) -> tuple[str, str]:
        return (self.list_code, self.id)

    @property
    def latest_citation(self) -> str | None:
        """The most recent "VOL FR PAGE" the entry cites (lists append each new notice)."""
        found = CITATION.findall(self.citation or "")
        return f"{found[-1][0]} FR {found[-1][1]}" if found else None

    def compared(self) -> dict[str, Any]:
        """The fields a change is reported on, in a form where order and spacing do not count."""
        values: dict[str, Any] = {}
        for name in COMPARED_FIELDS:
            value = getattr(self, name)
            if isinstance(value, tuple):
                values[name] = sorted({" ".join(v.split()).casefold() for v in value})
            else:
                values[name] = " ".join(value.split()) if isinstance(value, str) else value
        return values

    def fingerprint(self) -> str:
        return self._fingerprint

    @cached_property
    def _fingerprint(self) -> str:
        # Cached: a comparison of two 30,000-entry versions asks for each entry's several times.
        return hashlib.sha1(json.dumps(self.compared(), sort_keys=True).encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ListEntry:
        known: dict[str, Any] = {name: data.get(name) for name in cls.__dataclass_fields__ if name in data}
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in known.items()}
        return cls(**values)
