"""Small helpers for crawl tests: a sources file written from dicts, a crawl with quick timeouts, the DB."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.conftest import clean_env, run_chipwatch

QUICK = {
    "CHIPWATCH_CRAWL_DOWNLOAD_TIMEOUT": "3",
    "CHIPWATCH_CRAWL_RETRIES": "1",
    "CHIPWATCH_CRAWL_RETRY_BACKOFF": "0.1",
}


def write_sources(path: Path, *sources: dict[str, Any]) -> Path:
    lines = []
    for source in sources:
        lines.append("[[source]]")
        lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in source.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def crawl(db: Path, sources: Path, *names: str, timeout: float = 180, **env: str):
    return run_chipwatch(
        "--db",
        str(db),
        "crawl",
        "--sources-file",
        str(sources),
        *names,
        env=clean_env(**{**QUICK, **env}),
        timeout=timeout,
    )


def query(db: Path, sql: str, params: tuple | list = ()) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def rss(base: str, entries: list[tuple[str, str]], *, date: str = "Wed, 10 Dec 2025 10:00:00 GMT") -> bytes:
    """A feed of (title, path-or-url) entries."""
    items = "".join(
        f"<item><title>{title}</title><link>{link if link.startswith('http') else base + link}</link>"
        f"<pubDate>{date}</pubDate><description>{title}</description></item>"
        for title, link in entries
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
