"""The chipwatch command line: one lazy click group over one module per command group.

Each command parses its options, opens storage through `with_storage`, calls one function and prints.
Commands are imported only when invoked (or listed in help), so `chipwatch --help` imports neither Scrapy
nor scikit-learn; chipwatch's errors become one line here, in the group, not in every command.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import sqlite3
import sys
from pathlib import Path
from typing import Any

import click

from chipwatch import __version__
from chipwatch.config import load_options
from chipwatch.errors import ChipwatchError

# Command name -> "module:attribute", in the order `chipwatch --help` lists them.
COMMANDS: dict[str, str] = {
    "crawl": "chipwatch.cli.crawl:crawl",
    "extract": "chipwatch.cli.crawl:extract",
    "search": "chipwatch.cli.query:search",
    "show": "chipwatch.cli.query:show",
    "export": "chipwatch.cli.query:export",
    "serve": "chipwatch.cli.query:serve",
    "watch": "chipwatch.cli.watches:watch",
    "feed": "chipwatch.cli.watches:feed",
    "lists": "chipwatch.cli.lists:lists",
    "screen": "chipwatch.cli.lists:screen",
    "stories": "chipwatch.cli.stories:stories",
    "story": "chipwatch.cli.stories:story",
    "cluster": "chipwatch.cli.stories:cluster",
    "eval-stories": "chipwatch.cli.stories:eval_stories",
    "classify": "chipwatch.cli.classifier:classify",
    "eval": "chipwatch.cli.classifier:eval_command",
    "label": "chipwatch.cli.classifier:label",
    "train": "chipwatch.cli.classifier:train",
    "reclassify": "chipwatch.cli.classifier:reclassify",
    "digest": "chipwatch.cli.digest:digest",
    "daemon": "chipwatch.cli.ops:daemon",
    "worker": "chipwatch.cli.workers:worker",
    "run-due": "chipwatch.cli.ops:run_due",
    "status": "chipwatch.cli.ops:status",
    "sources": "chipwatch.cli.ops:sources",
    "demo": "chipwatch.cli.demo:demo",
    "mirror": "chipwatch.cli.demo:mirror",
    "bench": "chipwatch.cli.bench:bench",
    "bench-extract": "chipwatch.cli.bench:bench_extract",
    "bench-search": "chipwatch.cli.bench:bench_search",
    "bench-grouping": "chipwatch.cli.bench:bench_grouping",
    "bench-watches": "chipwatch.cli.bench:bench_watches",
    "bench-cluster": "chipwatch.cli.bench:bench_cluster",
    "bench-screen": "chipwatch.cli.bench:bench_screen",
}


def one_line(error: BaseException) -> str | None:
    """The one-line message for an error the user can act on, or None for a real bug (shown in full)."""
    if isinstance(error, ChipwatchError):
        return str(error)
    if isinstance(error, sqlite3.OperationalError):
        if "locked" in str(error) or "busy" in str(error):
            return "the database stayed locked by another writer for 30 s (a long migration?); try again"
        return f"database error: {error}"
    if isinstance(error, sqlite3.DatabaseError):
        return f"database error: {error} (is the file a chipwatch database?)"
    return None


class ChipwatchGroup(click.Group):
    """Loads each command's module on first use and turns domain errors into one line, once for all."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except (ChipwatchError, sqlite3.DatabaseError) as error:
            message = one_line(error)
            if message is None:
                raise
            raise click.ClickException(message) from None


@click.group(cls=ChipwatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    help="TOML config (default: $CHIPWATCH_CONFIG, else ./chipwatch.toml).",
)
@click.option(
    "--db",
    type=click.Path(path_type=Path),
    help="SQLite database (default: data/chipwatch.db, or $CHIPWATCH_DB).",
)
@click.version_option(__version__, "-V", "--version", prog_name="chipwatch")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, db: Path | None) -> None:
    """Follow the news on chip export policy: crawl sources, tag items by topic, store them in SQLite.

    \b
    Start with the offline demo:
      chipwatch demo
      chipwatch --db data/demo.db search H200
    """
    try:
        options = load_options(config_file)
    except ChipwatchError as error:
        raise click.ClickException(str(error)) from None
    if db is not None:
        options = options.replace("storage", db=db)
    ctx.obj = options


def main(argv: list[str] | None = None) -> None:
    # At exit, Python collects the whole heap before it frees it: 0.2 s after a crawl, whose heap holds
    # trafilatura, Scrapy and the models. Frozen, the heap is freed without that search for cycles; files
    # and the database are closed by then (atexit handlers run first, and standard streams are flushed).
    atexit.register(gc.freeze)
    cli.main(args=argv, prog_name="chipwatch")
