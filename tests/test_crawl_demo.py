"""The whole path over real HTTP: the demo network crawled into a real SQLite file, checked against the
manifest's truth."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from pipeline.dates import to_utc_iso
from pipeline.urls import canonical_url
from spiders.sources import load_sources
from tests.helpers import clean_env, demo_sources_for, run_chipwatch


@pytest.fixture(scope="module")
def crawled(tmp_path_factory, network):
    """Crawl a mirror of our own twice: the state after the first crawl, and the requests of the second."""
    from demo.server import MirrorServer

    server = MirrorServer("127.0.0.1", 0, network).start_background()
    directory = tmp_path_factory.mktemp("crawl")
    db = directory / "chipwatch.db"
    sources = demo_sources_for(server, directory)
    first = run_chipwatch("--db", str(db), "crawl", "--sources-file", str(sources))
    first_requests = server.requested_paths()
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    articles = [dict(row) for row in conn.execute("SELECT * FROM articles")]
    conn.close()
    server.requests.clear()
    second = run_chipwatch("--db", str(db), "crawl", "--sources-file", str(sources))
    second_requests = server.requested_paths()
    second_logged = list(server.requests)
    server.stop()
    return {
        "db": db,
        "base": server.base_url,
        "first": first,
        "second": second,
        "articles": articles,
        "first_requests": first_requests,
        "second_requests": second_requests,
        "second_logged": second_logged,
        "sources": [source.name for source in load_sources(sources)],
        "user_agents": {r.user_agent for r in server.requests},
    }


def expected(network):
    """The pages that should become articles: everything but syndicated copies and robots-disallowed pages."""
    return [a for a in network.articles if not a.members_only and not a.duplicate_of]


def copies_expected(network):
    return [a for a in network.articles if a.duplicate_of]


def stored_by_url(crawled):
    return {row["canonical_url"]: row for row in crawled["articles"]}


def test_crawl_exits_cleanly_and_reports_every_source(crawled, network):
    assert crawled["first"].returncode == 0, crawled["first"].stderr.decode()
    out = crawled["first"].stdout.decode()
    for source in crawled["sources"]:
        assert source in out
    assert "failed" not in out
    # Not a terminal: progress comes as plain timestamped lines, one per finished source.
    progress = crawled["first"].stderr.decode()
    assert all(f"finished {source}" in progress for source in crawled["sources"])
    assert "\r" not in progress
    # Scrapy's own log stays quiet without -v, and the crawl leaves no lock files behind.
    assert " ERROR" not in progress and " WARNING" not in progress
    assert sorted(p.name for p in crawled["db"].parent.glob("*.lock")) == []


def test_every_article_is_stored_exactly_once(crawled, network):
    rows = crawled["articles"]
    urls = [row["canonical_url"] for row in rows]
    assert len(urls) == len(set(urls))
    wanted = {canonical_url(crawled["base"] + a.path) for a in expected(network)}
    assert set(urls) == wanted
    conn = sqlite3.connect(crawled["db"])
    copies = {canonical_url(row[0]) for row in conn.execute("SELECT url FROM copies")}
    conn.close()
    assert copies == {canonical_url(crawled["base"] + a.path) for a in copies_expected(network)}


def test_published_dates_and_languages_match_the_manifest(crawled, network):
    stored = stored_by_url(crawled)
    wrong_dates, wrong_langs = [], []
    for article in expected(network):
        row = stored[canonical_url(crawled["base"] + article.path)]
        if row["published_at"] != to_utc_iso(article.published):
            wrong_dates.append((article.id, row["published_at"]))
        if row["lang"] != article.lang:
            wrong_langs.append((article.id, row["lang"]))
    assert wrong_dates == []
    assert wrong_langs == []


def test_the_stored_day_is_the_day_each_outlet_printed(crawled, network):
    """published_date is the publication day in the outlet's own time, whatever zone its metadata uses
    (UTC metadata on Beijing-morning and Chicago-evening pages among them)."""
    from zoneinfo import ZoneInfo

    stored = stored_by_url(crawled)
    wrong = []
    for article in expected(network):
        row = stored[canonical_url(crawled["base"] + article.path)]
        local_day = article.published.astimezone(ZoneInfo(network.outlets[article.outlet].timezone)).date()
        if row["published_date"] != local_day.isoformat():
            wrong.append((article.id, row["published_date"], local_day.isoformat()))
    assert wrong == []


def test_titles_and_bodies_are_the_articles_not_the_page_chrome(crawled, network):
    stored = stored_by_url(crawled)
    squeeze = "".join
    for article in expected(network):
        row = stored[canonical_url(crawled["base"] + article.path)]
        assert row["title"] == article.title, article.id
        text = squeeze(row["text"].split())
        for paragraph in article.paragraphs:
            assert squeeze(paragraph.split()) in text, (article.id, paragraph[:40])
        for chrome in ("Related coverage", "Most read", "相关新闻", "网友评论", "Reader comments", "Sign up"):
            assert chrome not in row["text"], (article.id, chrome)


@pytest.mark.parametrize(
    "article_id, encoding",
    [("hx-h200", "gbk"), ("hx-rule", "gb18030"), ("ft-15pct", "big5"), ("ft-h200", "utf-8 declared as big5")],
)
def test_legacy_and_mislabelled_chinese_pages_are_decoded(crawled, network, article_id, encoding):
    article = next(a for a in network.articles if a.id == article_id)
    row = stored_by_url(crawled)[canonical_url(crawled["base"] + article.path)]
    assert row["title"] == article.title
    assert article.paragraphs[0][:20] in row["text"]
    assert "\ufffd" not in row["text"]


def test_robots_disallowed_page_is_never_requested(crawled, network):
    members = [a for a in network.articles if a.members_only]
    assert members, "the manifest must keep a robots-disallowed page to test"
    requested = crawled["first_requests"] + crawled["second_requests"]
    assert "/robots.txt" in requested
    assert not [path for path in requested if path.startswith("/members/")]


def test_requests_carry_chipwatchs_user_agent(crawled):
    assert crawled["user_agents"] and all(agent.startswith("chipwatch/") for agent in crawled["user_agents"])


def test_relevance_matches_the_manifest(crawled, network):
    stored = stored_by_url(crawled)
    articles = expected(network)
    right = sum(bool(stored[canonical_url(crawled["base"] + a.path)]["relevant"]) == a.relevant for a in articles)
    assert right / len(articles) >= 0.95


def test_every_relevant_article_gets_a_topic_from_the_taxonomy(crawled):
    conn = sqlite3.connect(crawled["db"])
    untagged = conn.execute(
        "SELECT count(*) FROM articles WHERE relevant = 1 AND id NOT IN (SELECT article_id FROM article_topics)"
    ).fetchone()[0]
    evidence = [json.loads(row[0]) for row in conn.execute("SELECT evidence FROM article_topics")]
    conn.close()
    assert untagged == 0
    assert evidence and all(isinstance(e, list) and e for e in evidence)


def test_crawl_runs_are_recorded_per_source(crawled, network):
    conn = sqlite3.connect(crawled["db"])
    runs = conn.execute("SELECT source, status, pages_fetched, items_new, finished_at FROM crawl_runs").fetchall()
    conn.close()
    sources = crawled["sources"]
    assert len(runs) == 2 * len(sources)
    first = runs[: len(sources)]
    assert {r[0] for r in first} == set(sources)
    assert all(r[1] == "ok" and r[4] for r in runs)
    assert sum(r[3] for r in first) == len(expected(network)) + len(copies_expected(network))  # copies count as new


def test_second_crawl_sends_only_conditional_requests_and_stores_nothing_new(crawled, network):
    assert crawled["second"].returncode == 0
    conn = sqlite3.connect(crawled["db"])
    count = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    sources = crawled["sources"]
    second_runs = conn.execute(
        "SELECT items_new, pages_fetched FROM crawl_runs WHERE id > (SELECT max(id) - ? FROM crawl_runs)",
        [len(sources)],
    ).fetchall()
    validators = conn.execute("SELECT count(*) FROM sources WHERE etag IS NOT NULL").fetchone()[0]
    conn.close()
    assert count == len(expected(network))
    assert sum(row[0] for row in second_runs) == 0
    assert validators == len(sources)
    # One request per source, each conditional (the mirror answers 304), and no article or copy again.
    documents = [r for r in crawled["second_logged"] if r.path != "/robots.txt"]
    assert len(documents) == len(sources)
    assert all(r.headers.get("If-None-Match") and r.headers.get("If-Modified-Since") for r in documents)


def test_search_finds_english_and_both_chinese_scripts(crawled, network):
    env = clean_env(CHIPWATCH_DB=str(crawled["db"]))

    def search(*args):
        result = run_chipwatch("search", *args, "--format", "json", "--limit", "200", env=env)
        assert result.returncode == 0, result.stderr.decode()
        return json.loads(result.stdout)

    # One search across scripts: the Simplified and both Traditional spellings find the same articles,
    # in both scripts.
    simplified = search("英伟达", "--lang", "zh")
    assert {row["lang"] for row in simplified} == {"zh-Hans", "zh-Hant"}
    assert {r["id"] for r in simplified} == {r["id"] for r in search("輝達", "--lang", "zh")}
    assert {r["id"] for r in simplified} == {r["id"] for r in search("英偉達", "--lang", "zh")}
    assert {row["lang"] for row in search("芯片")} == {"zh-Hans", "zh-Hant"}
    h200 = search("H200", "--lang", "zh")
    assert h200 and {row["lang"] for row in h200} == {"zh-Hans", "zh-Hant"}
    english = search("smuggle*", "--lang", "en")
    assert english and all(row["lang"] == "en" for row in english)
    smuggling = {canonical_url(crawled["base"] + a.path) for a in network.articles if a.story == "smuggling-case"}
    english_smuggling = {u for u in smuggling if "gangwan" not in u and "huaxia" not in u}
    assert english_smuggling <= {row["url"] for row in english}
    row = search("H200")[0]
    assert set(row) >= {"id", "url", "title", "source", "lang", "published_at", "topics"}
    assert all(set(topic) == {"id", "score"} for topic in row["topics"])
    dates = [r["published_at"] for r in search("H200")]
    assert dates == sorted(dates, reverse=True)


def test_search_filters_by_topic_and_date(crawled, network):
    env = clean_env(CHIPWATCH_DB=str(crawled["db"]))
    result = run_chipwatch(
        "search", "--topic", "legislation", "--since", "2025-12-10", "--format", "json", "--limit", "500", env=env
    )
    rows = json.loads(result.stdout)
    assert rows
    assert all(r["published_at"] >= "2025-12-10" for r in rows)
    assert all("legislation" in {t["id"] for t in r["topics"]} for r in rows)
    senate = {a.id for a in network.articles if a.story == "senate-bill"}
    found = {next(a.id for a in network.articles if a.path in r["url"]) for r in rows}
    assert len(found & senate) >= len(senate) - 1


def test_table_output_is_readable(crawled):
    env = clean_env(CHIPWATCH_DB=str(crawled["db"]))
    result = run_chipwatch("search", "反垄断", env=env)
    lines = result.stdout.decode().splitlines()
    assert lines[0].split()[:3] == ["id", "published", "lang"]
    assert any("反壟斷" in line or "反垄断" in line for line in lines[1:])


def test_csv_output_has_a_header_and_one_row_per_article(crawled):
    env = clean_env(CHIPWATCH_DB=str(crawled["db"]))
    result = run_chipwatch("search", "Nvidia", "--format", "csv", "--limit", "5", env=env)
    lines = result.stdout.decode().strip().splitlines()
    assert lines[0].startswith("id,url,title")
    assert len(lines) == 6


def test_db_path_is_a_real_sqlite_file_in_wal_mode(crawled):
    assert Path(crawled["db"]).read_bytes()[:16] == b"SQLite format 3\x00"
    conn = sqlite3.connect(crawled["db"])
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    fts = conn.execute("SELECT count(*) FROM articles_fts").fetchone()[0]
    assert fts == conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    conn.close()


def test_demo_dates_span_at_least_ten_days(network):
    days = {a.published.date() for a in network.articles}
    assert len(days) >= 10
    assert isinstance(network.articles[0].published, datetime)


def test_each_run_records_the_entries_its_documents_listed(crawled, network):
    """entries_found: what the source's feed, sitemap or listing listed in that run (NULL when the document
    was not modified and so not read), which `sources` compares with the source's usual count."""
    conn = sqlite3.connect(crawled["db"])
    runs = conn.execute("SELECT entries_found FROM crawl_runs WHERE source = 'pacific-wire' ORDER BY id").fetchall()
    conn.close()
    listed = sum(1 for a in network.articles if a.outlet == "pacific-wire")
    assert runs[0][0] is not None and runs[0][0] >= listed - 1
    assert all(found is None or found >= 0 for (found,) in runs)
