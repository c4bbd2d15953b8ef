"""Snippets for search results: the passage around the first word of the query, with every word marked.

Worked out on the stored text rather than by FTS5's snippet(), which would show the index's form of
Chinese (overlapping character pairs).
"""

from __future__ import annotations

import re

from storage.fts import OPERATORS, QUERY_TOKEN

SNIPPET_CHARS = 160


def query_terms(query: str | None) -> list[str]:
    """The words and phrases of a search query, without operators, quotes or prefix stars."""
    terms = []
    for token in QUERY_TOKEN.findall(query or ""):
        if token in ("(", ")") or token in OPERATORS:
            continue
        term = token.strip('"').rstrip("*").strip()
        if term:
            terms.append(term)
    return terms


def snippet(
    text: str | None, terms: list[str], width: int = SNIPPET_CHARS, mark: tuple[str, str] = ("[", "]")
) -> str | None:
    """About width characters of text around the first term found, each term wrapped in mark; None when no
    term occurs (a match through stemming: 'licences' for 'licence' is found by its stem too)."""
    if not text or not terms:
        return None
    flat = " ".join(text.split())
    pattern = _pattern(terms)
    found = pattern.search(flat)
    if found is None:
        return None
    start = max(0, found.start() - width // 3)
    end = min(len(flat), start + width)
    start = max(0, min(start, end - width))
    window = flat[start:end]
    marked = pattern.sub(lambda m: f"{mark[0]}{m.group()}{mark[1]}", window)
    return ("…" if start else "") + marked + ("…" if end < len(flat) else "")


def _pattern(terms: list[str]) -> re.Pattern[str]:
    parts = []
    for term in sorted(set(terms), key=len, reverse=True):
        escaped = r"\s+".join(re.escape(word) for word in term.split())
        # Latin words match at word starts, with any ending (the index stems them); CJK anywhere.
        parts.append(rf"\b{escaped}\w*" if re.match(r"\w", term, re.ASCII) else escaped)
    return re.compile("|".join(parts), re.IGNORECASE)
