"""The sources file: which sites to crawl, with what kind of spider, on what schedule.

    [[source]]
    name = "federal-register-bis"     # unique, lowercase letters, digits and dashes
    kind = "feed"                     # which spider crawls it: see KINDS
    url = "https://..."
    lang = "en"                       # expected language, a hint when the page does not say
    schedule = "0 */2 * * *"          # cron (minute hour day month weekday), in the daemon's timezone
    timezone = "UTC"                  # zone for feed dates that carry none (e.g. "2025-12-09 14:38:10")
    enabled = true
    prefilter = false                 # fetch only entries whose title/summary mention the story's subject
    refresh_hours = 0                 # re-fetch stored items this young, to catch corrections
    max_pages = 3                     # listing pages, API pages or child sitemaps read per run
    backfill_pages = 0                # how deep pagination is ever read (0: to its end, a run at a time)
    max_entries = 500                 # pages fetched per run at most; the rest wait for the next run
    max_age_days = 0                  # skip entries older than this (0: no limit)
    expect_items_days = 7             # flag the source as silent after this long without a new item
    domains = []                      # other sites its links may lead to ("*" for any)
    links = "css or //xpath"          # listing: the article links on the page
    next_page = "css or //xpath"      # listing: the link to the next page

Errors name the file, the line of the [[source]] entry and the field.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from chipwatch.errors import ConfigError

KINDS = {
    "feed": "an RSS or Atom feed",
    "search": "a news-search feed (Google News RSS): keeps each item's publisher",
    "sitemap": "a news sitemap or sitemap index",
    "federal-register": "the Federal Register documents API (JSON), newest first",
    "listing": "an HTML listing page read with the `links` selector, paginated with `next_page`",
    "screening-list": "the Consolidated Screening List file (JSON or CSV): its changes become items",
}
TABLE_COLUMNS = ("name", "kind", "url", "lang", "schedule", "timezone", "enabled", "expect_items_days")
# Kinds whose entries link to other sites by design.
ANY_DOMAIN_KINDS = ("search",)
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?]+$")


@dataclass(frozen=True)
class Source:
    name: str
    kind: str
    url: str
    lang: str | None = None
    schedule: str = "0 * * * *"
    timezone: str = "UTC"
    enabled: bool = True
    prefilter: bool = False
    refresh_hours: float = 0.0
    max_pages: int = 3
    backfill_pages: int = 0
    max_entries: int = 500
    max_age_days: float = 0.0
    expect_items_days: float = 7.0
    domains: tuple[str, ...] = ()
    links: str | None = None
    next_page: str | None = None
    verified: str = ""  # how the address and selectors were checked: a reference and its date, a fixture, "unverified"

    def row(self) -> dict[str, Any]:
        """The columns the sources table keeps for it."""
        return {name: getattr(self, name) for name in TABLE_COLUMNS}

    @property
    def any_domain(self) -> bool:
        return "*" in self.domains or self.kind in ANY_DOMAIN_KINDS


_FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "kind": str,
    "url": str,
    "lang": str,
    "schedule": str,
    "timezone": str,
    "enabled": bool,
    "prefilter": bool,
    "refresh_hours": (int, float),
    "max_pages": int,
    "backfill_pages": int,
    "max_entries": int,
    "max_age_days": (int, float),
    "expect_items_days": (int, float),
    "domains": list,
    "links": str,
    "next_page": str,
    "verified": str,
}


def load_sources(path: Path) -> list[Source]:
    """Read and validate every [[source]] in the file."""
    try:
        raw_text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: sources file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read sources file: {error}") from None
    try:
        data = tomllib.loads(raw_text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from None
    unknown = set(data) - {"source"}
    if unknown:
        raise ConfigError(f"{path}: unknown top-level key {sorted(unknown)[0]!r} (expected [[source]] tables)")
    entries = data.get("source", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: 'source' must be an array of tables, written [[source]]")
    header_lines = _entry_lines(raw_text)
    sources: list[Source] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        line = header_lines[index] if index < len(header_lines) else 0
        where = f"{path}:{line}: source #{index + 1}"
        source = _parse_entry(entry, where)
        if source.name in seen:
            raise ConfigError(f"{where}: field 'name': {source.name!r} is already used on line {seen[source.name]}")
        seen[source.name] = line
        sources.append(source)
    return sources


def select_sources(sources: list[Source], names: list[str] | tuple[str, ...]) -> list[Source]:
    """The named sources (all enabled ones when no name is given); unknown names are an error."""
    if not names:
        return [source for source in sources if source.enabled]
    by_name = {source.name: source for source in sources}
    missing = [name for name in names if name not in by_name]
    if missing:
        known = ", ".join(sorted(by_name)) or "none"
        raise ConfigError(f"unknown source {missing[0]!r} (known: {known})")
    return [by_name[name] for name in names]


def _parse_entry(entry: Any, where: str) -> Source:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a table")
    for key, value in entry.items():
        if key not in _FIELDS:
            raise ConfigError(f"{where}: unknown field {key!r} (known: {', '.join(_FIELDS)})")
        expected = _FIELDS[key]
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            names = " or ".join(t.__name__ for t in expected) if isinstance(expected, tuple) else expected.__name__
            raise ConfigError(f"{where}: field {key!r} must be a {names}, got {value!r}")
    for required in ("name", "kind", "url"):
        if required not in entry:
            raise ConfigError(f"{where}: missing field {required!r}")
    name = entry["name"]
    where = f"{where} ({name})"
    if not NAME_PATTERN.match(name):
        raise ConfigError(f"{where}: field 'name' must be lowercase letters, digits and dashes")
    if entry["kind"] not in KINDS:
        raise ConfigError(f"{where}: field 'kind': unknown kind {entry['kind']!r} (known: {', '.join(KINDS)})")
    if not re.match(r"^https?://[^/\s]+", entry["url"]):
        raise ConfigError(f"{where}: field 'url' must be an http(s) URL, got {entry['url']!r}")
    schedule = entry.get("schedule", Source.schedule)
    problem = cron_problem(schedule)
    if problem:
        raise ConfigError(f"{where}: field 'schedule': {problem}")
    timezone = entry.get("timezone", Source.timezone)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: field 'timezone': unknown IANA zone {timezone!r}") from None
    for key in ("refresh_hours", "max_age_days", "expect_items_days"):
        if entry.get(key, 0) < 0:
            raise ConfigError(f"{where}: field {key!r} must not be negative")
    if not 1 <= entry.get("max_pages", 1) <= 1000:
        raise ConfigError(f"{where}: field 'max_pages' must be between 1 and 1000")
    if entry.get("backfill_pages", 0) < 0:
        raise ConfigError(f"{where}: field 'backfill_pages' must be 0 (no limit) or more")
    if not 1 <= entry.get("max_entries", 1) <= 100_000:
        raise ConfigError(f"{where}: field 'max_entries' must be between 1 and 100000")
    domains = entry.get("domains", [])
    if not all(isinstance(domain, str) and domain.strip() for domain in domains):
        raise ConfigError(f"{where}: field 'domains' must be a list of host names")
    if entry["kind"] == "listing" and not entry.get("links"):
        raise ConfigError(f"{where}: field 'links': a listing source needs a CSS or XPath selector for its links")
    for key in ("links", "next_page"):
        if entry.get(key):
            problem = selector_problem(entry[key])
            if problem:
                raise ConfigError(f"{where}: field {key!r}: {problem}")
    return Source(**{**entry, "domains": tuple(domain.strip().lower() for domain in domains)})


def is_xpath(selector: str) -> bool:
    """Selectors starting with / or ( are XPath; anything else is CSS."""
    return selector.lstrip().startswith(("/", "("))


def selector_problem(selector: str) -> str | None:
    """Why a CSS or XPath selector cannot be used, or None."""
    from parsel import Selector

    try:
        probe = Selector(text="<html></html>")
        probe.xpath(selector) if is_xpath(selector) else probe.css(selector)
    except Exception as error:  # parsel raises several types (ValueError, cssselect and lxml errors)
        return f"invalid {'XPath' if is_xpath(selector) else 'CSS'} selector {selector!r}: {error}"
    return None


WEEKDAYS = {"0": "sun", "1": "mon", "2": "tue", "3": "wed", "4": "thu", "5": "fri", "6": "sat", "7": "sun"}


def cron_trigger(expression: str, timezone: str = "UTC") -> CronTrigger:
    """An APScheduler trigger for a standard cron expression: five fields (minute hour day month weekday),
    or six with seconds first (for tests and very busy sources). Weekdays follow cron, where 0 and 7 are
    Sunday (APScheduler 3 on its own would read 0 as Monday)."""
    fields = expression.split()
    if len(fields) not in (5, 6) or not all(CRON_FIELD.match(part) for part in fields):
        raise ValueError(f"{expression!r} is not a cron expression (minute hour day month weekday)")
    second = fields[0] if len(fields) == 6 else "0"
    minute, hour, day, month, weekday = fields[-5:]
    weekday = re.sub(r"(?<![/\d])\d(?!\d)", lambda m: WEEKDAYS[m.group()], weekday)
    return CronTrigger(
        second=second, minute=minute, hour=hour, day=day, month=month, day_of_week=weekday, timezone=timezone
    )


def cron_problem(expression: str) -> str | None:
    """Why a cron expression is invalid, or None when it is fine."""
    try:
        cron_trigger(expression)
    except ValueError as error:
        return str(error) if "cron expression" in str(error) else f"{expression!r}: {error}"
    return None


def _entry_lines(text: str) -> list[int]:
    """1-based line numbers of each [[source]] header, to point errors at the right entry."""
    return [number for number, line in enumerate(text.splitlines(), 1) if line.strip().startswith("[[source]]")]
