"""Full-text indexing that finds Chinese words as well as English ones, and filters inside the index.

FTS5's unicode61 tokenizer treats a run of Chinese characters as one token, so 英伟达 inside a sentence
would never match. We index CJK runs as overlapping character bigrams ("英伟达" -> "英伟 伟达") and turn
each CJK run in a query into the phrase of its bigrams, which matches the word wherever it appears.

Both the index and every query are folded to one script first, with OpenCC's Taiwan-to-mainland
conversion (`tw2sp`: characters and the common vocabulary, so 輝達/英偉達 -> 英伟达, 晶片 -> 芯片,
伺服器 -> 服务器): a word written in either script finds the other. OpenCC is the maintained reference
for this conversion, with the phrase tables a character map lacks.

A third column, `facets`, holds tokens for the article's month, language and topics (zm202512, zlzh,
ztexportcontrols). A search with a topic, language or date filter adds them to the MATCH, so the index
intersects them with the words instead of handing back every article that uses a common word. User
queries are confined to title and text, so the tokens never match what people type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import opencc

# CJK Unified Ideographs (+ extension A, compatibility ideographs), kana and hangul syllables.
CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]+")
QUERY_TOKEN = re.compile(r'"[^"]*"?|\(|\)|[^\s()"]+')
OPERATORS = {"AND", "OR", "NOT"}
TEXT_COLUMNS = "{title text}"
# Month tokens narrow a date filter only while there are few of them; a longer window is not selective.
MAX_MONTH_TOKENS = 24


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("tw2sp")


def fold_script(text: str) -> str:
    """Chinese in one script (Simplified, mainland vocabulary), for matching; other text unchanged."""
    return CJK_RUN.sub(lambda match: _converter().convert(match.group()), text)


def _bigrams(run: str) -> str:
    if len(run) == 1:
        return run
    return " ".join(run[i : i + 2] for i in range(len(run) - 1))


def index_text(text: str | None) -> str:
    """The form of a title or body that goes into the FTS table."""
    if not text:
        return ""
    return CJK_RUN.sub(lambda match: f" {_bigrams(_converter().convert(match.group()))} ", text)


def facets(moment: str | None, lang: str | None, topics: Iterable[str]) -> str:
    """The facet tokens of an article: its month (from its moment, YYYY-MM...), language and topics."""
    tokens = []
    if moment and len(moment) >= 7:
        tokens.append(month_token(moment[:7]))
    if lang:
        tokens += [lang_token(lang.split("-")[0]), lang_token(lang)]
    tokens += [topic_token(topic) for topic in topics]
    return " ".join(dict.fromkeys(tokens))


def month_token(month: str) -> str:
    return "zm" + month.replace("-", "")


def lang_token(lang: str) -> str:
    return "zl" + "".join(char for char in lang.lower() if char.isalnum())


def topic_token(topic: str) -> str:
    return "zt" + "".join(char for char in topic.lower() if char.isalnum())


def facet_filter(*, topic: str | None = None, lang: str | None = None, months: list[str] | None = None) -> str:
    """MATCH terms that keep only articles with these facets ('' when there is nothing to add)."""
    terms = []
    if topic:
        terms.append(f"facets : {topic_token(topic)}")
    if lang:
        terms.append(f"facets : {lang_token(lang)}")
    if months and len(months) <= MAX_MONTH_TOKENS:
        terms.append("facets : (" + " OR ".join(month_token(month) for month in months) + ")")
    return " AND ".join(terms)


def months_between(since: str | None, until: str | None, first: str, last: str) -> list[str]:
    """The YYYY-MM months a [since, until) window touches, bounded by the stored range [first, last]."""
    start = max(since[:7], first[:7]) if since else first[:7]
    end = min(until[:7], last[:7]) if until else last[:7]
    year, month = int(start[:4]), int(start[5:7])
    months: list[str] = []
    while f"{year:04d}-{month:02d}" <= end and len(months) <= MAX_MONTH_TOKENS:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def fts_query(query: str) -> str:
    """Turn a user's query into an FTS5 MATCH expression.

    Bare words and quoted phrases keep their meaning, AND/OR/NOT and parentheses pass through, and every
    CJK run becomes a phrase of bigrams. A single CJK character matches as a prefix.
    """
    parts: list[str] = []

    def add(part: str) -> None:
        # FTS5 joins bare phrases with an implicit AND, but not a parenthesised group: say AND outright.
        if (
            part not in (")",)
            and part not in OPERATORS
            and parts
            and parts[-1] not in ("(",)
            and parts[-1] not in OPERATORS
        ):
            parts.append("AND")
        parts.append(part)

    for token in QUERY_TOKEN.findall(query):
        if token in ("(", ")") or token in OPERATORS:
            add(token)
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
        single_cjk = len(words) == 1 and bool(CJK_RUN.fullmatch(words))
        add(phrase + ("*" if prefix or single_cjk else ""))
    if not any(part not in ("(", ")") and part not in OPERATORS for part in parts):
        return ""
    return f"{TEXT_COLUMNS} : (" + " ".join(parts) + ")"
