"""Querying the database: search, show, export."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from chipwatch.cli.options import with_storage
from chipwatch.config import Options
from chipwatch.errors import QueryError
from chipwatch.queries import search_request

if TYPE_CHECKING:
    from sqlite_utils import Database


def filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The filters search and export share."""
    options = [
        click.option("--topic", help="Only articles tagged with this topic id (e.g. export-controls)."),
        click.option("--story", type=int, help="Only articles in this story (see `chipwatch stories`)."),
        click.option(
            "--source", help="Only articles from this source, or by this publisher (a search result's outlet)."
        ),
        click.option("--lang", help="Language code: en, zh (both scripts), zh-Hans, zh-Hant."),
        click.option(
            "--since",
            help="Only articles published on or after this date (YYYY-MM-DD, or a full time; an article whose "
            "page gives no date counts from when it was first stored).",
        ),
        click.option("--until", help="Only articles published before this date (YYYY-MM-DD, or a full time)."),
        click.option(
            "--stored-since",
            help="Only articles chipwatch first stored on or after this date: what a digest or a watch since "
            "then has covered (--since is the publication date).",
        ),
        click.option("--min-relevance", type=click.FloatRange(0, 1), help="Only articles this relevant (0-1)."),
        click.option(
            "--entity", help="Only articles naming this entity, as KIND:VALUE (chip:h200, company:nvidia, agency:samr)."
        ),
        click.option(
            "--doc-type",
            type=click.Choice(["rule", "proposed-rule", "notice", "presidential"]),
            help="Only Federal Register documents of this type.",
        ),
        click.option(
            "--effective-since",
            help="Only Federal Register documents taking effect on or after this date (YYYY-MM-DD).",
        ),
        click.option(
            "--exact",
            is_flag=True,
            help="Match the words as typed: no other names of an entity (英伟达 also finds Nvidia, 輝達 otherwise).",
        ),
        click.option(
            "--sort",
            type=click.Choice(["date", "relevance"]),
            default="date",
            show_default=True,
            help="Newest first, or best match first (the classifier's relevance when there is no query).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.command()
@click.argument("query", required=False)
@filter_options
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100_000))
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "jsonl", "csv"]), default="table", show_default=True
)
@with_storage()
def search(options: Options, db: Database, query: str | None, limit: int, fmt: str, **filters: Any) -> None:
    """Search stored articles. QUERY uses FTS5 syntax (words, "phrases", AND/OR/NOT, prefix*); Chinese words
    match anywhere, in either script's own characters. The table shows where the words occur.

    \b
    Examples:
      chipwatch search H200 --since 2025-12-01
      chipwatch search '"revenue share" OR 分成' --format json
      chipwatch search 反垄断 --topic china-response --lang zh --sort relevance
      chipwatch search --entity agency:samr --until 2025-10-01
      chipwatch search --story 3 --format csv
      chipwatch search --doc-type rule --effective-since 2025-12-01
    """
    from chipwatch.reports.articles import print_articles
    from storage.articles import texts_for
    from storage.search import search

    rows = search(db, search_request(query, limit, **filters))
    if fmt == "table" and query:
        texts = texts_for(db, [row["id"] for row in rows])  # for the passages shown under each row
        for row in rows:
            row["text"] = texts.get(row["id"])
    print_articles(rows, fmt, sys.stdout, query=query)


@click.command()
@click.argument("article_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--full", is_flag=True, help="The whole text, not its first 1,500 characters.")
@with_storage()
def show(options: Options, db: Database, article_id: int, fmt: str, full: bool) -> None:
    """One article: where it came from, its topics and the words behind them, its story, copies and entities.

    \b
    Example:
      chipwatch show 42
      chipwatch show 42 --format json
    """
    import json

    from chipwatch.reports.articles import format_article
    from storage.articles import article_details

    article = article_details(db, article_id)
    if article is None:
        raise QueryError(f"no article #{article_id}")
    if fmt == "json":
        click.echo(json.dumps(article, ensure_ascii=False, indent=2))
    else:
        click.echo(format_article(article, full=full), nl=False)


@click.command()
@filter_options
@click.option("--query", "query", help="Full-text query, as for search.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of standard output.")
@with_storage()
def export(options: Options, db: Database, query: str | None, fmt: str, out: Path | None, **filters: Any) -> None:
    """Export every matching article, with its full text and topics, as JSON Lines or CSV. Streams: any
    number of rows in constant memory.

    \b
    Examples:
      chipwatch export --since 2025-12-01 > december.jsonl
      chipwatch export --topic enforcement --format csv --out enforcement.csv
      chipwatch export --query 'H200 AND 25%' --lang en
    """
    from chipwatch.reports.articles import write_export
    from storage.search import iter_articles

    rows = iter_articles(db, search_request(query, None, **filters))
    if out is None:
        count = write_export(rows, fmt, sys.stdout)
    else:
        with out.open("w", encoding="utf-8", newline="") as stream:
            count = write_export(rows, fmt, stream)
    click.echo(f"exported {count} articles", err=True)


@click.command()
@click.option("--port", default=8001, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0: all). Other than loopback, only with accounts or a token.",
)
@click.option("--hash-password", is_flag=True, help="Ask for a password and print its hash for [serve.accounts].")
@click.option("--feed-token", metavar="READER", help="Print READER's token for feed URLs (?token=...).")
@click.pass_obj
def serve(options: Options, port: int, host: str, hash_password: bool, feed_token: str | None) -> None:
    """Read the database in a browser, read-only: the reading room (today's stories, stories with their
    timelines and charts, search with chipwatch's rules, articles) at /, Atom feeds at /feeds/all.atom,
    /feeds/topic/ID.atom, /feeds/story/N.atom and /feeds/watch/NAME.atom, and Datasette's tables, facets,
    SQL and canned queries at /DATABASE.

    On an address other than loopback it starts only when people must sign in: accounts in
    [serve.accounts] (name = a hash from --hash-password) and/or a bearer token in $CHIPWATCH_SERVE_TOKEN.

    \b
    Example:
      chipwatch --db data/demo.db serve --port 8001    # then open http://127.0.0.1:8001/
      chipwatch serve --hash-password                  # for [serve.accounts]
      CHIPWATCH_SERVE_TOKEN=... chipwatch serve --host 0.0.0.0
    """
    from chipwatch.errors import ConfigError
    from chipwatch.serve.auth import feed_token as make_feed_token
    from chipwatch.serve.auth import hash_password as make_hash
    from chipwatch.serve.auth import is_loopback
    from chipwatch.serve.datasette import exec_datasette, port_free
    from storage import opened

    if hash_password:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True, err=True)
        click.echo(make_hash(password))
        return
    if feed_token:
        if not options.serve.token:
            raise ConfigError("feed tokens are signed with $CHIPWATCH_SERVE_TOKEN: set it (here and for serve)")
        click.echo(make_feed_token(options.serve.token, feed_token))
        return
    secured = bool(options.serve.accounts or options.serve.token)
    if not is_loopback(host) and not secured:
        raise ConfigError(
            f"serving on {host} lets anyone who reaches it read the database: configure [serve.accounts] "
            "(chipwatch serve --hash-password) or $CHIPWATCH_SERVE_TOKEN, or serve on 127.0.0.1"
        )
    with opened(options.storage.db, readonly=True):
        pass  # it exists, and its schema is current
    busy = port_free(host, port)
    if busy is not None:
        click.echo(f"cannot serve on {host}:{port}: {busy} (choose another with --port)", err=True)
        sys.exit(2)
    access = "sign-in required" if secured else "open to this machine"
    click.echo(f"serving {options.storage.db} read-only on http://{host}:{port}/ ({access}; Ctrl-C to stop)", err=True)
    exec_datasette(Path(options.storage.db), port, host, options.serve.public_url, dict(options.serve.accounts))
