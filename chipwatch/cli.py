"""The chipwatch command line. Each command parses its options, opens what it needs, calls one function,
and turns chipwatch's errors into a one-line message."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import click

from chipwatch import (
    __version__,
    cli_bench,
    cli_classifier,
    cli_daemon,
    cli_digest,
    cli_query,
    cli_sources,
    cli_stories,
)
from chipwatch.cli_common import fail_cleanly
from chipwatch.config import Options, load_options
from chipwatch.errors import ChipwatchError

FORMATS = click.Choice(["table", "json", "csv"])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    help="TOML config (default: ./chipwatch.toml).",
)
@click.option(
    "--db",
    type=click.Path(path_type=Path),
    help="SQLite database (default: data/chipwatch.db, or $CHIPWATCH_DB).",
)
@click.version_option(__version__, prog_name="chipwatch")
@click.pass_context
@fail_cleanly
def cli(ctx: click.Context, config_file: Path | None, db: Path | None) -> None:
    """Follow the news on chip export policy: crawl sources, tag items by topic, store them in SQLite.

    \b
    Start with the offline demo:
      chipwatch demo
      chipwatch --db data/demo.db search H200
    """
    options = load_options(config_file)
    if db is not None:
        options = options.replace("storage", db=db)
    ctx.obj = options


@cli.command()
@click.argument("sources", nargs=-1)
@click.option(
    "--sources-file",
    type=click.Path(path_type=Path),
    help="Sources file (default from config: sources.toml).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's own log.")
@click.pass_obj
@fail_cleanly
def crawl(options: Options, sources: tuple[str, ...], sources_file: Path | None, verbose: bool) -> None:
    """Crawl now: every enabled source, or the named ones, and print a summary per source.

    \b
    Example:
      chipwatch crawl                       # all enabled sources in sources.toml
      chipwatch crawl federal-register-bis  # one source
    """
    from chipwatch.crawl import crawl as run_crawl

    if sources_file is not None:
        options = options.replace("crawl", sources=sources_file)
    results = run_crawl(options, sources, verbose=verbose)
    for r in results:
        click.echo(
            f"{r.source:<28} {r.status:<9} pages {r.pages_fetched:>4}  new {r.items_new:>4}  "
            f"updated {r.items_updated:>3}  dropped {r.items_dropped:>3}  errors {r.errors:>3}"
        )
        for line in r.first_errors[:3]:
            click.echo(f"    {line}")
    if not results:
        click.echo("no enabled sources to crawl")
    if results and all(r.status != "ok" for r in results):
        sys.exit(1)


@cli.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", help="The page's URL (used to resolve links and as canonical URL fallback).")
@fail_cleanly
def extract(path: Path, url: str | None) -> None:
    """Extract one saved page (plain or .gz) and print its article as JSON.

    \b
    Example:
      chipwatch extract saved/page.html.gz --url https://example.com/news/1
    """
    from pipeline.dates import parse_date, to_utc_iso
    from pipeline.extract import extract_page
    from pipeline.urls import choose_canonical

    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise ChipwatchError(f"{path}: not a readable gzip file: {error}") from None
    page = extract_page(raw, url or path.resolve().as_uri())
    # A date printed without a zone is most likely in the page's own region's time.
    zone = "Asia/Shanghai" if (page.lang or "").startswith("zh") else "UTC"
    published = parse_date(page.published or page.text_date, zone)
    result = {
        "title": page.title,
        "text": page.text,
        "published_at": to_utc_iso(published) if published else None,
        "authors": page.authors,
        "lang": page.lang,
        "canonical_url": choose_canonical(url, page.canonical_url) if url else page.canonical_url,
    }
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))


@cli.command()
@click.option("--port", type=int, help="Port (default 8765, or [mirror] port in the config).")
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.pass_obj
@fail_cleanly
def mirror(options: Options, port: int | None, host: str | None) -> None:
    """Serve the fictional demo news network over HTTP until interrupted.

    \b
    Example:
      chipwatch mirror --port 8765 &
      chipwatch --db data/demo.db crawl --sources-file demo/sources.toml
    """
    from demo.server import MirrorServer

    host = host or options.mirror.host
    port = port or options.mirror.port
    try:
        server = MirrorServer(host, port)
    except OSError as error:
        raise ChipwatchError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    click.echo(f"serving the fictional demo news network on {server.base_url} (Ctrl-C to stop)", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@cli.command()
@click.option("--port", type=int, help="Mirror port (default 8765).")
@click.pass_context
@fail_cleanly
def demo(ctx: click.Context, port: int | None) -> None:
    """Run the whole pipeline on the offline demo: serve the fictional network, crawl it, summarise.

    Stores into data/demo.db unless --db is given. Running it again adds nothing already stored.

    \b
    Example:
      chipwatch demo && chipwatch --db data/demo.db search H200
    """
    from chipwatch.demo_run import DEMO_DB, format_report, run_demo

    options: Options = ctx.obj
    if ctx.parent is not None and ctx.parent.params.get("db") is None:
        options = options.replace("storage", db=DEMO_DB)
    if port:
        options = options.replace("mirror", port=port)
    report = run_demo(options)
    click.echo(format_report(report))
    if report.results and all(r.status != "ok" for r in report.results):
        sys.exit(1)


for _command in (
    cli_query.search,
    cli_query.show,
    cli_query.export,
    cli_query.serve,
    cli_classifier.classify,
    cli_classifier.eval_command,
    cli_classifier.train,
    cli_classifier.label,
    cli_classifier.reclassify,
    cli_stories.stories,
    cli_stories.story,
    cli_stories.cluster,
    cli_stories.bench_grouping,
    cli_daemon.daemon,
    cli_daemon.run_due,
    cli_daemon.status,
    cli_digest.digest,
    cli_bench.bench_extract,
    cli_bench.bench_search,
    cli_bench.bench,
    cli_sources.sources,
):
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="chipwatch")


if __name__ == "__main__":
    main()
