"""What people type to find articles — a query and filters — checked and turned into a storage query.

One parser for every way in: `search`, `export`, a watch (saved search) and the serve pages. A mistake is a
one-line QueryError naming the option.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chipwatch.errors import QueryError

if TYPE_CHECKING:
    from storage.search import SearchQuery

KNOWN_LANGS = "known: en, zh (both scripts), zh-Hans, zh-Hant, or another ISO 639-1 code such as ja or de"
# Country codes people type for a language.
COUNTRY_NOT_LANGUAGE = {
    "cn": "for Chinese use zh (or zh-Hans)",
    "tw": "for Chinese as written in Taiwan use zh-Hant",
    "hk": "for Chinese as written in Hong Kong use zh-Hant",
    "jp": "for Japanese use ja",
    "kr": "for Korean use ko",
    "us": "for English use en",
    "uk": "for English use en",
    "gb": "for English use en",
}


def since_option(since: str | None, option: str = "--since") -> str | None:
    """A date option as UTC ISO 8601, or a one-line QueryError naming the option."""
    from pipeline.dates import parse_date, to_utc_iso

    if not since:
        return None
    moment = parse_date(since)
    if moment is None:
        raise QueryError(f"cannot read {option} {since!r}; use YYYY-MM-DD")
    return to_utc_iso(moment)


def check_topic(topic: str | None) -> None:
    from pipeline.classify import TOPIC_IDS

    if topic and topic not in TOPIC_IDS:
        raise QueryError(f"unknown topic {topic!r} (known: {', '.join(TOPIC_IDS)})")


def search_request(query: str | None, limit: int | None, **filters: Any) -> SearchQuery:
    """Check the filters people typed and build the storage query, or raise a one-line QueryError."""
    from pipeline.language import normalise_lang
    from storage.search import SearchQuery

    check_topic(filters.get("topic"))
    if query is not None and not any(char.isalnum() for char in query):
        raise QueryError(
            f"the query {query!r} has no letters, digits or characters to search for: only punctuation or "
            "symbols, which the index does not keep"
        )
    typed_lang: str | None = filters.get("lang")
    lang = None
    if typed_lang:
        lang = normalise_lang(typed_lang)
        hint = COUNTRY_NOT_LANGUAGE.get(typed_lang.strip().lower())
        if hint:
            raise QueryError(f"--lang {typed_lang} is a country; {hint} ({KNOWN_LANGS})")
        if lang is None:
            raise QueryError(f"not a language code: {typed_lang!r} ({KNOWN_LANGS})")
    entity = filters.get("entity")
    if entity and ":" not in entity:
        raise QueryError(f"--entity takes KIND:VALUE, such as chip:h200 or agency:samr, not {entity!r}")
    since = since_option(filters.get("since"))
    stored_since = since_option(filters.get("stored_since"), "--stored-since")
    until = since_option(filters.get("until"), "--until")
    if since and until and since >= until:
        raise QueryError(f"--since {filters['since']} is not before --until {filters['until']}")
    from storage.rule_documents import DOC_TYPES

    doc_type = filters.get("doc_type")
    if doc_type and doc_type not in DOC_TYPES:
        raise QueryError(f"unknown --doc-type {doc_type!r} (known: {', '.join(DOC_TYPES)})")
    effective_since = since_option(filters.get("effective_since"), "--effective-since")
    if query and not filters.get("exact"):
        from pipeline.entities import with_other_names

        query = with_other_names(query)
    return SearchQuery(
        text=query,
        topic=filters.get("topic"),
        story=filters.get("story"),
        source=filters.get("source"),
        lang=lang,
        since=since,
        until=until,
        stored_since=stored_since,
        min_relevance=filters.get("min_relevance"),
        entity=entity.lower() if entity else None,
        sort=filters.get("sort") or "date",
        limit=limit,
        doc_type=DOC_TYPES[doc_type] if doc_type else None,
        effective_since=effective_since[:10] if effective_since else None,
    )
