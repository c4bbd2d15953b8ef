"""Commands for running unattended and watching it run: daemon, run-due, status, sources."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from chipwatch.cli.options import with_storage
from chipwatch.config import Options

if TYPE_CHECKING:
    from sqlite_utils import Database


@click.command()
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@click.pass_obj
def daemon(options: Options, verbose: bool) -> None:
    """Run every source on its schedule and send the daily digest, until stopped (SIGTERM or Ctrl-C).

    Schedules, timezone, digest time, time limits: the [daemon] section of the config. SIGHUP reloads
    the sources file. Only one daemon runs per database. Logs go to stderr and to [daemon] log_file.

    \b
    Example:
      chipwatch --config /etc/chipwatch.toml daemon
    """
    from chipwatch.daemon import Daemon
    from chipwatch.logs import setup_logging

    setup_logging(options.daemon.log_file, verbose)
    raise SystemExit(Daemon(options).run())


@click.command(name="run-due")
@click.pass_obj
def run_due(options: Options) -> None:
    """Run what came due since the last run, then exit: for people who schedule with system cron.

    \b
    Example (crontab, every 5 minutes):
      */5 * * * * cd /srv/chipwatch && .venv/bin/chipwatch run-due >> data/cron.log 2>&1
    """
    from chipwatch.daemon import run_due as run

    result = run(options)
    if not result.crawled:
        click.echo("no source was due")
    for outcome in result.crawled:
        click.echo(f"{outcome.source:<28} {outcome.status:<9} new {outcome.items_new:>4}  errors {outcome.errors:>3}")
    if result.digest:
        click.echo(f"digest for {result.digest_day}: {result.digest}")


@click.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@with_storage()
def status(options: Options, db: Database, fmt: str) -> None:
    """Per source the database knows: last run, its result, failures in the last 24 hours and, while a
    daemon runs on the database, the next run; whether a daemon runs (PID, since when); the digest's last
    send; the database's size. Reads the database only: works from any directory, and read-only. With a
    cluster configured, also its workers (last heartbeat, pages fetched, errors) and its queue lengths.

    \b
    Example:
      chipwatch --db /srv/chipwatch/data/chipwatch.db status
      CHIPWATCH_CLUSTER_REDIS=redis://10.0.0.5:6379/0 chipwatch status --format json
    """
    from chipwatch.crawl.locks import daemon_holder
    from chipwatch.reports.status import format_status, status_report

    db_path = Path(options.storage.db)
    report = status_report(db, db_path, options.daemon.timezone, daemon_holder(db_path))
    report["cluster"], report["workers"] = None, []
    if options.cluster.enabled:
        from chipwatch.cluster.status import cluster_status

        found = cluster_status(options)
        report["workers"] = found.pop("workers")
        report["cluster"] = found
    click.echo(json.dumps(report, indent=2) if fmt == "json" else format_status(report), nl=fmt == "json")


@click.group(invoke_without_command=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option(
    "--problems", is_flag=True, help="Only sources that are failing, silent, overdue, never run or gave up entries."
)
@click.pass_context
def sources(ctx: click.Context, fmt: str, problems: bool) -> None:
    """List every source the database knows with its health: last success, failures in a row, items found
    per run, the last new item, entries given up; flags a source that has failed or stayed silent for longer
    than expected. Reads the database only: works from any directory, and read-only.

    Exits with status 2 when a source is flagged (for monitoring). `chipwatch sources check` tries the
    sources live instead.

    \b
    Example:
      chipwatch sources
      chipwatch sources --problems --format json
    """
    if ctx.invoked_subcommand is not None:
        return
    from chipwatch.reports.health import format_health, is_problem, source_health
    from storage import opened

    options: Options = ctx.obj
    with opened(options.storage.db, readonly=True) as db:
        report = source_health(db, options.daemon.timezone)
    flagged = [h for h in report if is_problem(h)]
    if problems:
        report = flagged
    if fmt == "json":
        click.echo(json.dumps([h.as_dict() for h in report], indent=2, ensure_ascii=False))
    elif problems and not report:
        click.echo("no problems")
    else:
        click.echo(format_health(report), nl=False)
    if (problems and report) or any(
        h.status in ("failing", "silent", "overdue", "gave-up", "declining") for h in flagged
    ):
        raise SystemExit(2)


@sources.command(name="check")
@click.argument("names", nargs=-1)
@click.option("--sources-file", type=click.Path(path_type=Path), help="Sources file (default from config).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--timeout", default=20.0, show_default=True, type=click.FloatRange(1, 300), help="Seconds per request.")
@click.pass_obj
def sources_check(
    options: Options, names: tuple[str, ...], sources_file: Path | None, fmt: str, timeout: float
) -> None:
    """Try each source live, from this machine, storing nothing: reachable (status, redirects, time),
    allowed by robots.txt, parsed as its kind, entries found (a listing's next page too), the newest
    entry's date, and one article fetched and extracted. A verdict per source — ok, empty, blocked, moved,
    selector-broken, parse-error, unreachable — with the fix to try. Every enabled source, or the named
    ones (enabled or not). Exits with status 2 when any source is not ok.

    \b
    Example:
      chipwatch sources check
      chipwatch sources check federal-register-bis --format json
    """
    from concurrent.futures import ThreadPoolExecutor

    from chipwatch.reports.source_check import format_checks
    from spiders.check import check_source
    from spiders.sources import load_sources, select_sources

    path = sources_file or options.crawl.sources
    known = load_sources(path)
    chosen = select_sources(known, names) if names else [source for source in known if source.enabled]
    agent = options.crawl.user_agent + (f" contact: {options.crawl.contact}" if options.crawl.contact else "")
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda source: check_source(source, agent, timeout), chosen))
    if fmt == "json":
        click.echo(json.dumps([r.as_dict() for r in results], indent=2, ensure_ascii=False))
    else:
        click.echo(format_checks(results), nl=False)
    if any(r.verdict != "ok" for r in results):
        raise SystemExit(2)


@sources.command(name="import")
@click.argument("opml_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--sources-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The sources file to add to (default from config; created when missing).",
)
@click.option("--schedule", default="0 */3 * * *", show_default=True, help="Cron schedule for the new sources.")
@click.option("--dry-run", is_flag=True, help="Say what would be added; change nothing.")
@click.pass_obj
def sources_import(options: Options, opml_file: Path, sources_file: Path | None, schedule: str, dry_run: bool) -> None:
    """Add the feeds of an OPML file (a feed reader's export) as `feed` sources, each with the given
    schedule; feeds already in the sources file are skipped. Reports each feed.

    \b
    Example:
      chipwatch sources import feedly.opml --sources-file my-sources.toml
      chipwatch sources import subscriptions.opml --dry-run
    """
    from chipwatch.errors import ConfigError
    from chipwatch.resources import packaged
    from spiders.opml import read_opml, same_feed, source_name, toml_entry
    from spiders.sources import cron_problem, load_sources

    target = sources_file or options.crawl.sources
    if target.resolve() == packaged("spiders", "sources.toml").resolve():
        raise ConfigError(
            "the shipped sources list is part of the installed package: import into your own file with "
            "--sources-file my-sources.toml (and point [crawl] sources at it)"
        )
    problem = cron_problem(schedule)
    if problem:
        raise ConfigError(f"--schedule {schedule!r}: {problem}")
    existing = load_sources(target) if target.exists() else []
    feeds, skipped = read_opml(opml_file.read_bytes(), str(opml_file))
    known = {same_feed(source.url): source.name for source in existing}
    taken = {source.name for source in existing}
    added: list[str] = []
    for feed in feeds:
        key = same_feed(feed.url)
        if key in known:
            click.echo(f"skip  {feed.url}  already a source ({known[key]})")
            continue
        name = source_name(feed.title, feed.url, taken)
        taken.add(name)
        known[key] = name
        added.append(toml_entry(name, feed, schedule))
        click.echo(f"add   {name:<28} {feed.url}")
    for skip in skipped:
        click.echo(f"skip  {skip.url or skip.title}  {skip.why}")
    if not added:
        click.echo(f"nothing to add to {target}")
        return
    if dry_run:
        click.echo(f"would add {len(added)} sources to {target} (dry run: nothing changed)")
        return
    _append_sources(target, added)
    click.echo(f"added {len(added)} sources to {target}")


def _append_sources(target: Path, entries: list[str]) -> None:
    """Append to the file through a checked copy: the file is replaced only once the result loads."""
    import os
    import tempfile

    from spiders.sources import load_sources

    before = target.read_text(encoding="utf-8") if target.exists() else "# chipwatch sources\n"
    text = before.rstrip("\n") + "\n\n" + "\n".join(entries)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".toml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        load_sources(Path(temporary))
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


@sources.command(name="export")
@click.option("--sources-file", type=click.Path(path_type=Path), help="Sources file (default from config).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of standard output.")
@click.pass_obj
def sources_export(options: Options, sources_file: Path | None, out: Path | None) -> None:
    """Write the feed sources (feeds and news-search feeds) as OPML 2.0, for a feed reader. Sitemaps,
    listings and APIs have no feed address and are left out (counted on standard error).

    \b
    Example:
      chipwatch sources export --out chipwatch.opml
    """
    import sys

    from spiders.opml import FEED_KINDS, write_opml
    from spiders.sources import load_sources

    known = load_sources(sources_file or options.crawl.sources)
    document = write_opml(known)
    if out is None:
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
    else:
        out.write_bytes(document)
    left_out = sum(1 for source in known if source.kind not in FEED_KINDS)
    exported = len(known) - left_out
    click.echo(
        f"exported {exported} feed sources" + (f"; {left_out} without a feed left out" if left_out else ""), err=True
    )
