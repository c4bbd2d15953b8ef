"""Crawls that resume: paginated sources read on from where a cut or failing run stopped, a child sitemap
read once, entries whose page failed retried with backoff and then shown as given up, never forgotten."""

from __future__ import annotations

import json

import pytest

from tests.helpers import clean_env, crawl, query, rss, run_chipwatch, write_sources

LISTING = {
    "kind": "listing",
    "links": "ul.releases a.release-link",
    "next_page": "//a[@class='next']/@href",
}


def listing(base: str, **extra: object) -> dict[str, object]:
    return {"name": "ctr", "url": f"{base}/capitol-trade-report/press", **LISTING, **extra}


def wanted(network, base: str, outlet: str) -> set[str]:
    return {base + a.path for a in network.of_outlet(outlet) if not a.members_only}


def stored(db, source: str) -> set[str]:
    return {row[0] for row in query(db, "SELECT url FROM articles WHERE source = ?", [source])}


@pytest.mark.slow  # long: in `make test-slow` (and CI)
def test_a_first_crawl_cut_by_max_pages_is_completed_by_the_next_runs(fresh_mirror, network, tmp_path):
    base = fresh_mirror.base_url
    sources = write_sources(tmp_path / "s.toml", listing(base, max_pages=1))
    db = tmp_path / "c.db"
    assert crawl(db, sources).returncode == 0
    first = stored(db, "ctr")
    assert first and first < wanted(network, base, "capitol-trade-report")  # page 1 only
    assert crawl(db, sources).returncode == 0  # page 1 is unchanged (304): the read goes on from page 2
    assert stored(db, "ctr") == wanted(network, base, "capitol-trade-report")
    fresh_mirror.requests.clear()
    assert crawl(db, sources).returncode == 0  # caught up: the first page alone, nothing fetched again
    assert [p for p in fresh_mirror.requested_paths() if p != "/robots.txt"] == ["/capitol-trade-report/press"]


def test_a_listing_whose_second_page_failed_once_is_read_on_the_next_run(fresh_mirror, network, tmp_path):
    base = fresh_mirror.base_url
    sources = write_sources(tmp_path / "s.toml", listing(base, max_pages=5))
    db = tmp_path / "c.db"
    fresh_mirror.fail_first("/capitol-trade-report/press?page=2", times=2)  # the first try and its retry
    assert crawl(db, sources).returncode == 0
    assert stored(db, "ctr") < wanted(network, base, "capitol-trade-report")
    assert crawl(db, sources).returncode == 0
    assert stored(db, "ctr") == wanted(network, base, "capitol-trade-report")


def test_the_api_resumes_where_a_cut_run_stopped(fresh_mirror, network, tmp_path):
    base = fresh_mirror.base_url
    url = base + "/api/v1/documents.json?order=newest&per_page=1"  # one document per page
    api = {"name": "fr", "kind": "federal-register", "url": url, "max_pages": 1}
    sources = write_sources(tmp_path / "s.toml", api)
    db = tmp_path / "c.db"
    assert crawl(db, sources).returncode == 0
    assert len(stored(db, "fr")) == 1  # one document per page, one page per run
    assert crawl(db, sources).returncode == 0
    assert stored(db, "fr") == wanted(network, base, "federal-docs")


@pytest.mark.slow
def test_a_sitemap_index_backfills_run_by_run(fresh_mirror, network, tmp_path):
    base = fresh_mirror.base_url
    source = {"name": "mt", "kind": "sitemap", "url": f"{base}/market-tape/sitemap.xml", "max_pages": 1}
    sources = write_sources(tmp_path / "s.toml", source)
    db = tmp_path / "c.db"
    months = {f"{a.published:%Y-%m}" for a in network.of_outlet("market-tape")}
    for _ in range(len(months)):
        assert crawl(db, sources).returncode == 0
    assert stored(db, "mt") == wanted(network, base, "market-tape")


@pytest.mark.slow  # long: in `make test-slow` (and CI)
def test_an_entry_whose_page_keeps_failing_is_retried_then_shown_as_given_up(fresh_mirror, network, tmp_path):
    base = fresh_mirror.base_url
    good = network.of_outlet("circuit-ledger")[0]
    fresh_mirror.add_route("/flaky/broken.html", b"down", "text/plain", status=503)
    fresh_mirror.fail_first(good.path, times=2)  # fails the first run (try and retry), then serves
    fresh_mirror.add_route(
        "/flaky/feed.xml",
        rss(base, [("Nvidia H200 page that stays down", "/flaky/broken.html"), (good.title, good.path)]),
        "application/rss+xml",
    )
    sources = write_sources(tmp_path / "s.toml", {"name": "flaky", "kind": "feed", "url": f"{base}/flaky/feed.xml"})
    db = tmp_path / "c.db"
    env = {"CHIPWATCH_CRAWL_ENTRY_RETRY_AFTER": "0", "CHIPWATCH_CRAWL_ENTRY_ATTEMPTS": "3"}
    for _ in range(3):
        assert crawl(db, sources, **env).returncode == 0
    assert stored(db, "flaky") == {base + good.path}  # the page that recovered was stored...
    rows = query(db, "SELECT url, attempts, given_up FROM failed_entries")
    assert rows == [(f"{base}/flaky/broken.html", 3, 1)]  # ...and the one that never did was given up
    result = run_chipwatch("sources", "--format", "json", env=clean_env(CHIPWATCH_DB=str(db)))
    assert result.returncode == 2  # something to look at
    [health] = json.loads(result.stdout)
    assert health["status"] == "gave-up" and health["given_up"] == 1
    table = run_chipwatch("sources", env=clean_env(CHIPWATCH_DB=str(db))).stdout.decode()
    assert "1 entries given up" in table


def slow_site(mirror, network, delay: float = 1.0) -> list:
    articles = network.of_outlet("circuit-ledger")
    for article in articles:
        body = mirror.respond(article.path).body
        mirror.add_route(f"/slowsite{article.path}", body, "text/html; charset=utf-8", delay=delay)
    feed = rss(mirror.base_url, [(a.title, f"/slowsite{a.path}") for a in articles])
    mirror.add_route("/slowsite/feed.xml", feed, "application/rss+xml")
    return articles


@pytest.mark.slow  # long: in `make test-slow` (and CI)
def test_ctrl_c_stops_a_crawl_with_one_line_and_records_it_as_cancelled(fresh_mirror, network, tmp_path):
    import signal
    import time

    from tests.helpers import QUICK, start_chipwatch

    articles = slow_site(fresh_mirror, network)
    sources = write_sources(
        tmp_path / "s.toml", {"name": "slow", "kind": "feed", "url": f"{fresh_mirror.base_url}/slowsite/feed.xml"}
    )
    db = tmp_path / "c.db"
    crawl_process = start_chipwatch(
        "crawl", "--sources-file", str(sources), env=clean_env(**QUICK, CHIPWATCH_DB=str(db)), capture=True
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(p.endswith(".html") for p in fresh_mirror.requested_paths()):
        time.sleep(0.05)
    crawl_process.send_signal(signal.SIGINT)
    out, err = crawl_process.communicate(timeout=60)
    assert crawl_process.returncode == 130, err.decode()
    assert "interrupted — " in err.decode() and "1 source unfinished" in err.decode()
    assert "slow " not in out.decode() and "Traceback" not in err.decode()  # no summary as if it were done
    assert query(db, "SELECT status FROM crawl_runs") == [("cancelled",)]
    assert query(db, "SELECT consecutive_failures FROM sources") == [(0,)]  # stopped, not failing
    assert not list(tmp_path.glob("*.lock"))  # no litter beside the database
    assert crawl(db, sources).returncode == 0  # the next run picks up every page
    assert len(stored(db, "slow")) == len(articles)


def test_the_pager_reads_new_items_then_resumes_and_moves_its_record_only_on_a_clean_end():
    from spiders.pagination import Pager
    from storage.crawl_state import Pagination

    fresh = Pager(Pagination(None, None, False), max_pages=2)
    assert fresh.after_page(1, "p2", all_stored=False) == ("p2", 2)
    assert fresh.after_page(2, "p3", all_stored=False) is None  # this run's budget is spent
    assert fresh.to_keep(clean=True, interrupted=False) == Pagination("p3", 3, False)
    assert fresh.to_keep(clean=True, interrupted=True) is None  # an interrupted run moves nothing

    resumed = Pager(Pagination("p3", 3, False), max_pages=2)
    assert resumed.after_page(1, "p2", all_stored=True) == ("p3", 3)  # nothing new on top: on from page 3
    assert resumed.after_page(3, "p4", all_stored=True) == ("p4", 4)  # never read to the end: go on
    assert resumed.after_page(4, None, all_stored=False) is None
    assert resumed.to_keep(clean=True, interrupted=False) == Pagination(None, None, True)

    caught_up = Pager(Pagination(None, None, True), max_pages=5)
    assert caught_up.after_page(1, "p2", all_stored=False) == ("p2", 2)
    assert caught_up.after_page(2, "p3", all_stored=True) is None  # reached what was read before
    assert caught_up.to_keep(clean=True, interrupted=False) is None  # the record stays as it was

    failing = Pager(Pagination(None, None, True), max_pages=5)
    assert failing.after_page(1, "p2", all_stored=False) == ("p2", 2)
    failing.page_failed("p2", 2)
    assert failing.to_keep(clean=False, interrupted=False) == Pagination("p2", 2, True)  # resume there

    shallow = Pager(Pagination(None, None, False), max_pages=10, backfill_pages=2)
    assert shallow.after_page(1, "p2", all_stored=False) == ("p2", 2)
    assert shallow.after_page(2, "p3", all_stored=False) is None  # as deep as the source wants
    assert shallow.to_keep(clean=True, interrupted=False) == Pagination(None, None, True)
