"""Snippets for search results: the passage around the first word of the query, with every word marked.

Worked out on the stored text rather than by FTS5's snippet(), which would show the index's form of
Chinese (overlapping character pairs).
"""

from __future__ import annotations

import re

from pipeline.language import to_simplified
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
    # Matched on the text folded to one script, character for character (so positions stay the same):
    # 輝達 in the text is marked for a search of 辉达, as the index found it.
    folded = to_simplified(flat)
    pattern = _pattern([to_simplified(term) for term in terms])
    found = pattern.search(folded)
    if found is None:
        return None
    start = max(0, found.start() - width // 3)
    end = min(len(flat), start + width)
    start = max(0, min(start, end - width))
    pieces, at = [], start
    for match in pattern.finditer(folded, start, end):
        pieces += [flat[at : match.start()], mark[0], flat[match.start() : match.end()], mark[1]]
        at = match.end()
    pieces.append(flat[at:end])
    return ("…" if start else "") + "".join(pieces) + ("…" if end < len(flat) else "")


# Word characters of alphabetic scripts: a Latin word's ending stops where Chinese (or kana, hangul) begins.
LATIN_WORD_CHAR = r"(?:(?![\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af])\w)"


def _pattern(terms: list[str]) -> re.Pattern[str]:
    parts = []
    for term in sorted(set(terms), key=len, reverse=True):
        escaped = r"\s+".join(re.escape(word) for word in term.split())
        # Latin words match at word starts, with any ending (the index stems them), also right after a
        # Chinese character (英伟达H200); CJK anywhere.
        if re.match(r"\w", term, re.ASCII):
            parts.append(rf"(?<!{LATIN_WORD_CHAR}){escaped}{LATIN_WORD_CHAR}*")
        else:
            parts.append(escaped)
    return re.compile("|".join(parts), re.IGNORECASE)
