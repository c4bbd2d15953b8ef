"""The fault suite. Every fault the mirror can serve, in one crawl over real HTTP: each recorded on its run
with the source, the URL and its kind, costing no more than its retries, stopping neither the crawl nor the
other sources; then a clean run that picks up what was missed. Crawls killed with SIGKILL at seeded random
moments while they write; two crawls of one source at once; hostile text in the CLI and in Datasette.
`make test` runs a short version of the kill loop, `make chaos` the long one."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from chipwatch.bench.end_to_end import _watch_memory
from demo.faults import FAULTS
from tests.helpers import (
    QUICK,
    clean_env,
    crawl,
    demo_sources_for,
    free_port,
    query,
    rss,
    run_chipwatch,
    start_chipwatch,
    write_sources,
)

GOOD = (
    "<html><head><title>{title}</title></head><body><article><h1>{title}</h1><p>Commerce approved new H200 "
    "export licences for approved customers in China on Tuesday, officials said, as lawmakers objected. "
    "{title} is now served in full.</p></article></body></html>"
)
# Page faults and what each should be recorded as (the kinds chipwatch writes on the crawl run).
PAGE_FAULTS = {
    "not-found": "http",
    "gone": "http",
    "server-error": "http",
    "unavailable": "http",
    "rate-limited": "http",
    "rate-limited-no-header": "http",
    "rate-limited-long": "http",
    "redirect-loop": "redirect",
    "redirect-offsite": "offsite",
    "timeout": "timeout",
    "reset": "reset",
    "drip": "timeout",
    "endless": "too-large",
    "empty": "extract",
    "huge-page": "too-large",
    "gzip-bomb": "too-large",
}
# Pages that are odd but readable: stored, with their oddity cleaned up.
ODD_PAGES = ("wrong-content-type", "invalid-utf8", "nul-bytes", "truncated-gzip")
# Discovery documents that fail, by kind of source: (kind, error kind recorded or None when harmless).
SOURCE_FAULTS = {
    "html-instead-of-feed": ("feed", "feed"),
    "truncated-xml": ("feed", "feed"),
    "not-found": ("feed", "http"),
    "server-error": ("feed", "http"),
    "timeout": ("feed", "timeout"),
    "reset": ("feed", "reset"),
    "redirect-loop": ("feed", "redirect"),
    "xml-bomb": ("feed", None),
    "external-entity": ("feed", None),
    "api-error": ("federal-register", "api"),
    "sitemap-self-index": ("sitemap", None),
    "huge-feed": ("feed", "limit"),
}
# Of those, the ones whose source fails as a whole (nothing could be read from it).
FAILED_SOURCES = ("html-instead-of-feed", "truncated-xml", "not-found", "server-error", "timeout", "reset")
FAILED_SOURCES += ("redirect-loop", "api-error")


def test_the_catalogue_has_at_least_25_kinds():
    covered = set(PAGE_FAULTS) | set(ODD_PAGES) | set(SOURCE_FAULTS) | {"connection-refused"}
    assert len(covered) >= 25
    assert covered - {"connection-refused"} <= set(FAULTS)


@pytest.fixture(scope="module")
def chaos(network, tmp_path_factory):
    from demo.server import MirrorServer

    server = MirrorServer("127.0.0.1", 0, network).start_background()
    base = server.base_url
    tmp = tmp_path_factory.mktemp("chaos")
    refused = f"http://127.0.0.1:{free_port()}/refused.html"  # nothing listens there
    pages = [f"/chaos/{fault}.html" for fault in [*PAGE_FAULTS, *ODD_PAGES]]
    for path, fault in zip(pages, [*PAGE_FAULTS, *ODD_PAGES], strict=True):
        server.add_fault(path, fault)
    entries = [(f"Nvidia H200 chaos page {path}", path) for path in pages] + [("Refused H200 page", refused)]
    server.add_route("/chaos/feed.xml", rss(base, entries), "application/rss+xml")
    sources = [{"name": "chaos-pages", "kind": "feed", "url": f"{base}/chaos/feed.xml"}]
    for fault, (kind, _) in SOURCE_FAULTS.items():
        source = {"name": f"doc-{fault}", "kind": kind, "url": f"{base}/faults/{fault}/doc"}
        if fault == "huge-feed":
            source["max_entries"] = 40
        sources.append(source)
    sources.append({"name": "pacific-wire", "kind": "feed", "url": f"{base}/pacific-wire/feed.xml"})
    sources_file = write_sources(tmp / "s.toml", *sources)
    db = tmp / "c.db"
    env = clean_env(**QUICK, CHIPWATCH_CRAWL_MAX_PAGE_BYTES="4000000", CHIPWATCH_DB=str(db))
    process = start_chipwatch("crawl", "--sources-file", str(sources_file), env=env, capture=True)
    peak_kb = _watch_memory(process)
    stdout, stderr = process.communicate(timeout=300)
    first = {"returncode": process.returncode, "stdout": stdout.decode(), "stderr": stderr.decode()}
    errors = query(db, "SELECT source, kind, url, message FROM crawl_errors")
    runs = {row[0]: row[1:] for row in query(db, "SELECT source, status, items_new, errors FROM crawl_runs")}
    requested = server.requested_paths()  # what the first crawl asked for, before the sites recover
    health = run_chipwatch(
        "sources", "--format", "json", env=clean_env(CHIPWATCH_DB=str(db), CHIPWATCH_SOURCES=str(sources_file))
    )
    problems = run_chipwatch(
        "sources", "--problems", env=clean_env(CHIPWATCH_DB=str(db), CHIPWATCH_SOURCES=str(sources_file))
    )
    # The sites recover: every fault page now serves a good article. The next run must pick them all up.
    for path in pages:
        server.add_route(path, GOOD.format(title=f"Recovered {path}").encode(), "text/html; charset=utf-8")
    second = crawl(db, sources_file, "chaos-pages", CHIPWATCH_CRAWL_MAX_PAGE_BYTES="4000000")
    yield {
        "db": db,
        "base": base,
        "first": first,
        "errors": errors,
        "runs": runs,
        "requested": requested,
        "health": health,
        "problems": problems,
        "second": second,
        "peak_kb": peak_kb,
        "server": server,
        "pages": pages,
        "refused": refused,
    }
    server.stop()


def test_the_crawl_survives_every_fault_and_the_good_source_is_untouched(chaos, network):
    assert chaos["first"]["returncode"] == 0, chaos["first"]["stderr"][-3000:]
    assert "Traceback" not in chaos["first"]["stderr"]
    wire = query(chaos["db"], "SELECT count(*) FROM articles WHERE source = 'pacific-wire'")[0][0]
    wire += query(chaos["db"], "SELECT count(*) FROM copies WHERE source = 'pacific-wire'")[0][0]
    assert wire == len(network.of_outlet("pacific-wire"))
    assert chaos["peak_kb"] < 1_500_000, f"crawl used {chaos['peak_kb'] / 1024:.0f} MB"


@pytest.mark.parametrize("fault, kind", sorted(PAGE_FAULTS.items()))
def test_each_page_fault_is_recorded_with_source_and_url(chaos, fault, kind):
    url = f"{chaos['base']}/chaos/{fault}.html"
    recorded = [e for e in chaos["errors"] if e[2] == url]
    assert recorded and recorded[0][0] == "chaos-pages", [e for e in chaos["errors"] if e[0] == "chaos-pages"]
    assert any(e[1] == kind for e in recorded), recorded


def test_a_refused_connection_is_recorded(chaos):
    assert any(e[2] == chaos["refused"] and e[1] == "refused" for e in chaos["errors"]), chaos["errors"]


@pytest.mark.parametrize("fault", ODD_PAGES)
def test_odd_but_readable_pages_are_stored_clean(chaos, fault):
    rows = query(chaos["db"], "SELECT title, text FROM articles WHERE url = ?", [f"{chaos['base']}/chaos/{fault}.html"])
    assert rows, fault
    title, text = rows[0]
    assert "\x00" not in (title + text) and "\ufffd" not in title


@pytest.mark.parametrize("fault, expected", sorted(SOURCE_FAULTS.items()))
def test_each_broken_document_is_recorded_or_harmless(chaos, fault, expected):
    _, error_kind = expected
    name = f"doc-{fault}"
    recorded = [e for e in chaos["errors"] if e[0] == name]
    if error_kind:
        assert any(e[1] == error_kind for e in recorded), recorded
    titles = " ".join(r[0] or "" for r in query(chaos["db"], "SELECT title FROM articles"))
    assert "lollol" not in titles and "root:x:0" not in titles


def test_the_next_clean_run_picks_up_everything_that_was_missed(chaos):
    assert chaos["second"].returncode == 0, chaos["second"].stderr.decode()[-2000:]
    stored = {r[0] for r in query(chaos["db"], "SELECT url FROM articles WHERE source = 'chaos-pages'")}
    missing = [p for p in chaos["pages"] if chaos["base"] + p not in stored and "offsite" not in p]
    assert missing == []
    counts = query(chaos["db"], "SELECT canonical_url, count(*) FROM articles GROUP BY 1 HAVING count(*) > 1")
    assert counts == []


def test_the_sources_whose_document_could_not_be_read_failed_and_the_others_did_not(chaos):
    for fault in FAILED_SOURCES:
        assert chaos["runs"][f"doc-{fault}"][0] == "failed", (fault, chaos["runs"][f"doc-{fault}"])
    assert chaos["runs"]["pacific-wire"][0] == "ok" and chaos["runs"]["pacific-wire"][1] > 0
    assert chaos["runs"]["chaos-pages"][0] == "ok"


@pytest.mark.parametrize("fault", [f for f, (_, kind) in sorted(SOURCE_FAULTS.items()) if kind])
def test_each_broken_source_is_recorded_under_its_own_url(chaos, fault):
    recorded = [e for e in chaos["errors"] if e[0] == f"doc-{fault}"]
    assert any(f"/faults/{fault}/" in (e[2] or "") for e in recorded), recorded


@pytest.mark.parametrize("fault", sorted(PAGE_FAULTS))
def test_each_broken_page_costs_at_most_its_retries(chaos, fault):
    requested = [p for p in chaos["requested"] if p.startswith(f"/chaos/{fault}.html")]
    limit = 2 if fault != "redirect-loop" else 2 * 6  # retries=1; a loop stops after 5 redirects
    assert 1 <= len(requested) <= limit, requested


def test_entities_are_never_expanded_and_external_files_never_read(chaos):
    everything = " ".join(
        str(value) for row in query(chaos["db"], "SELECT title, text, summary FROM articles") for value in row if value
    )
    assert "lollol" not in everything
    assert "root:" not in everything
    assert "/never" not in chaos["requested"]


def test_a_sitemap_index_that_lists_itself_is_read_once(chaos):
    assert len([p for p in chaos["requested"] if p.startswith("/faults/sitemap-self-index/")]) == 1
    assert chaos["runs"]["doc-sitemap-self-index"][0] == "ok"


def test_sources_command_flags_the_failing_sources_with_their_last_error(chaos):
    import json

    assert chaos["health"].returncode == 2, chaos["health"].stderr.decode()  # monitoring can alert on it
    health = {row["name"]: row for row in json.loads(chaos["health"].stdout)}
    assert health["pacific-wire"]["status"] == "ok" and health["pacific-wire"]["last_new"] > 0
    assert health["doc-not-found"]["status"] == "failing"
    assert health["doc-not-found"]["last_error"] == "http: HTTP 404"
    assert health["doc-api-error"]["last_error"].startswith("api: the API returned an error")
    table = chaos["problems"].stdout.decode()
    assert "doc-not-found: failing" in table and "pacific-wire " not in table
    assert chaos["problems"].returncode == 2


def test_a_huge_feed_costs_only_its_entry_limit(chaos):
    items = [p for p in chaos["server"].requested_paths() if p.startswith("/faults/ok/item-")]
    assert 0 < len(items) <= 40


# -- crashes -----------------------------------------------------------------------------------------------


def kill_loop(network, tmp_path: Path, kills: int, seed: int) -> None:
    from demo.server import MirrorServer

    rng = random.Random(seed)
    server = MirrorServer("127.0.0.1", 0, network).start_background()
    try:
        sources = demo_sources_for(server, tmp_path)
        db = tmp_path / "kill.db"
        env = clean_env(**QUICK, CHIPWATCH_DB=str(db))
        for round_number in range(kills):
            before = set()
            if db.exists():
                before = {r[0] for r in query(db, "SELECT canonical_url FROM articles")}
                before |= {r[0] for r in query(db, "SELECT url FROM copies")}
            process = start_chipwatch("crawl", "--sources-file", str(sources), env=env, start_new_session=True)
            time.sleep(rng.uniform(0.8, 5.0))
            if round_number % 2:
                process.send_signal(signal.SIGINT)  # Ctrl-C: Scrapy's graceful stop, the runs cancelled
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            else:
                os.killpg(process.pid, signal.SIGKILL)  # the crawl and its extraction workers, mid-write
                process.wait()
            if not db.exists():
                continue
            check_database(db, before, f"after kill {round_number + 1}")
        result = run_chipwatch("crawl", "--sources-file", str(sources), env=env)
        assert result.returncode == 0, result.stderr.decode()[-2000:]
        check_database(db, set(), "after the clean run")
        stored = {r[0] for r in query(db, "SELECT canonical_url FROM articles")}
        from pipeline.urls import canonical_url

        wanted = {
            canonical_url(server.base_url + a.path)
            for a in network.articles
            if not a.members_only and not a.duplicate_of
        }
        assert stored == wanted
        running = query(db, "SELECT count(*) FROM crawl_runs WHERE status = 'running'")[0][0]
        assert running == 0  # killed runs were settled as failed, interrupted ones recorded as cancelled
        assert not list(tmp_path.glob("*.lock"))  # no crawl lock files left beside the database
    finally:
        server.stop()


def check_database(db: Path, before: set[str], when: str) -> None:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", when
        articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        assert conn.execute("SELECT count(*) FROM articles_fts").fetchone()[0] == articles, when
        duplicates = conn.execute(
            "SELECT count(*) FROM (SELECT canonical_url FROM articles GROUP BY 1 HAVING count(*) > 1)"
        ).fetchone()[0]
        assert duplicates == 0, when
        after = {r[0] for r in conn.execute("SELECT canonical_url FROM articles")}
        after |= {r[0] for r in conn.execute("SELECT url FROM copies")}
        assert before <= after, f"{when}: lost {sorted(before - after)[:3]}"
    finally:
        conn.close()


@pytest.mark.slow
def test_crawls_interrupted_or_killed_mid_write_lose_and_duplicate_nothing(network, tmp_path):
    kill_loop(network, tmp_path, kills=3, seed=11)


@pytest.mark.chaos
def test_twenty_seeded_kills(network, tmp_path):
    kill_loop(network, tmp_path, kills=20, seed=2026)


# -- concurrency and hostile text -------------------------------------------------------------------------


def test_two_crawls_of_one_source_never_run_at_once(fresh_mirror, network, tmp_path):
    base = fresh_mirror.base_url
    articles = network.of_outlet("circuit-ledger")
    for article in articles:
        body = fresh_mirror.respond(article.path).body
        fresh_mirror.add_route(f"/slowsite{article.path}", body, "text/html; charset=utf-8", delay=0.5)
    fresh_mirror.add_route(
        "/slowsite/feed.xml", rss(base, [(a.title, f"/slowsite{a.path}") for a in articles]), "application/rss+xml"
    )
    sources = write_sources(tmp_path / "s.toml", {"name": "slow", "kind": "feed", "url": f"{base}/slowsite/feed.xml"})
    db = tmp_path / "c.db"
    env = clean_env(**QUICK, CHIPWATCH_DB=str(db))
    first = start_chipwatch("crawl", "--sources-file", str(sources), env=env, capture=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(p.startswith("/slowsite/") for p in fresh_mirror.requested_paths()):
        time.sleep(0.1)
    second = run_chipwatch("crawl", "--sources-file", str(sources), env=env)
    first.communicate(timeout=120)
    assert first.returncode == 0
    assert "skipped" in second.stdout.decode() and "already being crawled by PID" in second.stdout.decode()
    fetched = [p for p in fresh_mirror.requested_paths() if p.startswith("/slowsite/") and p.endswith(".html")]
    assert len(fetched) == len(set(fetched)) == len(articles)  # every page fetched once, by the first crawl
    assert query(db, "SELECT count(*) FROM crawl_runs")[0][0] == 1


def test_hostile_titles_are_inert_in_the_cli_and_in_datasette(fresh_mirror, tmp_path):
    base = fresh_mirror.base_url
    hostile = "<script>alert(1)</script>\u202eevil\u200b \x1b[31mred\x1b[0m Nvidia H200 <img src=x onerror=alert(2)>"
    page = (
        f"<html><head><title>{hostile.replace('<', '&lt;')}</title></head><body><article><h1>"
        f"{hostile.replace('<', '&lt;')}</h1><p>Commerce approved H200 export licences for China on Tuesday, "
        'officials said. <a href="javascript:alert(3)">more</a></p></article></body></html>'
    )
    fresh_mirror.add_route("/hostile/a.html", page.encode(), "text/html; charset=utf-8")
    fresh_mirror.add_route("/hostile/feed.xml", rss(base, [("x", "/hostile/a.html")]), "application/rss+xml")
    sources = write_sources(tmp_path / "s.toml", {"name": "hostile", "kind": "feed", "url": f"{base}/hostile/feed.xml"})
    db = tmp_path / "h.db"
    assert crawl(db, sources).returncode == 0
    title = query(db, "SELECT title FROM articles")[0][0]
    assert "\x1b" not in title  # no terminal escapes stored
    out = run_chipwatch("search", "H200", env=clean_env(CHIPWATCH_DB=str(db))).stdout.decode()
    assert "\x1b[31m" not in out
    port = free_port()
    server = start_chipwatch("serve", "--port", str(port), env=clean_env(CHIPWATCH_DB=str(db)))
    try:
        import urllib.request

        html = ""
        for _ in range(100):
            try:
                html = urllib.request.urlopen(f"http://127.0.0.1:{port}/h/articles", timeout=2).read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert "alert(1)" in html  # shown...
        assert "<script>alert(1)" not in html and "<img src=x" not in html  # ...as text, never as markup
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.mark.slow  # long: in `make test-slow` (and CI)
def test_reading_exporting_and_serving_while_a_crawl_writes(network, tmp_path):
    from demo.server import MirrorServer

    server = MirrorServer("127.0.0.1", 0, network).start_background()
    db = tmp_path / "live.db"
    env = clean_env(**QUICK, CHIPWATCH_DB=str(db))
    sources = demo_sources_for(server, tmp_path)
    try:
        assert run_chipwatch("crawl", "--sources-file", str(sources), "pacific-wire", env=env).returncode == 0
        port = free_port()
        datasette = start_chipwatch("serve", "--port", str(port), env=env)
        writer = start_chipwatch("crawl", "--sources-file", str(sources), env=env)
        import json
        import urllib.request

        reads = 0
        while writer.poll() is None:
            assert run_chipwatch("search", "H200", "--format", "json", env=env).returncode == 0
            assert run_chipwatch("export", env=env).returncode == 0
            try:
                data = json.loads(
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/live/articles.json?_size=1", timeout=5).read()
                )
                assert "rows" in data
                reads += 1
            except OSError:
                pass  # Datasette still starting
        assert writer.returncode == 0 and reads >= 1
        datasette.terminate()
        datasette.wait(timeout=20)
    finally:
        server.stop()


def test_the_live_progress_and_the_summary_count_alike(chaos):
    """One writer of a crawl's counts: the last progress line adds up to the per-source summary lines, errors
    included (a crawl with every fault has errors of every kind)."""
    import re

    last = [line for line in chaos["first"]["stderr"].splitlines() if " · stored " in line][-1]
    live = re.search(r"pages (\d+) · stored (\d+) new, (\d+) updated · dropped (\d+) · errors (\d+)", last)
    assert live, last
    totals = [0, 0, 0, 0, 0]
    for line in chaos["first"]["stdout"].splitlines():
        found = re.search(r"pages +(\d+) +new +(\d+) +updated +(\d+) +dropped +(\d+) +errors +(\d+)", line)
        if found:
            totals = [a + int(b) for a, b in zip(totals, found.groups(), strict=True)]
    assert [int(n) for n in live.groups()] == totals
    assert totals[4] > 0
    # A source whose document could not be read is said to have failed, never to have finished.
    progress = chaos["first"]["stderr"]
    assert "failed doc-not-found:" in progress and "finished doc-not-found" not in progress
    assert "finished pacific-wire:" in progress
