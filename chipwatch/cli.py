"""The chipwatch command line. Each command parses its options, opens what it needs, calls one function,
and turns chipwatch's errors into a one-line message."""

from __future__ import annotations

import functools
import gzip
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from chipwatch import __version__
from chipwatch.config import Options, load_options
from chipwatch.errors import ChipwatchError, QueryError

FORMATS = click.Choice(["table", "json", "csv"])


def _fail_cleanly(command: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ChipwatchError as error:
            raise click.ClickException(str(error)) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper


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
@_fail_cleanly
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
@_fail_cleanly
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
@click.argument("query", required=False)
@click.option("--topic", help="Only articles tagged with this topic id (e.g. export-controls).")
@click.option("--since", help="Only articles published on or after this date (YYYY-MM-DD).")
@click.option("--lang", help="Language code: en, zh (both scripts), zh-Hans, zh-Hant.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.pass_obj
@_fail_cleanly
def search(
    options: Options,
    query: str | None,
    topic: str | None,
    since: str | None,
    lang: str | None,
    limit: int,
    fmt: str,
) -> None:
    """Search stored articles, newest first. QUERY uses FTS5 syntax; Chinese words match anywhere.

    \b
    Examples:
      chipwatch search H200 --since 2025-12-01
      chipwatch search '"revenue share" OR 分成' --format json
      chipwatch search --topic china-response --lang zh
    """
    from chipwatch.output import print_articles
    from pipeline.classify import TOPIC_IDS
    from pipeline.dates import parse_date, to_utc_iso
    from pipeline.language import normalise_lang
    from storage import open_database
    from storage.search import search_articles

    if topic and topic not in TOPIC_IDS:
        raise QueryError(f"unknown topic {topic!r} (known: {', '.join(TOPIC_IDS)})")
    since_iso = None
    if since:
        moment = parse_date(since)
        if moment is None:
            raise QueryError(f"cannot read --since {since!r}; use YYYY-MM-DD")
        since_iso = to_utc_iso(moment)
    lang_code = None
    if lang:
        lang_code = normalise_lang(lang)
        if lang_code is None:
            raise QueryError(f"not a language code: {lang!r}")
    db = open_database(options.storage.db, readonly=True)
    try:
        rows = search_articles(db, query, topic=topic, since=since_iso, lang=lang_code, limit=limit)
    finally:
        db.close()
    print_articles(rows, fmt, sys.stdout)


@cli.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", help="The page's URL (used to resolve links and as canonical URL fallback).")
@_fail_cleanly
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
@click.argument("file", type=click.File("rb"), default="-")
@click.pass_obj
@_fail_cleanly
def classify(options: Options, file: Any) -> None:
    """Classify JSON Lines (id, title, text, optional lang) from FILE or stdin; one JSON line out per line in.

    \b
    Example:
      echo '{"id": 1, "title": "US lets Nvidia sell H200 to China", "text": "..."}' | chipwatch classify
    """
    from pipeline.classify import classify as classify_item
    from pipeline.classify import load_classifier

    model = load_classifier(options.classify.topics, options.classify.model)
    failures = 0
    total = 0
    for number, line in _numbered_lines(file):
        total += 1
        try:
            item = _json_line(line)
            result = classify_item(model, _text_field(item, "title"), _text_field(item, "text"), item.get("lang"))
            out = {
                "id": item.get("id"),
                "relevant": result.relevant,
                "relevance": result.relevance,
                "topics": [{"id": t.id, "score": t.score, "evidence": t.evidence} for t in result.topics],
            }
        except ValueError as error:
            failures += 1
            click.echo(f"line {number}: {error}", err=True)
            out = {"id": _id_if_any(line), "error": str(error)}
        click.echo(json.dumps(out, ensure_ascii=False))
    if failures:
        click.echo(f"{failures} of {total} lines could not be classified", err=True)


def _numbered_lines(stream: Any) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(stream, 1):
        if line.strip():
            yield number, line


def _json_line(line: bytes) -> dict[str, Any]:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 (byte {error.start})") from None
    try:
        item = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON: {error.msg} at column {error.colno}") from None
    if not isinstance(item, dict):
        raise ValueError("expected a JSON object with id, title and text")
    return item


def _text_field(item: dict[str, Any], name: str) -> str:
    value = item.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"field {name!r} must be a string")
    return value


def _id_if_any(line: bytes) -> Any:
    try:
        item = json.loads(line.decode("utf-8", errors="replace"))
        return item.get("id") if isinstance(item, dict) else None
    except ValueError:
        return None


@cli.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the model.")
@click.pass_obj
@_fail_cleanly
def train(options: Options, out: Path | None) -> None:
    """Train the classifier on the labelled corpus plus readers' corrections (`chipwatch label`).

    Writes the model to [classify] model (or --out) and prints cross-validated and heldout scores.
    The same corpus and corrections always give the same model file.

    \b
    Example:
      chipwatch train --out data/model.json && CHIPWATCH_CLASSIFY_MODEL=data/model.json chipwatch reclassify
    """
    from chipwatch.learning import train_model
    from pipeline.evaluate import summary

    result = train_model(options, out)
    report = result.report
    click.echo(f"model {result.version} written to {result.path}")
    click.echo(
        f"trained on {report.items} items ({report.corrections} corrections), {report.features} features, C={report.c}"
    )
    click.echo("cross-validated: " + _figures(report.cv_scores))
    for group in ("all", "en", "zh"):
        if group in result.heldout:
            click.echo(f"heldout {group:>3}: " + _figures(summary(result.heldout[group])))


def _figures(scores: dict[str, float]) -> str:
    return ", ".join(f"{name.replace('_', ' ')} {value:.3f}" for name, value in scores.items())


@cli.command(name="eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False)
@click.option(
    "--split",
    type=click.Choice(["heldout", "dev", "train", "all"]),
    default="heldout",
    show_default=True,
    help="Which part of the built-in corpus, when no FILE is given.",
)
@click.option("--speed", is_flag=True, help="Also measure load time and items per second.")
@click.pass_obj
@_fail_cleanly
def eval_command(options: Options, file: Path | None, split: str, speed: bool) -> None:
    """Measure the classifier: relevance and per-topic P/R/F1, micro and macro F1, primary-topic accuracy,
    each by language.

    FILE is labelled items, as JSON Lines (id, title, text, lang, relevant, topics) or in the corpus's own
    text format (pipeline/corpus/README.md). Without FILE, the built-in corpus's heldout split.

    \b
    Example:
      chipwatch eval                       # the heldout split
      chipwatch eval my-labels.jsonl --speed
    """
    from chipwatch.learning import evaluate_items, measure_speed

    report, _ = evaluate_items(options, file, split)
    click.echo(report)
    if speed:
        load_seconds, per_second = measure_speed(options)
        click.echo(f"model load {load_seconds * 1000:.0f} ms; {per_second:,.0f} items per second on one core")


@cli.command()
@click.argument("article_id", type=int)
@click.argument("topics", nargs=-1)
@click.option("--irrelevant", is_flag=True, help="The article is not about chip export policy.")
@click.pass_obj
@_fail_cleanly
def label(options: Options, article_id: int, topics: tuple[str, ...], irrelevant: bool) -> None:
    """Correct the classifier on one stored article; `chipwatch train` learns from corrections.

    \b
    Examples:
      chipwatch label 42 export-controls revenue-share
      chipwatch label 43 --irrelevant
    """
    from chipwatch.learning import label_article

    article = label_article(options, article_id, topics, irrelevant)
    tags = ", ".join(t["id"] for t in article["topics"]) or "not relevant"
    click.echo(f"labelled article {article_id} ({article['title']}): {tags}")


@cli.command()
@click.option("--since", help="Only articles first stored on or after this date (YYYY-MM-DD).")
@click.pass_obj
@_fail_cleanly
def reclassify(options: Options, since: str | None) -> None:
    """Re-tag stored articles with the current classifier, recording its version on each.

    Articles a reader labelled keep their labels.

    \b
    Example:
      chipwatch reclassify --since 2025-12-01
    """
    from chipwatch.learning import reclassify as run_reclassify
    from pipeline.dates import parse_date, to_utc_iso

    since_iso = None
    if since:
        moment = parse_date(since)
        if moment is None:
            raise QueryError(f"cannot read --since {since!r}; use YYYY-MM-DD")
        since_iso = to_utc_iso(moment)
    result = run_reclassify(options, since_iso)
    click.echo(
        f"examined {result.examined} articles: {result.changed} re-tagged with {result.version}, "
        f"{result.labelled_kept} kept their readers' labels"
    )


@cli.command()
@click.option("--port", type=int, help="Port (default 8765, or [mirror] port in the config).")
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.pass_obj
@_fail_cleanly
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
@_fail_cleanly
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


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="chipwatch")


if __name__ == "__main__":
    main()
