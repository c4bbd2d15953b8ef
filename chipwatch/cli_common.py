"""What every command shares: one-line errors and the few option checks several commands make."""

from __future__ import annotations

import functools
import sqlite3
import sys
from collections.abc import Callable
from typing import Any

import click

from chipwatch.errors import ChipwatchError, QueryError


def fail_cleanly(command: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ChipwatchError as error:
            raise click.ClickException(str(error)) from None
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                raise click.ClickException(
                    "the database stayed locked by another writer for 30 s (a long migration?); try again"
                ) from None
            raise click.ClickException(f"database error: {error}") from None
        except sqlite3.DatabaseError as error:
            raise click.ClickException(f"database error: {error} (is the file a chipwatch database?)") from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper


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
