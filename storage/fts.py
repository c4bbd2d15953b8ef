"""Full-text indexing that finds Chinese words as well as English ones.

FTS5's unicode61 tokenizer treats a run of Chinese characters as one token, so 英伟达 inside a sentence
would never match. We index CJK runs as overlapping character bigrams ("英伟达" -> "英伟 伟达") and turn
each CJK run in a query into the phrase of its bigrams, which matches the word wherever it appears.
"""

from __future__ import annotations

import re

# CJK Unified Ideographs (+ extension A, compatibility ideographs), kana and hangul syllables.
CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]+")
QUERY_TOKEN = re.compile(r'"[^"]*"?|\(|\)|[^\s()"]+')
OPERATORS = {"AND", "OR", "NOT"}


def _bigrams(run: str) -> str:
    if len(run) == 1:
        return run
    return " ".join(run[i : i + 2] for i in range(len(run) - 1))


def index_text(text: str | None) -> str:
    """The form of a title or body that goes into the FTS table."""
    if not text:
        return ""
    return CJK_RUN.sub(lambda match: f" {_bigrams(match.group())} ", text)


def fts_query(query: str) -> str:
    """Turn a user's query into an FTS5 MATCH expression.

    Bare words and quoted phrases keep their meaning, AND/OR/NOT and parentheses pass through, and every
    CJK run becomes a phrase of bigrams. A single CJK character matches as a prefix.
    """
    parts: list[str] = []
    for token in QUERY_TOKEN.findall(query):
        if token in ("(", ")") or token in OPERATORS:
            parts.append(token)
            continue
        prefix = token.endswith("*") and not token.startswith('"')
        words = token.strip('"').rstrip("*") if prefix else token.strip('"')
        if not words.strip():
            continue
        pieces = []
        for chunk in re.split(r"\s+", index_text(words).strip()):
            if chunk:
                pieces.append(chunk.replace('"', '""'))
        phrase = '"' + " ".join(pieces) + '"'
        single_cjk = len(words) == 1 and CJK_RUN.fullmatch(words)
        parts.append(phrase + ("*" if prefix or single_cjk else ""))
    return " ".join(parts)
