"""What several commands share: the storage they open (the option checks are in chipwatch.queries)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from chipwatch.config import Options
from chipwatch.queries import check_topic, since_option

__all__ = ["check_topic", "since_option", "with_storage"]


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
