"""Watches and feeds: watch add/list/show/test/rm/run, and feed (an Atom feed on standard output)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from chipwatch.cli.options import with_storage
from chipwatch.config import Options
from chipwatch.errors import QueryError

if TYPE_CHECKING:
    from sqlite_utils import Database

    from chipwatch.watches.definition import WatchSpec


@click.group()
def watch() -> None:
    """Saved searches that tell you when something appears: by email, webhook, in the digest, as a feed.

    A watch is a search (the same words and filters as `chipwatch search`) that every crawl runs against
    its new articles; each article reaches each watch once. Watches can also be [[watch]] tables in the
    config file, which win over watches of the same name made here.

    \b
    Example:
      chipwatch watch add entity-list '"Entity List" OR 实体清单' --email me@example.org
      chipwatch watch add h200-zh H200 --lang zh --webhook https://hooks.example.org/chipwatch --every run
      chipwatch watch list
    """


@watch.command(name="add")
@click.argument("name")
@click.argument("query", required=False)
@click.option("--topic", help="Only articles tagged with this topic id.")
@click.option("--entity", help="Only articles naming this entity, as KIND:VALUE (company:nvidia, chip:h200).")
@click.option("--lang", help="Language code: en, zh (both scripts), zh-Hans, zh-Hant.")
@click.option("--source", help="Only articles from this source, or by this publisher.")
@click.option("--min-relevance", type=click.FloatRange(0, 1), help="Only articles this relevant (0-1).")
@click.option("--email", "emails", multiple=True, help="Send each run's matches here (repeat for more).")
@click.option("--webhook", "webhooks", multiple=True, help="POST each run's matches here as JSON (repeatable).")
@click.option(
    "--every",
    type=click.Choice(["run", "day"]),
    default="run",
    show_default=True,
    help="run: right after each crawl that finds something; day: in the daily digest (or once a day).",
)
@click.option(
    "--from-now",
    is_flag=True,
    help="Only articles stored from now on (by default the first run "
    "also reports what is already stored, the newest listed and the rest counted).",
)
@click.option(
    "--counterparties",
    type=click.Path(dir_okay=False, exists=True),
    help="A CSV of your counterparties (as `chipwatch screen` reads it): match only screening-list changes "
    "whose new or revised entries match one of them.",
)
@click.option("--replace", is_flag=True, help="Change an existing watch (its matches are kept).")
@with_storage(readonly=False)
def watch_add(
    options: Options,
    db: Database,
    name: str,
    query: str | None,
    emails: tuple[str, ...],
    webhooks: tuple[str, ...],
    every: str,
    from_now: bool,
    replace: bool,
    counterparties: str | None,
    **filters: Any,
) -> None:
    """Save a search as a watch. Creates the database if there is none yet.

    \b
    Examples:
      chipwatch watch add eccn-3a090 3A090 --email compliance@example.com
      chipwatch watch add samr --entity agency:samr --every day --email analyst@example.com
      chipwatch watch add nvidia-zh 英伟达 --lang zh --webhook https://chat.example.org/hooks/abc
      chipwatch watch add our-parties --counterparties customers.csv --email compliance@example.com
    """
    from chipwatch.watches.definition import WatchSpec, check_watch, request_for
    from pipeline.dates import utc_now_iso
    from storage.search import search
    from storage.watches import get_watch, newest_article_id, save_watch, start_after

    spec = check_watch(
        WatchSpec(name, query, emails=emails, webhooks=webhooks, every=every, counterparties=counterparties, **filters)
    )
    if any(other.name == spec.name for other in options.watch):
        raise QueryError(
            f"watch {spec.name!r} is defined in {options.config_file} ([[watch]]), which wins: change it there"
        )
    existing = get_watch(db, spec.name)
    if existing is not None and not replace:
        raise QueryError(f"watch {spec.name!r} exists; change it with --replace, or remove it with `watch rm`")
    newest = newest_article_id(db)
    # Run once now: a query FTS5 cannot parse is refused here, not found broken after the next crawl.
    try:
        search(db, request_for(spec, newest - 1, newest))
    except QueryError as error:
        raise QueryError(f"watch {spec.name!r}: {error}") from None
    outcome = save_watch(db, spec.name, spec.definition(), "command", utc_now_iso())
    if from_now and existing is None:
        start_after(db, spec.name, newest)
    targets = [*spec.emails, *spec.webhooks]
    where = ", ".join(targets) if targets else "nowhere yet (see it with `watch show`, or as a feed)"
    click.echo(f"watch {spec.name} {outcome}; sends {'each run' if every == 'run' else 'daily'} to {where}")


@watch.command(name="list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@with_storage()
def watch_list(options: Options, db: Database, fmt: str) -> None:
    """Every watch: its search, where it sends, how many articles it has matched, what is still pending.

    \b
    Example:
      chipwatch watch list --format json
    """
    from chipwatch.reports.watches import format_watches, watch_record
    from storage.watches import list_watches

    stored = list_watches(db)
    known = {row["name"] for row in stored}
    # A [[watch]] the file added since the last pass is listed too (the next crawl stores and matches it).
    unsynced = [_config_row(spec) for spec in options.watch if spec.name not in known]
    rows = sorted((watch_record(row) for row in [*stored, *unsynced]), key=lambda record: record["name"])
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        click.echo(format_watches(rows), nl=False)


@watch.command(name="show")
@click.argument("name")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100_000))
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "jsonl", "csv"]), default="table", show_default=True
)
@with_storage()
def watch_show(options: Options, db: Database, name: str, limit: int, fmt: str) -> None:
    """The articles a watch has matched, newest first, as `chipwatch search` prints them.

    \b
    Example:
      chipwatch watch show eccn-3a090 --limit 50
    """
    from chipwatch.feeds.selection import watch_articles
    from chipwatch.reports.articles import print_articles

    row = _known(db, name, options)
    print_articles(watch_articles(db, row["id"], limit) if row["id"] else [], fmt, sys.stdout)


@watch.command(name="test")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@with_storage()
def watch_test(options: Options, db: Database, name: str, fmt: str) -> None:
    """What the watch would send now — its matches among the articles stored since it last looked — and
    where; sends nothing, records nothing.

    \b
    Example:
      chipwatch watch test eccn-3a090
      chipwatch watch test eccn-3a090 --format json    # the webhook body
    """
    from chipwatch.watches.definition import request_for, spec_from_row
    from chipwatch.watches.matching import targets_of
    from chipwatch.watches.messages import payload
    from storage.search import search
    from storage.watches import newest_article_id

    row = _known(db, name, options)
    spec = spec_from_row(row)
    found = sorted(search(db, request_for(spec, row["matched_through"], newest_article_id(db))), key=lambda a: a["id"])
    if spec.counterparties:
        from chipwatch.watches.matching import touching_counterparties

        found = touching_counterparties(db, spec.counterparties, found)
    body = payload(options, spec.name, found)
    readers = {reader.address for reader in options.digest.readers}
    targets = targets_of(spec, readers)
    if fmt == "json":
        click.echo(
            json.dumps(
                {"targets": [{"channel": c, "target": t} for c, t in targets], "body": body},
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    if not found:
        click.echo(
            f"nothing new for {spec.name} since it last looked; `chipwatch watch show {spec.name}` lists "
            "what it has matched"
        )
        return
    click.echo(body["text"])
    click.echo("")
    click.echo("would go to: " + (", ".join(f"{c} {t}" for c, t in targets) if targets else "no target"))


@watch.command(name="rm")
@click.argument("name")
@with_storage(readonly=False)
def watch_rm(options: Options, db: Database, name: str) -> None:
    """Remove a watch; messages it has not delivered yet are cancelled.

    \b
    Example:
      chipwatch watch rm eccn-3a090
    """
    from storage.watches import remove_watch

    if any(other.name == name for other in options.watch):
        raise QueryError(f"watch {name!r} is defined in {options.config_file} ([[watch]]): remove it there")
    if not remove_watch(db, name):
        raise QueryError(f"no watch named {name!r} (see `chipwatch watch list`)")
    click.echo(f"watch {name} removed")


@watch.command(name="run")
@click.pass_obj
def watch_run(options: Options) -> None:
    """Match every watch against the articles stored since it last looked, and send what is due (crawls do
    this themselves; this is for a cron job that retries failed deliveries, or after adding a watch).

    \b
    Example:
      chipwatch watch run
    """
    from chipwatch.watches.run import watch_pass

    result = watch_pass(options)
    for note in result.notes:
        click.echo(note)
    click.echo(result.summary() or "watches — nothing new, nothing to send")
    if result.delivered and result.delivered.skipped:
        click.echo("another chipwatch process is delivering; it sends these too", err=True)
    if result.delivered and result.delivered.failed:
        for problem in result.delivered.problems:
            click.echo(f"    {problem}", err=True)
        sys.exit(1)


def _known(db: Database, name: str, options: Options) -> dict[str, Any]:
    """The stored watch, or one the config file defines that no pass has stored yet."""
    from storage.watches import get_watch

    row = get_watch(db, name)
    if row is None:
        spec = next((spec for spec in options.watch if spec.name == name), None)
        if spec is None:
            raise QueryError(f"no watch named {name!r} (see `chipwatch watch list`)")
        return _config_row(spec)
    return row


def _config_row(spec: WatchSpec) -> dict[str, Any]:
    """A [[watch]] of the config file as a stored row would be before its first pass."""
    return {
        "id": None,
        "name": spec.name,
        **spec.definition(),
        "emails": list(spec.emails),
        "webhooks": list(spec.webhooks),
        "origin": "config",
        "matched_through": 0,
        "matches": 0,
        "pending": 0,
        "last_sent_at": None,
        "last_matched_at": None,
    }


@click.command()
@click.argument("spec", metavar="all|topic:ID|story:N|watch:NAME")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@with_storage()
def feed(options: Options, db: Database, spec: str, limit: int) -> None:
    """Print an Atom 1.0 feed: every relevant article, one topic's, one story's or one watch's, newest first.
    `chipwatch serve` publishes the same at /feeds/all.atom, /feeds/topic/ID.atom, /feeds/story/N.atom and
    /feeds/watch/NAME.atom for feed readers (Miniflux, Feedly, Thunderbird ...).

    \b
    Examples:
      chipwatch feed all --limit 20 > all.atom
      chipwatch feed topic:enforcement
      chipwatch feed watch:eccn-3a090
    """
    from chipwatch.feeds.selection import render_feed

    sys.stdout.buffer.write(render_feed(db, spec, limit, options.serve.public_url))
    sys.stdout.flush()
