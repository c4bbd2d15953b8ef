"""Crawling now: crawl (every enabled source, or the named ones) and extract (one saved page)."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import click

from chipwatch.config import Options
from chipwatch.errors import ChipwatchError


@click.command()
@click.argument("sources", nargs=-1)
@click.option(
    "--sources-file",
    type=click.Path(path_type=Path),
    help="Sources file (default from config: sources.toml).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's own log.")
@click.pass_obj
def crawl(options: Options, sources: tuple[str, ...], sources_file: Path | None, verbose: bool) -> None:
    """Crawl now: every enabled source, or the named ones, and print a summary per source.

    With a cluster configured ([cluster] redis), the crawls are queued for its workers (`chipwatch worker`)
    and this process stores what they send, until every crawl has ended; the summary adds pages per worker.

    \b
    Example:
      chipwatch crawl                       # all enabled sources in sources.toml
      chipwatch crawl federal-register-bis  # one source
    """
    from chipwatch.crawl.in_process import crawl as run_crawl
    from chipwatch.crawl.in_process import interrupted

    if sources_file is not None:
        options = options.replace("crawl", sources=sources_file)
    results = run_crawl(options, sources, verbose=verbose)
    stopped = interrupted(results)
    if stopped:
        click.echo(stopped, err=True)
        sys.exit(130)
    for r in results:
        click.echo(
            f"{r.source:<28} {r.status:<9} pages {r.pages_fetched:>4}  new {r.items_new:>4}  "
            f"updated {r.items_updated:>3}  dropped {r.items_dropped:>3}  errors {r.errors:>3}"
        )
        for line in r.first_errors[:3]:
            click.echo(f"    {line}")
    workers: dict[str, int] = {}
    for r in results:
        for name, pages in r.pages_by_worker.items():
            workers[name] = workers.get(name, 0) + pages
    if workers:
        click.echo("pages per worker: " + ", ".join(f"{name} {pages}" for name, pages in sorted(workers.items())))
    if not results:
        click.echo("no enabled sources to crawl")
    if results and all(r.status != "ok" for r in results):
        sys.exit(1)


@click.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", help="The page's URL (used to resolve links and as canonical URL fallback).")
def extract(path: Path, url: str | None) -> None:
    """Extract one saved page (plain or .gz) and print its article as JSON.

    \b
    Example:
      chipwatch extract saved/page.html.gz --url https://example.com/news/1
    """
    from pipeline.extract import extract_page
    from pipeline.process import default_zone, page_published, publication
    from pipeline.urls import choose_canonical

    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise ChipwatchError(f"{path}: not a readable gzip file: {error}") from None
    head = raw[:4096].lstrip().lower()
    if b"\x00" in raw[:4096] or (not head.startswith((b"<", b"\xef\xbb\xbf<")) and b"<html" not in head):
        raise ChipwatchError(f"{path}: not an HTML page (extract reads saved web pages, plain or .gz)")
    page = extract_page(raw, url or path.resolve().as_uri())
    zone = default_zone(page.lang)
    published_at, published_date, precision = publication(*page_published(page, zone), zone)
    result = {
        "title": page.title,
        "text": page.text,
        "published_at": published_at,
        "published_date": published_date,  # the day as the page states (or shows) it
        "published_precision": precision,
        "authors": page.authors,
        "lang": page.lang,
        "canonical_url": choose_canonical(url, page.canonical_url) if url else page.canonical_url,
    }
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))
