"""The configuration's sections, one frozen dataclass each, with their defaults; Options holds them all."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chipwatch.resources import packaged
from chipwatch.watches.definition import WatchSpec
from pipeline.rules import TOPIC_IDS

DEFAULT_CONFIG_FILE = Path("chipwatch.toml")


@dataclass(frozen=True)
class StorageOptions:
    db: Path = Path("data/chipwatch.db")


@dataclass(frozen=True)
class CrawlOptions:
    # The shipped list of real sources (spiders/sources.toml); copy it and point here to make it your own.
    sources: Path = field(default_factory=lambda: packaged("spiders", "sources.toml"))
    user_agent: str = "chipwatch/0.1 (+https://github.com/chipwatch/chipwatch)"
    contact: str = ""
    concurrent_per_domain: int = 2
    download_timeout: float = 30.0
    max_page_bytes: int = 8 * 1024 * 1024
    retries: int = 2
    retry_backoff: float = 1.0  # seconds before the first retry, doubling with each
    max_retry_after: float = 120.0  # longest Retry-After (429/503) a crawl waits; longer ones fail the request
    # Processes that extract pages in parallel (1: in the crawl's own process). Extraction is most of the
    # CPU a crawl uses; two workers use a 2-core machine fully.
    extract_workers: int = 2
    obey_robots: bool = True
    autothrottle: bool = True
    # An entry whose page failed for a passing reason (5xx, 429, timeout, reset) is tried again on later
    # runs, first after this many seconds, doubling, up to entry_attempts tries; then shown as given up.
    entry_retry_after: float = 3600.0
    entry_attempts: int = 5


@dataclass(frozen=True)
class ClassifyOptions:
    topics: Path = field(default_factory=lambda: packaged("pipeline", "topics.toml"))
    # The trained model. `chipwatch train` writes here; point it at your own file (data/model.json) to keep
    # a model trained with your corrections apart from the one that ships.
    model: Path = field(default_factory=lambda: packaged("pipeline", "model", "classifier.json"))


@dataclass(frozen=True)
class DaemonOptions:
    timezone: str = "UTC"  # IANA zone for source schedules and the digest time
    digest_time: str = "07:00"  # local time of day the daily digest goes out
    crawl_timeout: float = 1800.0  # seconds a crawl may run before it is stopped and recorded as timed out
    grace: float = 30.0  # seconds a crawl gets to finish cleanly when stopped
    misfire_grace: float = 3600.0  # a run missed by up to this long (machine asleep, busy) still happens once
    max_parallel: int = 4  # crawls at the same time
    log_file: Path = Path("data/chipwatch.log")


ADDRESS = re.compile(
    r"^[^@\s<>\"',;]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


@dataclass(frozen=True)
class Reader:
    address: str
    name: str = ""
    topics: tuple[str, ...] = TOPIC_IDS
    min_relevance: float = 0.5
    timezone: str = ""  # empty: the daemon's timezone
    lang: str = ""  # stories titled in this language when they have an article in it (en, zh-Hans, zh-Hant)
    send_empty: bool = False  # on a day with nothing new: a short note, or nothing
    # The languages the reader reads (en, zh, zh-Hans ...); items in others get an English line of their
    # names and topics. Empty: the reader reads them all.
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class DigestOptions:
    smtp_host: str = ""  # empty: digests are written to the outbox folder instead of sent
    smtp_port: int = 0  # 0: 465 for tls, 587 for starttls, 25 for none
    smtp_security: str = "starttls"  # none, starttls or tls
    smtp_user: str = ""
    # Only ever from $CHIPWATCH_SMTP_PASSWORD; never in a file, never printed (repr=False).
    smtp_password: str = field(default="", repr=False)
    sender: str = "chipwatch <chipwatch@localhost>"
    unsubscribe: str = ""  # List-Unsubscribe target (mailto: or https:); default: mailto the sender
    outbox: Path = Path("data/outbox")
    max_items_per_topic: int = 12
    max_bytes: int = 95_000  # Gmail clips messages over 102 KB
    retries: int = 3
    retry_delay: float = 2.0  # seconds, doubled after each failed attempt
    readers: tuple[Reader, ...] = ()


@dataclass(frozen=True)
class WatchOptions:
    max_items: int = 50  # items in one watch message; a broad watch's first run says "and N more" after these
    webhook_timeout: float = 10.0  # seconds an endpoint may take to answer
    webhook_attempts: int = 3  # tries within one run before the message waits for a later run
    retry_delay: float = 1.0  # seconds before the second try, doubling after each
    max_retry_after: float = 60.0  # longest Retry-After waited within a run; longer ones wait for a later run
    # Signs each webhook body (HMAC-SHA256, X-Chipwatch-Signature-256). Only from $CHIPWATCH_WEBHOOK_SECRET.
    webhook_secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class ServeOptions:
    # The address people reach `chipwatch serve` at (https://chipwatch.example.org): links in messages and
    # feeds point there. Empty: messages point to the commands instead.
    public_url: str = ""
    # Accounts that may sign in: (name, password hash from `chipwatch serve --hash-password`), from
    # [serve.accounts] name = "pbkdf2_sha256$...". A hash, never a password.
    accounts: tuple[tuple[str, str], ...] = ()
    # A bearer token for scripts and feed readers (and the key of per-reader feed tokens). Only from
    # $CHIPWATCH_SERVE_TOKEN; never printed (repr=False).
    token: str = field(default="", repr=False)


@dataclass(frozen=True)
class ClusterOptions:
    # redis://HOST:PORT/DB shared by the workers and the one writer; empty: everything on this machine.
    redis: str = ""
    # Only from $CHIPWATCH_REDIS_PASSWORD; never printed (repr=False).
    password: str = field(default="", repr=False)
    # Every key this cluster keeps in Redis starts with it: two clusters can share one Redis.
    prefix: str = "chipwatch"
    # A page request taken by a worker that neither finishes nor renews it in this time goes back to the
    # queue for another worker; a crawl whose worker stopped sending heartbeats for it does too.
    visibility_timeout: float = 60.0
    # A worker (or writer) silent this long is shown as gone, and its stream entries are taken over.
    heartbeat_timeout: float = 30.0

    @property
    def enabled(self) -> bool:
        return bool(self.redis)


@dataclass(frozen=True)
class MirrorOptions:
    host: str = "127.0.0.1"
    port: int = 8765


@dataclass(frozen=True)
class Options:
    storage: StorageOptions = field(default_factory=StorageOptions)
    crawl: CrawlOptions = field(default_factory=CrawlOptions)
    classify: ClassifyOptions = field(default_factory=ClassifyOptions)
    daemon: DaemonOptions = field(default_factory=DaemonOptions)
    digest: DigestOptions = field(default_factory=DigestOptions)
    watches: WatchOptions = field(default_factory=WatchOptions)
    serve: ServeOptions = field(default_factory=ServeOptions)
    mirror: MirrorOptions = field(default_factory=MirrorOptions)
    cluster: ClusterOptions = field(default_factory=ClusterOptions)
    # [[watch]] tables of the config file; they win over watches of the same name made with `watch add`.
    watch: tuple[WatchSpec, ...] = ()
    config_file: Path | None = None

    def replace(self, section: str, **changes: Any) -> Options:
        """A copy with some fields of one section changed (for command-line flags)."""
        return dataclasses.replace(self, **{section: dataclasses.replace(getattr(self, section), **changes)})
