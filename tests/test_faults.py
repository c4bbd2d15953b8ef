"""Faults served by the mirror over real HTTP, in one crawl: each is recorded on its crawl run with the
source and URL, costs no more than its retries, and stops neither the crawl nor the other sources."""

from __future__ import annotations

import pytest

from tests.crawl_helpers import crawl, query, rss, write_sources

# Discovery documents that fail: (source name, kind, fault, error kind recorded).
SOURCE_FAULTS = [
    ("feed-html", "feed", "html-instead-of-feed", "feed"),
    ("feed-truncated", "feed", "truncated-xml", "feed"),
    ("feed-404", "feed", "not-found", "http"),
    ("feed-500", "feed", "server-error", "http"),
    ("feed-timeout", "feed", "timeout", "timeout"),
    ("feed-reset", "feed", "reset", "reset"),
    ("feed-loop", "feed", "redirect-loop", "redirect"),
    ("api-error", "federal-register", "api-error", "api"),
]
# Article pages that fail, listed in one otherwise good feed: (fault, error kind recorded).
PAGE_FAULTS = [
    ("not-found", "http"),
    ("gone", "http"),
    ("server-error", "http"),
    ("rate-limited", "http"),
    ("timeout", "timeout"),
    ("reset", "reset"),
    ("huge-page", "too-large"),
    ("gzip-bomb", "too-large"),
    ("redirect-loop", "redirect"),
]
MAX_PAGE_BYTES = 5_000_000


@pytest.fixture(scope="module")
def faulty(network, tmp_path_factory):
    from demo.server import MirrorServer

    server = MirrorServer("127.0.0.1", 0, network).start_background()
    base = server.base_url
    tmp = tmp_path_factory.mktemp("faults")
    good_pages = [a for a in network.of_outlet("circuit-ledger")][:2]
    entries = [(f"Nvidia H200 page fault {fault}", f"/faults/{fault}/page.html") for fault, _ in PAGE_FAULTS]
    entries += [(a.title, a.path) for a in good_pages]
    server.add_route("/pages/feed.xml", rss(base, entries), "application/rss+xml")
    sources = [
        {
            "name": name,
            "kind": kind,
            "url": f"{base}/faults/{fault}/{'documents.json' if kind != 'feed' else 'feed.xml'}",
        }
        for name, kind, fault, _ in SOURCE_FAULTS
    ]
    sources += [
        {"name": "xml-bomb", "kind": "feed", "url": f"{base}/faults/xml-bomb/feed.xml"},
        {"name": "external-entity", "kind": "feed", "url": f"{base}/faults/external-entity/feed.xml"},
        {"name": "sitemap-loop", "kind": "sitemap", "url": f"{base}/faults/sitemap-self-index/sitemap.xml"},
        {"name": "pages", "kind": "feed", "url": f"{base}/pages/feed.xml"},
        {"name": "good", "kind": "feed", "url": f"{base}/pacific-wire/feed.xml"},
    ]
    sources_file = write_sources(tmp / "s.toml", *sources)
    db = tmp / "c.db"
    result = crawl(db, sources_file, CHIPWATCH_CRAWL_MAX_PAGE_BYTES=str(MAX_PAGE_BYTES), timeout=240)
    yield {
        "result": result,
        "db": db,
        "base": base,
        "server": server,
        "good_pages": good_pages,
        "sources": sources_file,
    }
    server.stop()


def errors(faulty):
    return query(faulty["db"], "SELECT source, kind, url, message FROM crawl_errors")


def runs(faulty):
    return {row[0]: row[1:] for row in query(faulty["db"], "SELECT source, status, items_new, errors FROM crawl_runs")}


def test_the_crawl_finishes_and_reports_the_failed_sources(faulty):
    result = faulty["result"]
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    assert "Traceback" not in result.stderr.decode()
    status = runs(faulty)
    for name, *_ in SOURCE_FAULTS:
        assert status[name][0] == "failed", (name, status[name])
    assert status["good"][0] == "ok" and status["good"][1] > 0
    assert status["pages"][0] == "ok"


@pytest.mark.parametrize("name, kind, fault, error_kind", SOURCE_FAULTS)
def test_each_broken_source_is_recorded_with_its_url(faulty, name, kind, fault, error_kind):
    recorded = [e for e in errors(faulty) if e[0] == name]
    assert recorded, name
    assert any(e[1] == error_kind and f"/faults/{fault}/" in (e[2] or "") for e in recorded), recorded


@pytest.mark.parametrize("fault, error_kind", PAGE_FAULTS)
def test_each_broken_page_is_recorded_and_costs_at_most_its_retries(faulty, fault, error_kind):
    url = f"{faulty['base']}/faults/{fault}/page.html"
    assert any(e[0] == "pages" and e[1] == error_kind and e[2] == url for e in errors(faulty)), [
        e for e in errors(faulty) if e[0] == "pages"
    ]
    requested = [p for p in faulty["server"].requested_paths() if p.startswith(f"/faults/{fault}/page.html")]
    limit = 2 if fault != "redirect-loop" else 2 * 6  # retries=1; a loop stops after 5 redirects
    assert 1 <= len(requested) <= limit, requested


def test_the_good_pages_among_the_broken_ones_are_stored(faulty):
    stored = {row[0] for row in query(faulty["db"], "SELECT url FROM articles WHERE source = 'pages'")}
    assert {faulty["base"] + a.path for a in faulty["good_pages"]} <= stored
    assert not any("/faults/" in url for url in stored)


def test_entities_are_never_expanded_and_external_files_never_read(faulty):
    everything = " ".join(
        str(value) for row in query(faulty["db"], "SELECT title, text, summary FROM articles") for value in row if value
    )
    assert "lollol" not in everything
    assert "root:" not in everything
    assert not [p for p in faulty["server"].requested_paths() if p == "/never"]


def test_a_sitemap_index_that_lists_itself_is_read_once(faulty):
    requested = [p for p in faulty["server"].requested_paths() if p.startswith("/faults/sitemap-self-index/")]
    assert len(requested) == 1
    assert runs(faulty)["sitemap-loop"][0] == "ok"


def test_robots_and_retries_did_not_slow_the_good_source(faulty):
    wire = query(faulty["db"], "SELECT count(*) FROM articles WHERE source = 'good'")[0][0]
    copies = query(faulty["db"], "SELECT count(*) FROM copies WHERE source = 'good'")[0][0]
    assert wire + copies == runs(faulty)["good"][1]


def test_sources_command_flags_the_failing_sources_with_their_last_error(faulty):
    import json

    from tests.conftest import clean_env, run_chipwatch

    env = clean_env(CHIPWATCH_DB=str(faulty["db"]), CHIPWATCH_SOURCES=str(faulty["sources"]))
    result = run_chipwatch("sources", "--format", "json", env=env)
    assert result.returncode == 2, result.stderr.decode()  # something is flagged: monitoring can alert on it
    health = {row["name"]: row for row in json.loads(result.stdout)}
    assert health["good"]["status"] == "ok" and health["good"]["last_new"] > 0
    assert health["feed-404"]["status"] == "failing"
    assert health["feed-404"]["last_error"] == "http: HTTP 404"
    assert health["api-error"]["last_error"].startswith("api: the API returned an error")
    table = run_chipwatch("sources", "--problems", env=env).stdout.decode()
    assert "feed-404: failing" in table and "good " not in table
