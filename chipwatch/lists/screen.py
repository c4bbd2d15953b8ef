"""Screening counterparties against the stored lists: exact, normalised and fuzzy matches on every name and
alias, Chinese names in one script, and pinyin where the list gives a Chinese party's name in Latin letters.

Fuzzy comparison (rapidfuzz) runs only between names that share a word, a pair of Chinese characters or a
pinyin run, and skips words so common they tell nothing apart ("technology", "china"): that is what makes
5,000 counterparties against 30,000 entries take seconds, not the hours an all-pairs comparison would.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from rapidfuzz import fuzz

from chipwatch.lists.counterparties import Counterparty
from chipwatch.lists.names import has_cjk, normalise_name, pinyin_forms, plain_name, tokens

DEFAULT_THRESHOLD = 88.0
# A word in more than this share of the names (and more than MIN_COMMON of them) is too common to block on.
COMMON_SHARE = 0.01
MIN_COMMON = 50
MAX_CANDIDATES = 400
KIND_ORDER = {"exact": 0, "normalised": 1, "fuzzy": 2, "pinyin": 3}


@dataclass(frozen=True)
class Hit:
    row: int
    counterparty: str
    counterparty_id: str | None
    counterparty_country: str | None
    score: float
    match: str  # exact | normalised | fuzzy | pinyin
    matched_name: str  # the list's name or alias that matched
    entry_name: str
    entry_id: str
    list_code: str
    list_name: str
    citation: str | None
    countries: list[str]
    country_match: bool | None  # None when the counterparty gives no country (a hit is never dropped for it)
    source: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Name:
    entry: int  # index into Screener.entries
    text: str  # as the list writes it
    plain: str
    normalised: str
    compact: str  # normalised without spaces (compared with pinyin)


class Screener:
    """The stored entries and every name they go by, indexed once for many counterparties."""

    def __init__(self, entries: Iterable[Mapping[str, Any]]) -> None:
        self.entries = list(entries)
        self.names: list[_Name] = []
        self.by_plain: dict[str, list[int]] = defaultdict(list)
        self.by_normalised: dict[str, list[int]] = defaultdict(list)
        self.by_token: dict[str, list[int]] = defaultdict(list)
        for index, entry in enumerate(self.entries):
            seen: set[str] = set()
            for text in [entry.get("name") or "", *(entry.get("alt_names") or []), entry.get("original_name") or ""]:
                if not text or text in seen:
                    continue
                seen.add(text)
                normalised = normalise_name(text)
                name = _Name(index, text, plain_name(text), normalised, normalised.replace(" ", ""))
                position = len(self.names)
                self.names.append(name)
                self.by_plain[name.plain].append(position)
                if normalised:
                    self.by_normalised[normalised].append(position)
                for token in tokens(normalised) | ({name.compact} if not has_cjk(normalised) else set()):
                    self.by_token[token].append(position)
        limit = max(MIN_COMMON, int(len(self.names) * COMMON_SHARE))
        self.common = {token for token, positions in self.by_token.items() if len(positions) > limit}
        self._common_sets: dict[str, set[int]] = {}

    def screen(self, party: Counterparty, threshold: float = DEFAULT_THRESHOLD) -> list[Hit]:
        """The entries the counterparty may be, best first (one hit per entry: its best-matching name)."""
        best: dict[int, tuple[float, str, _Name]] = {}

        def offer(position: int, score: float, kind: str) -> None:
            name = self.names[position]
            current = best.get(name.entry)
            if current is None or (score, -KIND_ORDER[kind]) > (current[0], -KIND_ORDER[current[1]]):
                best[name.entry] = (score, kind, name)

        plain = plain_name(party.name)
        normalised = normalise_name(party.name)
        for position in self.by_plain.get(plain, []):
            offer(position, 100.0, "exact")
        if normalised:
            for position in self.by_normalised.get(normalised, []):
                offer(position, 100.0, "normalised")
            for position in self._candidates(tokens(normalised) | {normalised.replace(" ", "")}):
                name = self.names[position]
                if name.entry in best and best[name.entry][0] >= 100:
                    continue
                score = fuzz.token_sort_ratio(normalised, name.normalised, score_cutoff=threshold)
                if score:
                    offer(position, round(score, 1), "fuzzy")
            if has_cjk(normalised):
                compact, runs = pinyin_forms(normalised)
                if compact:
                    for position in self._candidates(runs):
                        name = self.names[position]
                        if has_cjk(name.normalised):
                            continue
                        score = fuzz.ratio(compact, name.compact, score_cutoff=threshold)
                        if score:
                            offer(position, round(score, 1), "pinyin")
        hits = [self._hit(party, *found) for found in best.values()]
        return sorted(hits, key=lambda h: (-h.score, KIND_ORDER[h.match], h.list_code, h.entry_name))

    def _candidates(self, query_tokens: Iterable[str]) -> list[int]:
        """The names worth a fuzzy comparison: those sharing the query's rare words, most shared first; a
        query of common words only ("China Technology Trading") compares with the names that have them all."""
        usable = [t for t in query_tokens if t in self.by_token]
        rare = [t for t in usable if t not in self.common]
        if not rare:
            if len(usable) < 2:
                return []  # one common word alone says nothing about who the party is
            postings = sorted((self._common_set(t) for t in usable), key=len)
            shared = postings[0].intersection(*postings[1:])
            return sorted(shared)[:MAX_CANDIDATES]
        counts: dict[int, int] = defaultdict(int)
        for token in rare:
            for position in self.by_token[token]:
                counts[position] += 1
        if len(counts) <= MAX_CANDIDATES:
            return list(counts)
        return heapq.nlargest(MAX_CANDIDATES, counts, key=counts.__getitem__)

    def _common_set(self, token: str) -> set[int]:
        found = self._common_sets.get(token)
        if found is None:
            found = self._common_sets[token] = set(self.by_token[token])
        return found

    def _hit(self, party: Counterparty, score: float, kind: str, name: _Name) -> Hit:
        entry = self.entries[name.entry]
        countries = list(entry.get("countries") or [])
        country = party.country.upper() if party.country else None
        return Hit(
            row=party.row,
            counterparty=party.name,
            counterparty_id=party.id,
            counterparty_country=country,
            score=score,
            match=kind,
            matched_name=name.text,
            entry_name=entry.get("name") or "",
            entry_id=entry.get("id") or "",
            list_code=entry.get("list_code") or "",
            list_name=entry.get("list_name") or "",
            citation=_latest_citation(entry.get("citation")),
            countries=countries,
            country_match=(country in countries) if country and countries else None,
            source=entry.get("source") or "",
        )


def screen_all(screener: Screener, parties: Iterable[Counterparty], threshold: float) -> list[Hit]:
    return [hit for party in parties for hit in screener.screen(party, threshold)]


def _latest_citation(citation: str | None) -> str | None:
    from pipeline.list_entries import CITATION

    found = CITATION.findall(citation or "")
    return f"{found[-1][0]} FR {found[-1][1]}" if found else None
