"""What several commands share: the storage they open, and the option checks they make."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from chipwatch.config import Options
from chipwatch.errors import QueryError


def with_storage(*, readonly: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Open the configured database for the command, pass it in after the options, and close it after.

    Read commands open it read-only (they work on a read-only copy and never wait for a writer); a command
    that writes gets a connection that creates and migrates the database first.
    """

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        @click.pass_obj
        def wrapper(options: Options, *args: Any, **kwargs: Any) -> Any:
            from storage import opened

            with opened(options.storage.db, readonly=readonly) as db:
                return command(options, db, *args, **kwargs)

        return wrapper

    return decorate


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
