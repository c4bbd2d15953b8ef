"""What each section's values must be: the tables a file may hold ([[digest.readers]], [serve.accounts],
[[watch]]) read into their types, and each section checked once it is assembled. Every problem is a
ConfigError naming the file, the section and the key."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chipwatch.config.options import (
    ADDRESS,
    ClusterOptions,
    CrawlOptions,
    DaemonOptions,
    DigestOptions,
    Reader,
    ServeOptions,
    WatchOptions,
)
from chipwatch.errors import ConfigError
from chipwatch.watches.definition import WatchSpec, spec_from_table
from pipeline.rules import TOPIC_IDS


def watches_from(value: Any, config_file: Path) -> tuple[WatchSpec, ...]:
    from chipwatch.errors import QueryError

    if not isinstance(value, list):
        raise ConfigError(f"{config_file}: write watches as [[watch]] tables")
    specs: list[WatchSpec] = []
    for index, entry in enumerate(value, 1):
        try:
            spec = spec_from_table(entry, f"{config_file}: [[watch]] #{index}")
        except QueryError as error:
            raise ConfigError(str(error)) from None
        if any(other.name == spec.name for other in specs):
            raise ConfigError(f"{config_file}: [[watch]] #{index}: the name {spec.name!r} is used twice")
        specs.append(spec)
    return tuple(specs)


def accounts_from(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    from chipwatch.serve.auth import hash_problem

    if not isinstance(value, dict):
        raise ConfigError(f'{where}: a table of name = "password hash"')
    accounts = []
    for name, stored in value.items():
        if not re.fullmatch(r"[A-Za-z0-9._@-]{1,64}", name):
            raise ConfigError(f"{where} {name!r}: an account name is letters, digits, . _ @ -")
        problem = hash_problem(stored)
        if problem:
            raise ConfigError(f"{where} {name}: {problem}; never the password itself")
        accounts.append((name, stored))
    return tuple(accounts)


def check_watches(watches: WatchOptions, serve: ServeOptions, config_file: Path | None) -> None:
    where = f"{config_file or 'config'}"
    if watches.max_items < 1 or watches.webhook_attempts < 1 or watches.webhook_timeout <= 0:
        raise ConfigError(f"{where}: [watches] max_items and webhook_attempts at least 1, webhook_timeout positive")
    if watches.retry_delay < 0 or watches.max_retry_after < 0:
        raise ConfigError(f"{where}: [watches] retry_delay and max_retry_after must not be negative")
    if serve.public_url and not re.match(r"^https?://[^/\s]+", serve.public_url):
        raise ConfigError(f"{where}: [serve] public_url: an http(s) address, not {serve.public_url!r}")


READER_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")


def readers_from(value: Any, where: str) -> tuple[Reader, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: write readers as [[digest.readers]] tables")
    readers, seen = [], set()
    for index, entry in enumerate(value, 1):
        here = f"{where} #{index}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{here}: must be a table")
        unknown = set(entry) - {f.name for f in dataclasses.fields(Reader)}
        if unknown:
            raise ConfigError(f"{here}: unknown field {sorted(unknown)[0]!r}")
        address = entry.get("address")
        if not isinstance(address, str) or not ADDRESS.match(address.strip()):
            raise ConfigError(f"{here}: field 'address': not an email address: {address!r}")
        topics = entry.get("topics", list(TOPIC_IDS))
        if not isinstance(topics, list) or not topics or any(t not in TOPIC_IDS for t in topics):
            raise ConfigError(f"{here}: field 'topics': a list of topic ids from {', '.join(TOPIC_IDS)}")
        relevance = entry.get("min_relevance", 0.5)
        if isinstance(relevance, bool) or not isinstance(relevance, int | float) or not 0 <= relevance <= 1:
            raise ConfigError(f"{here}: field 'min_relevance': a number from 0 to 1")
        zone = entry.get("timezone", "")
        if zone:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ConfigError(f"{here}: field 'timezone': unknown IANA zone {zone!r}") from None
        send_empty = entry.get("send_empty", False)
        if not isinstance(send_empty, bool):
            raise ConfigError(f"{here}: field 'send_empty': true or false")
        name = entry.get("name", "")
        if not isinstance(name, str):
            raise ConfigError(f"{here}: field 'name': a string")
        lang = entry.get("lang", "")
        if not isinstance(lang, str) or (lang and not READER_LANG.match(lang)):
            raise ConfigError(f"{here}: field 'lang': a language code such as en, zh-Hans or zh-Hant, not {lang!r}")
        languages = entry.get("languages", [])
        if not isinstance(languages, list) or any(
            not isinstance(code, str) or not READER_LANG.match(code) for code in languages
        ):
            raise ConfigError(f'{here}: field \'languages\': a list of language codes such as ["en"] or ["en", "zh"]')
        address = address.strip().lower()
        if address in seen:
            raise ConfigError(f"{here}: field 'address': {address} is listed twice")
        seen.add(address)
        readers.append(
            Reader(
                address,
                name,
                tuple(topics),
                float(relevance),
                zone,
                lang=lang,
                send_empty=send_empty,
                languages=tuple(languages),
            )
        )
    return tuple(readers)


def check_digest(digest: DigestOptions, config_file: Path | None) -> None:
    where = f"{config_file or 'config'}: [digest]"
    if digest.smtp_security not in ("none", "starttls", "tls"):
        raise ConfigError(f"{where} smtp_security: none, starttls or tls, not {digest.smtp_security!r}")
    if digest.retries < 1 or digest.max_items_per_topic < 1 or digest.max_bytes < 10_000:
        raise ConfigError(f"{where}: retries and max_items_per_topic must be at least 1, max_bytes at least 10000")


def check_cluster(cluster: ClusterOptions, config_file: Path | None) -> None:
    where = f"{config_file}: [cluster]" if config_file is not None else "[cluster]"
    if not cluster.redis:
        return
    parts = urlsplit(cluster.redis)
    if parts.scheme not in ("redis", "rediss", "unix") or (parts.scheme != "unix" and not parts.hostname):
        raise ConfigError(f"{where} redis: {cluster.redis!r} is not a redis://HOST:PORT/DB address")
    if parts.password or "@" in parts.netloc:
        raise ConfigError(f"{where} redis: put no password in the address; set $CHIPWATCH_REDIS_PASSWORD")
    try:
        parts.port  # noqa: B018  # raises on a port that is not a number
    except ValueError:
        raise ConfigError(f"{where} redis: {cluster.redis!r} has a port that is not a number") from None
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", cluster.prefix):
        raise ConfigError(f"{where} prefix: letters, digits, '_', '.' and '-' only")
    if cluster.visibility_timeout < 1 or cluster.heartbeat_timeout < 1:
        raise ConfigError(f"{where}: visibility_timeout and heartbeat_timeout are at least 1 second")


def check_crawl(crawl: CrawlOptions, config_file: Path | None) -> None:
    where = f"{config_file or 'config'}: [crawl]"
    if not 1 <= crawl.concurrent_per_domain <= 4:
        raise ConfigError(f"{where} concurrent_per_domain: 1 to 4 (be polite), got {crawl.concurrent_per_domain}")
    if crawl.download_timeout <= 0 or crawl.max_page_bytes < 10_000 or crawl.retries < 0:
        raise ConfigError(f"{where}: download_timeout must be positive, max_page_bytes at least 10000, retries >= 0")
    if not 1 <= crawl.extract_workers <= 32:
        raise ConfigError(f"{where} extract_workers: 1 to 32, got {crawl.extract_workers}")
    if crawl.retry_backoff < 0 or crawl.max_retry_after < 0:
        raise ConfigError(f"{where}: retry_backoff and max_retry_after must not be negative")


def check_daemon(daemon: DaemonOptions, config_file: Path | None) -> None:
    where = f"{config_file or 'config'}: [daemon]"
    try:
        ZoneInfo(daemon.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where} timezone: unknown IANA zone {daemon.timezone!r}") from None
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", daemon.digest_time):
        raise ConfigError(f"{where} digest_time: expected HH:MM (24-hour), got {daemon.digest_time!r}")
    if daemon.crawl_timeout <= 0 or daemon.grace < 0 or daemon.max_parallel < 1:
        raise ConfigError(f"{where}: crawl_timeout and max_parallel must be positive, grace not negative")
