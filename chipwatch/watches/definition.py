"""What a watch is — a saved search with its delivery — and the checks every definition passes, whether it
comes from `chipwatch watch add` or a [[watch]] table in the config file."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chipwatch.errors import ChipwatchError, QueryError
from chipwatch.lists.counterparties import read_counterparties
from chipwatch.queries import search_request

if TYPE_CHECKING:
    from storage.search import SearchQuery

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
EVERY = ("run", "day")
FILTERS = ("topic", "entity", "lang", "source", "min_relevance")


@dataclass(frozen=True)
class WatchSpec:
    name: str
    query: str | None = None
    topic: str | None = None
    entity: str | None = None
    lang: str | None = None
    source: str | None = None
    min_relevance: float | None = None
    emails: tuple[str, ...] = field(default=())
    webhooks: tuple[str, ...] = field(default=())
    every: str = "run"  # run: right after each crawl that finds something; day: in the daily digest
    # A CSV of the team's counterparties (as `chipwatch screen` reads it): the watch then matches only
    # screening-list changes whose new or revised entries match one of them.
    counterparties: str | None = None

    def definition(self) -> dict[str, Any]:
        """The stored columns (everything but the name)."""
        values = asdict(self)
        del values["name"]
        return values

    def filters(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in FILTERS}


def check_watch(spec: WatchSpec) -> WatchSpec:
    """The watch as stored (addresses lower-cased, blanks dropped), or a one-line QueryError."""
    from chipwatch.config import ADDRESS

    where = f"watch {spec.name!r}"
    if not NAME.match(spec.name or ""):
        raise QueryError(
            f"{where}: a watch's name is 1-64 letters, digits, dots, dashes or underscores (it appears in feed URLs)"
        )
    if spec.every not in EVERY:
        raise QueryError(f"{where}: --every is run or day, not {spec.every!r}")
    query = (spec.query or "").strip() or None
    counterparties = None
    if spec.counterparties:
        counterparties = str(Path(spec.counterparties).expanduser().resolve())
        try:
            read_counterparties(Path(counterparties))
        except ChipwatchError as error:
            raise QueryError(f"{where}: counterparties: {error}") from None
    if query is None and not any(spec.filters().values()) and counterparties is None:
        raise QueryError(f"{where}: give words to search for, or at least one filter (--topic, --entity, --lang ...)")
    try:
        search_request(query, None, **spec.filters())
    except QueryError as error:
        raise QueryError(f"{where}: {error}") from None
    emails = []
    for address in spec.emails:
        address = address.strip().lower()
        if not ADDRESS.match(address):
            raise QueryError(f"{where}: not an email address: {address!r}")
        if address not in emails:
            emails.append(address)
    webhooks = []
    for url in spec.webhooks:
        url = url.strip()
        problem = webhook_problem(url)
        if problem:
            raise QueryError(f"{where}: webhook {url!r}: {problem}")
        if url not in webhooks:
            webhooks.append(url)
    entity = spec.entity.strip().lower() if spec.entity else None
    return WatchSpec(
        spec.name,
        query,
        spec.topic or None,
        entity,
        spec.lang or None,
        spec.source or None,
        spec.min_relevance,
        tuple(emails),
        tuple(webhooks),
        spec.every,
        counterparties,
    )


def webhook_problem(url: str) -> str | None:
    """Why a webhook URL cannot be used, or None."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "a webhook is an http:// or https:// URL"
    if not parts.hostname:
        return "the URL has no host"
    if parts.username or parts.password:
        return "credentials in the URL would be stored and shown; sign with $CHIPWATCH_WEBHOOK_SECRET instead"
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        return "the port is not a number from 1 to 65535"
    return None


def request_for(spec: WatchSpec, after_id: int, through_id: int) -> SearchQuery:
    """The search the watch makes of the articles stored above after_id up to through_id: the same parser,
    the same query language and filters as `chipwatch search`."""
    from dataclasses import replace

    request = search_request(spec.query, None, **spec.filters())
    return replace(request, after_id=after_id, through_id=through_id)


def spec_from_row(row: dict[str, Any]) -> WatchSpec:
    return WatchSpec(
        name=row["name"],
        query=row["query"],
        topic=row["topic"],
        entity=row["entity"],
        lang=row["lang"],
        source=row["source"],
        min_relevance=row["min_relevance"],
        emails=tuple(row["emails"]),
        webhooks=tuple(row["webhooks"]),
        every=row["every"],
        counterparties=row.get("counterparties"),
    )


def spec_from_table(entry: Any, where: str) -> WatchSpec:
    """A [[watch]] table of the config file, checked like `watch add`; errors name the table."""
    if not isinstance(entry, dict):
        raise QueryError(f"{where}: must be a table")
    known = {"name", "query", *FILTERS, "emails", "webhooks", "every", "counterparties"}
    unknown = set(entry) - known
    if unknown:
        raise QueryError(f"{where}: unknown field {sorted(unknown)[0]!r} (known: {', '.join(sorted(known))})")
    for key in ("name", "query", "topic", "entity", "lang", "source", "every", "counterparties"):
        if key in entry and not isinstance(entry[key], str):
            raise QueryError(f"{where}: field {key!r}: a string")
    for key in ("emails", "webhooks"):
        value = entry.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise QueryError(f"{where}: field {key!r}: a list of strings")
        entry = {**entry, key: tuple(value)}
    relevance = entry.get("min_relevance")
    if relevance is not None and (
        isinstance(relevance, bool) or not isinstance(relevance, int | float) or not 0 <= relevance <= 1
    ):
        raise QueryError(f"{where}: field 'min_relevance': a number from 0 to 1")
    if "name" not in entry:
        raise QueryError(f"{where}: every [[watch]] needs a name")
    try:
        return check_watch(
            WatchSpec(
                name=entry["name"],
                query=entry.get("query"),
                topic=entry.get("topic"),
                entity=entry.get("entity"),
                lang=entry.get("lang"),
                source=entry.get("source"),
                min_relevance=float(relevance) if relevance is not None else None,
                emails=entry.get("emails", ()),
                webhooks=entry.get("webhooks", ()),
                every=entry.get("every", "run"),
                counterparties=entry.get("counterparties"),
            )
        )
    except QueryError as error:
        raise QueryError(f"{where}: {error}") from None
