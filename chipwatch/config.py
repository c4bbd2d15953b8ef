"""One configuration flow: defaults, then one TOML file, then CHIPWATCH_* environment variables.

The TOML sections mirror the commands ([storage], [crawl], [classify], [daemon], [digest], [watches], [serve],
[mirror], [cluster]), and [[watch]] tables define watches; the result is one frozen Options object that the CLI passes
down. Nothing else reads files or the environment for settings.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chipwatch.errors import ConfigError
from chipwatch.resources import packaged
from chipwatch.watches.definition import WatchSpec, spec_from_table
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


SECTIONS = ("storage", "crawl", "classify", "daemon", "digest", "watches", "serve", "mirror", "cluster")
# Short names people expect to type; every field is also reachable as CHIPWATCH_<SECTION>_<FIELD>.
ENV_ALIASES = {
    "CHIPWATCH_DB": ("storage", "db"),
    "CHIPWATCH_SOURCES": ("crawl", "sources"),
    "CHIPWATCH_SMTP_HOST": ("digest", "smtp_host"),
    "CHIPWATCH_SMTP_PORT": ("digest", "smtp_port"),
    "CHIPWATCH_SMTP_SECURITY": ("digest", "smtp_security"),
    "CHIPWATCH_SMTP_USER": ("digest", "smtp_user"),
}
# Settings that may never come from a file, only from the environment.
ENV_ONLY = {
    "CHIPWATCH_SMTP_PASSWORD": ("digest", "smtp_password"),
    "CHIPWATCH_WEBHOOK_SECRET": ("watches", "webhook_secret"),
    "CHIPWATCH_SERVE_TOKEN": ("serve", "token"),
    "CHIPWATCH_REDIS_PASSWORD": ("cluster", "password"),
}


def load_options(config_file: Path | None = None, env: Mapping[str, str] | None = None) -> Options:
    """Build Options from defaults, the config file (explicit, $CHIPWATCH_CONFIG or ./chipwatch.toml), env."""
    env = os.environ if env is None else env
    if config_file is None and env.get("CHIPWATCH_CONFIG"):
        config_file = Path(env["CHIPWATCH_CONFIG"])
    if config_file is None and DEFAULT_CONFIG_FILE.is_file():
        config_file = DEFAULT_CONFIG_FILE
    values: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    watches: tuple[WatchSpec, ...] = ()
    if config_file is not None:
        for section, entries in _read_toml(config_file).items():
            if section == "watch":
                watches = _watches(entries, config_file)
                continue
            if section not in SECTIONS:
                raise ConfigError(f"{config_file}: unknown section [{section}] (known: {', '.join(SECTIONS)})")
            if not isinstance(entries, dict):
                raise ConfigError(f"{config_file}: [{section}] must be a table")
            for key, value in entries.items():
                where = f"{config_file}: [{section}] {key}"
                if (section, key) in ENV_ONLY.values():
                    variable = next(name for name, target in ENV_ONLY.items() if target == (section, key))
                    raise ConfigError(f"{where}: secrets are read only from ${variable}, not from files")
                if (section, key) == ("digest", "readers"):
                    values[section][key] = _readers(value, f"{config_file}: [[digest.readers]]")
                    continue
                if (section, key) == ("serve", "accounts"):
                    values[section][key] = _accounts(value, f"{config_file}: [serve.accounts]")
                    continue
                values[section][key] = _coerce(section, key, value, where)
    for name, (section, key) in ENV_ONLY.items():
        if env.get(name):
            values[section][key] = env[name]
    for name, raw in env.items():
        if name in ENV_ONLY:
            continue
        target = _env_target(name)
        if target is not None:
            section, key = target
            values[section][key] = _coerce(section, key, raw, f"environment {name}")
    sections = {name: _SECTION_TYPES[name](**values[name]) for name in SECTIONS}
    _check_crawl(sections["crawl"], config_file)
    _check_daemon(sections["daemon"], config_file)
    _check_digest(sections["digest"], config_file)
    _check_watches(sections["watches"], sections["serve"], config_file)
    _check_cluster(sections["cluster"], config_file)
    return Options(**sections, watch=watches, config_file=config_file)


def _watches(value: Any, config_file: Path) -> tuple[WatchSpec, ...]:
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


def _accounts(value: Any, where: str) -> tuple[tuple[str, str], ...]:
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


def _check_watches(watches: WatchOptions, serve: ServeOptions, config_file: Path | None) -> None:
    where = f"{config_file or 'config'}"
    if watches.max_items < 1 or watches.webhook_attempts < 1 or watches.webhook_timeout <= 0:
        raise ConfigError(f"{where}: [watches] max_items and webhook_attempts at least 1, webhook_timeout positive")
    if watches.retry_delay < 0 or watches.max_retry_after < 0:
        raise ConfigError(f"{where}: [watches] retry_delay and max_retry_after must not be negative")
    if serve.public_url and not re.match(r"^https?://[^/\s]+", serve.public_url):
        raise ConfigError(f"{where}: [serve] public_url: an http(s) address, not {serve.public_url!r}")


READER_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")


def _readers(value: Any, where: str) -> tuple[Reader, ...]:
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


def _check_digest(digest: DigestOptions, config_file: Path | None) -> None:
    where = f"{config_file or 'config'}: [digest]"
    if digest.smtp_security not in ("none", "starttls", "tls"):
        raise ConfigError(f"{where} smtp_security: none, starttls or tls, not {digest.smtp_security!r}")
    if digest.retries < 1 or digest.max_items_per_topic < 1 or digest.max_bytes < 10_000:
        raise ConfigError(f"{where}: retries and max_items_per_topic must be at least 1, max_bytes at least 10000")


def _check_cluster(cluster: ClusterOptions, config_file: Path | None) -> None:
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


def _check_crawl(crawl: CrawlOptions, config_file: Path | None) -> None:
    where = f"{config_file or 'config'}: [crawl]"
    if not 1 <= crawl.concurrent_per_domain <= 4:
        raise ConfigError(f"{where} concurrent_per_domain: 1 to 4 (be polite), got {crawl.concurrent_per_domain}")
    if crawl.download_timeout <= 0 or crawl.max_page_bytes < 10_000 or crawl.retries < 0:
        raise ConfigError(f"{where}: download_timeout must be positive, max_page_bytes at least 10000, retries >= 0")
    if not 1 <= crawl.extract_workers <= 32:
        raise ConfigError(f"{where} extract_workers: 1 to 32, got {crawl.extract_workers}")
    if crawl.retry_backoff < 0 or crawl.max_retry_after < 0:
        raise ConfigError(f"{where}: retry_backoff and max_retry_after must not be negative")


def _check_daemon(daemon: DaemonOptions, config_file: Path | None) -> None:
    where = f"{config_file or 'config'}: [daemon]"
    try:
        ZoneInfo(daemon.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where} timezone: unknown IANA zone {daemon.timezone!r}") from None
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", daemon.digest_time):
        raise ConfigError(f"{where} digest_time: expected HH:MM (24-hour), got {daemon.digest_time!r}")
    if daemon.crawl_timeout <= 0 or daemon.grace < 0 or daemon.max_parallel < 1:
        raise ConfigError(f"{where}: crawl_timeout and max_parallel must be positive, grace not negative")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from None


_SECTION_TYPES = {
    "storage": StorageOptions,
    "crawl": CrawlOptions,
    "classify": ClassifyOptions,
    "daemon": DaemonOptions,
    "digest": DigestOptions,
    "watches": WatchOptions,
    "serve": ServeOptions,
    "mirror": MirrorOptions,
    "cluster": ClusterOptions,
}


def _env_target(name: str) -> tuple[str, str] | None:
    if name in ENV_ALIASES:
        return ENV_ALIASES[name]
    if not name.startswith("CHIPWATCH_"):
        return None
    rest = name[len("CHIPWATCH_") :].lower()
    for section in SECTIONS:
        if rest.startswith(section + "_"):
            key = rest[len(section) + 1 :]
            if key in _field_types(section) and (section, key) not in ENV_ONLY.values():
                return section, key
    return None


def _field_types(section: str) -> dict[str, Any]:
    return {f.name: f.type for f in dataclasses.fields(_SECTION_TYPES[section])}


def _coerce(section: str, key: str, value: Any, where: str) -> Any:
    """Check one value against the field's type; strings from the environment are converted."""
    types = _field_types(section)
    if key not in types:
        raise ConfigError(f"{where}: unknown key (known in [{section}]: {', '.join(sorted(types))})")
    wanted = types[key]
    try:
        if wanted in ("Path", Path):
            if not isinstance(value, str) or not value:
                raise TypeError("a path")
            return Path(value).expanduser()
        if wanted in ("bool", bool):
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in (
                "1",
                "true",
                "yes",
                "on",
                "0",
                "false",
                "no",
                "off",
            ):
                return value.lower() in ("1", "true", "yes", "on")
            raise TypeError("true or false")
        if wanted in ("int", int):
            if isinstance(value, bool):
                raise TypeError("a whole number")
            return int(value)
        if wanted in ("float", float):
            if isinstance(value, bool):
                raise TypeError("a number")
            return float(value)
        if not isinstance(value, str):
            raise TypeError("a string")
        return value
    except (TypeError, ValueError) as error:
        expected = str(error) if isinstance(error, TypeError) else f"a value of type {wanted}"
        raise ConfigError(f"{where}: expected {expected}, got {value!r}") from None
