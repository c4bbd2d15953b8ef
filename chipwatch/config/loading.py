"""From defaults, one TOML file and CHIPWATCH_* environment variables to one Options object."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chipwatch.config.checks import (
    accounts_from,
    check_cluster,
    check_crawl,
    check_daemon,
    check_digest,
    check_watches,
    readers_from,
    watches_from,
)
from chipwatch.config.options import (
    DEFAULT_CONFIG_FILE,
    ClassifyOptions,
    ClusterOptions,
    CrawlOptions,
    DaemonOptions,
    DigestOptions,
    MirrorOptions,
    Options,
    ServeOptions,
    StorageOptions,
    WatchOptions,
)
from chipwatch.errors import ConfigError
from chipwatch.watches.definition import WatchSpec

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
                watches = watches_from(entries, config_file)
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
                    values[section][key] = readers_from(value, f"{config_file}: [[digest.readers]]")
                    continue
                if (section, key) == ("serve", "accounts"):
                    values[section][key] = accounts_from(value, f"{config_file}: [serve.accounts]")
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
    check_crawl(sections["crawl"], config_file)
    check_daemon(sections["daemon"], config_file)
    check_digest(sections["digest"], config_file)
    check_watches(sections["watches"], sections["serve"], config_file)
    check_cluster(sections["cluster"], config_file)
    return Options(**sections, watch=watches, config_file=config_file)


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
