"""`chipwatch demo`: serve the fictional news network on loopback, crawl all of it, and summarise."""

from __future__ import annotations

import errno
import json
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from chipwatch.config import Options
from chipwatch.crawl.in_process import RunResult, crawl
from chipwatch.crawl.recorder import plural
from chipwatch.errors import ConfigError
from chipwatch.resources import packaged
from demo.network import DEFAULT_BASE
from demo.server import MirrorServer
from storage import opened
from storage.stats import database_summary

DEMO_SOURCES = packaged("demo", "sources.toml")
DEMO_DB = Path("data/demo.db")


@dataclass
class DemoReport:
    results: list[RunResult]
    summary: dict
    db: Path
    mirror: str


def rebased_sources(base_url: str, directory: Path) -> Path:
    """The demo sources file pointing at a mirror on another host:port."""
    if base_url == DEFAULT_BASE:
        return DEMO_SOURCES
    target = directory / "sources.toml"
    target.write_text(DEMO_SOURCES.read_text(encoding="utf-8").replace(DEFAULT_BASE, base_url), encoding="utf-8")
    return target


def run_demo(options: Options, *, stream: TextIO = sys.stderr) -> DemoReport:
    host, port = options.mirror.host, options.mirror.port
    server = _start_mirror(host, port)
    base = f"http://{host}:{port}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sources = rebased_sources(base, Path(tmp))
            demo_options = options.replace("crawl", sources=sources)
            stream.write(
                f"demo news network (fictional) on {base}; crawling {sources.name} into {options.storage.db}\n"
            )
            results = crawl(demo_options, stream=stream)
    finally:
        if server is not None:
            server.stop()
    with opened(options.storage.db) as db:
        summary = database_summary(db)
    return DemoReport(results, summary, options.storage.db, base)


def _start_mirror(host: str, port: int) -> MirrorServer | None:
    """Start the mirror in a thread; None when one is already serving on that port (it is reused)."""
    try:
        return MirrorServer(host, port).start_background()
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
    if _is_mirror(f"http://{host}:{port}"):
        return None
    raise ConfigError(f"port {port} on {host} is taken by another program; choose another with --port")


def _is_mirror(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/manifest.json", timeout=3) as response:
            return isinstance(json.load(response), list)
    except (OSError, ValueError):
        return False


def format_report(report: DemoReport) -> str:
    summary = report.summary
    lines = ["", "chipwatch demo — done", ""]
    failed = [r for r in report.results if r.status != "ok"]
    new = sum(r.items_new for r in report.results)
    pages = sum(r.pages_fetched for r in report.results)
    errors = sum(r.errors for r in report.results)
    lines.append(
        f"crawled {plural(len(report.results), 'source')} ({len(failed)} failed): "
        f"{plural(pages, 'page')} fetched, {plural(new, 'new item')}, {plural(errors, 'error')}"
    )
    lines.append(
        f"database: {report.db} — {plural(summary['articles'], 'article')} ({summary['relevant']} relevant), "
        f"{plural(summary['copies'], 'copy')}, {plural(summary['stories'], 'story')}"
    )
    for title, key in (
        ("by source", "by_source"),
        ("by topic (relevant articles)", "by_topic"),
        ("by language", "by_lang"),
    ):
        pairs = ", ".join(f"{name} {count}" for name, count in summary[key])
        lines.append(f"  {title}: {pairs}")
    for result in failed:
        lines.append(f"  ! {result.source}: {result.status}; " + "; ".join(result.first_errors[:2]))
    cw = _program()
    lines += [
        "",
        "try:",
        f"  {cw} --db {report.db} search H200",
        f"  {cw} --db {report.db} search 英伟达 --lang zh",
        f"  {cw} --db {report.db} search --topic china-response --format json",
        f"  {cw} --db {report.db} show 3",
        f"  {cw} --db {report.db} stories",
        f"  {cw} --db {report.db} sources        # each source's health, from the database",
        f"  {cw} --db {report.db} serve          # the reading room on http://127.0.0.1:8001/",
        # The demo's items were first stored just now: a preview covers up to now, so it shows them.
        f"  {cw} --db {report.db} digest --to you@example.org --preview",
    ]
    return "\n".join(lines) + "\n"


def _program() -> str:
    """How the user ran chipwatch (.venv/bin/chipwatch in a checkout, chipwatch when installed)."""
    invoked = Path(sys.argv[0])
    if invoked.name != "chipwatch":
        return "chipwatch"
    try:
        return str(invoked.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return "chipwatch"
