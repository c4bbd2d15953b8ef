"""Datasette on the database, read-only, described for people who browse it.

The metadata (descriptions, facets, full-text search, canned queries) is built here and handed to
Datasette with a small plugin (chipwatch/serve/plugins/) that teaches its SQLite connections the query
translation `chipwatch search` uses (for the canned search and the tables' own search box) and passages
with the words marked, so Chinese words in either script are found and shown too.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import chipwatch
from chipwatch.resources import packaged
from storage.database import writable

PLUGIN_DIR = packaged("chipwatch.serve", "plugins")

ARTICLE_COLUMNS = {
    "id": "chipwatch's id for the article (see `chipwatch show ID`)",
    "canonical_url": "the article's URL without tracking parameters; unique",
    "url": "the URL it was fetched from",
    "source": "the configured source that found it (sources.toml)",
    "publisher": "the outlet, when the source is a search feed or sitemap that names it",
    "title": "headline",
    "text": "the article's body text as extracted",
    "summary": "the feed's summary, or the opening of the text",
    "authors": "JSON list of bylines",
    "published_at": "publication time, UTC (ISO 8601)",
    "updated_at": "last update the page declares, UTC",
    "first_seen_at": "when chipwatch first stored it, UTC",
    "fetched_at": "when it was last fetched, UTC",
    "lang": "language: en, zh-Hans, zh-Hant, ...",
    "content_hash": "hash of the normalised text (exact copies share it)",
    "relevant": "1 when the classifier (or a reader's label) says it is about chip export policy",
    "relevance": "the classifier's confidence that it is relevant, 0-1",
    "model_version": "the classifier version that tagged it",
    "story_id": "the story thread it belongs to (stories.id)",
    "duplicate_of": "unused: copies live in the copies table",
    "is_follow_up": "1 when it follows up an earlier article of its story",
    "published_date": "the day as the page states it (YYYY-MM-DD; YYYY-MM for a month), never shifted by a zone",
    "published_precision": "how precise the page's date is: second, minute, day or month",
}

CANNED_QUERIES: dict[str, dict[str, Any]] = {
    "search": {
        "title": "Search (English and Chinese)",
        "description": "Full-text search with chipwatch's rules: FTS5 syntax; Chinese in either script finds "
        "both; a known name finds its other names (英伟达, 輝達, Nvidia); the words marked in the passage.",
        "sql": (
            "select a.id, a.moment, a.lang, a.outlet, a.title, chipwatch_passage(t.text, :q) as passage, "
            "a.topics, a.url from articles_fts f join articles_flat a on a.id = f.rowid "
            "join articles t on t.id = f.rowid where articles_fts match chipwatch_match(:q) "
            "order by a.moment desc limit 200"
        ),
    },
    "todays_items_by_topic": {
        "title": "Today's items by topic",
        "description": "Relevant articles first stored on a day (UTC; today when :day is empty), by topic.",
        "sql": (
            "select t.topic, a.title, coalesce(a.publisher, a.source) as outlet, a.lang, a.published_at, "
            "a.canonical_url as url from articles a join article_topics t on t.article_id = a.id "
            "where a.relevant = 1 and substr(a.first_seen_at, 1, 10) = coalesce(nullif(:day, ''), date('now')) "
            "order by t.topic, t.score desc"
        ),
    },
    "story_timeline": {
        "title": "A story's timeline",
        "description": "Every article of a story in order, with its outlet and copies.",
        "sql": (
            "select a.moment, a.outlet, a.lang, a.is_follow_up, a.title, a.copies, a.url from articles_flat a "
            "where a.story_id = :story_id order by a.moment, a.id"
        ),
    },
    "source_health": {
        "title": "Source health",
        "description": "Each source's last success, failures in a row, last error and items per run.",
        "sql": "select * from source_health order by consecutive_failures desc, name",
    },
    "coverage_by_language_per_day": {
        "title": "Coverage by language per day",
        "description": "Articles per day in English and in Chinese (both scripts); relevant ones in brackets.",
        "sql": (
            "select day, sum(case when lang = 'en' then articles else 0 end) as en, "
            "sum(case when lang like 'zh%' then articles else 0 end) as zh, "
            "sum(case when lang not in ('en') and lang not like 'zh%' then articles else 0 end) as other, "
            "sum(relevant) as relevant from coverage_by_day group by day order by day desc"
        ),
    },
}


def metadata(database_name: str, public_url: str = "", accounts: dict[str, str] | None = None) -> dict[str, Any]:
    """Datasette metadata for a chipwatch database opened under database_name."""
    tables = {
        "articles": {
            "description": "One row per article (copies of it are in copies). The search box uses chipwatch's "
            "rules (Chinese in either script, names with their other names); the 'search' query adds passages.",
            "columns": ARTICLE_COLUMNS,
            "facets": ["lang", "source", "relevant"],
            "fts_table": "articles_fts",
            "fts_pk": "id",
            "sort_desc": "first_seen_at",
            "label_column": "title",
        },
        "articles_flat": {
            "description": "Articles with their topics flattened (topics: JSON list, best first), outlet, "
            "story title and number of copies.",
            "facets": [{"array": "topics"}, "primary_topic", "outlet", "lang"],
            "sort_desc": "moment",
            "label_column": "title",
        },
        "article_topics": {
            "description": "The topics of each article: score 0-1 and the phrases that pointed to it.",
            "facets": ["topic"],
        },
        "stories": {"description": "Story threads: articles about one development.", "sort_desc": "last_seen"},
        "stories_overview": {
            "description": "Stories with their counts of articles, copies and follow-ups, most recently active first.",
            "sort_desc": "last_seen",
        },
        "copies": {"description": "Pages that carry a stored article's text (syndication).", "facets": ["source"]},
        "entities": {"description": "Who and what each article names.", "facets": ["kind"]},
        "sources": {"description": "The configured sources and their health."},
        "source_health": {"description": "Sources with their run statistics."},
        "crawl_runs": {"description": "One row per crawl of a source.", "facets": ["source", "status"]},
        "crawl_errors": {"description": "What went wrong, per URL and run.", "facets": ["source", "kind"]},
        "coverage_by_day": {"description": "Articles per day and language."},
        "digests": {"description": "Daily digests: one per reader per day.", "facets": ["status"]},
        "labels": {"description": "Readers' corrections of the classifier."},
        "site_names": {"description": "Sites' names learned from the segment their headlines share (3+ pages)."},
    }
    hidden = ["minhash_signatures", "minhash_bands", "article_profiles", "schedule_state", "migrations"]
    for name in hidden:
        tables[name] = {"hidden": True}
    return {
        "title": "chipwatch",
        "description": "Coverage of chip export policy, crawled, tagged by topic and grouped into stories.",
        "databases": {database_name: {"tables": tables, "queries": CANNED_QUERIES}},
        # The Atom feeds (/feeds/...) link to themselves at this address when it is set.
        "plugins": {
            "chipwatch_feeds": {"public_url": public_url},
            # Password hashes only; the token reaches the plugin through the environment, never a file.
            "chipwatch_auth": {"accounts": accounts or {}, "secure": public_url.startswith("https://")},
        },
    }


def datasette_command(db: Path, port: int, host: str, metadata_file: Path) -> list[str]:
    """The Datasette command line: read-only (no write plugins; SQL limited to reads), our metadata and
    plugin, the database under its file name. A database nobody can write here (a read-only mount, a
    snapshot) is opened immutable, which needs no lock files beside it."""
    target = ["-i", str(db)] if not writable(db) else [str(db)]
    return [
        sys.executable,
        "-m",
        "datasette",
        "serve",
        *target,
        "--host",
        host,
        "--port",
        str(port),
        "--metadata",
        str(metadata_file),
        "--plugins-dir",
        str(PLUGIN_DIR),
        "--setting",
        "sql_time_limit_ms",
        "3000",
        "--setting",
        "facet_time_limit_ms",
        "1000",
    ]


def write_metadata(db: Path, directory: Path, public_url: str = "", accounts: dict[str, str] | None = None) -> Path:
    path = directory / "chipwatch-datasette-metadata.json"
    text = json.dumps(metadata(db.stem, public_url, accounts), ensure_ascii=False, indent=1)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def port_free(host: str, port: int) -> str | None:
    """None when the port can be listened on, else why not."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            return error.strerror or str(error)
    return None


def exec_datasette(
    db: Path, port: int, host: str, public_url: str = "", accounts: dict[str, str] | None = None
) -> None:
    """Replace this process with Datasette serving db (it returns only if Datasette cannot start)."""
    directory = Path(tempfile.mkdtemp(prefix="chipwatch-serve-"))
    command = datasette_command(db, port, host, write_metadata(db, directory, public_url, accounts))
    # The plugin imports chipwatch's own modules: Datasette's process finds them where this one did.
    here = str(Path(chipwatch.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))}
    sys.stdout.flush()
    os.execve(command[0], command, env)
