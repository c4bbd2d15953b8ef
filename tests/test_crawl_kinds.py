"""Every spider kind and the incremental-crawl rules over real HTTP against the demo mirror: listings and
API pages followed until stored items are reached, sitemap indexes, search results with publishers,
the prefilter, the refresh window, allowed sites, Retry-After and concurrency per site."""

from __future__ import annotations

import time

from pipeline.dates import to_utc_iso
from tests.helpers import crawl, query, rss, write_sources

API = "/api/v1/documents.json?conditions%5Bagencies%5D%5B%5D=industry-and-security-bureau&order=newest&per_page=1"


def paths_of(server, prefix: str) -> list[str]:
    return [p for p in server.requested_paths() if p.startswith(prefix)]


def forget_validators(db) -> None:
    """As if the server sent no ETag or Last-Modified: the next crawl fetches the source's document in full."""
    import sqlite3

    conn = sqlite3.connect(db)
    conn.execute("UPDATE sources SET etag = NULL, last_modified = NULL")
    conn.commit()
    conn.close()


def test_listing_follows_next_pages_then_stops_where_stored_items_begin(fresh_mirror, network, tmp_path):
    base = fresh_mirror.base_url
    sources = write_sources(
        tmp_path / "s.toml",
        {
            "name": "ctr",
            "kind": "listing",
            "url": f"{base}/capitol-trade-report/press",
            "links": "ul.releases a.release-link",
            "next_page": "//a[@class='next']/@href",
            "max_pages": 5,
        },
    )
    db = tmp_path / "c.db"
    assert crawl(db, sources).returncode == 0
    assert "/capitol-trade-report/press?page=2" in fresh_mirror.requested_paths()
    stored = {row[0] for row in query(db, "SELECT url FROM articles WHERE source = 'ctr'")}
    wanted = {base + a.path for a in network.of_outlet("capitol-trade-report") if not a.members_only}
    assert stored == wanted
    forget_validators(db)
    fresh_mirror.requests.clear()
    assert crawl(db, sources).returncode == 0
    # Page 1 is fetched in full again, finds its items stored, and neither page 2 nor any article is requested.
    assert [p for p in fresh_mirror.requested_paths() if p != "/robots.txt"] == ["/capitol-trade-report/press"]


def test_federal_register_api_pages_until_a_stored_document(fresh_mirror, network, tmp_path):
    base = fresh_mirror.base_url
    sources = write_sources(tmp_path / "s.toml", {"name": "fr", "kind": "federal-register", "url": base + API})
    db = tmp_path / "c.db"
    assert crawl(db, sources).returncode == 0
    pages = paths_of(fresh_mirror, "/api/v1/documents.json")
    assert len(pages) == len(network.of_outlet("federal-docs")) == 2  # one document per page
    rows = query(db, "SELECT title, published_at FROM articles WHERE source = 'fr' ORDER BY published_at")
    assert [r[0] for r in rows] == [a.title for a in reversed(network.of_outlet("federal-docs"))]
    forget_validators(db)
    fresh_mirror.requests.clear()
    assert crawl(db, sources).returncode == 0
    assert paths_of(fresh_mirror, "/api/v1/documents.json") == [API]
    assert not paths_of(fresh_mirror, "/federal-docs/")


def test_sitemap_index_reads_the_newest_children_up_to_max_pages(fresh_mirror, network, tmp_path):
    base = fresh_mirror.base_url
    sources = write_sources(
        tmp_path / "s.toml",
        {"name": "mt", "kind": "sitemap", "url": f"{base}/market-tape/sitemap.xml", "max_pages": 2},
    )
    db = tmp_path / "c.db"
    assert crawl(db, sources).returncode == 0
    children = paths_of(fresh_mirror, "/market-tape/sitemap-")
    months = sorted({f"{a.published:%Y-%m}" for a in network.of_outlet("market-tape")}, reverse=True)
    assert sorted(children) == sorted(f"/market-tape/sitemap-{m}.xml" for m in months[:2])
    stored = {row[0] for row in query(db, "SELECT url FROM articles")}
    assert stored == {base + a.path for a in network.of_outlet("market-tape") if f"{a.published:%Y-%m}" in months[:2]}
    # The news sitemap's own fields: the publication date to the second.
    newest = network.of_outlet("market-tape")[0]
    assert query(db, "SELECT published_at FROM articles WHERE url = ?", [base + newest.path])[0][0] == to_utc_iso(
        newest.published
    )


def test_search_results_keep_publishers_and_skip_the_search_engines_redirects(fresh_mirror, network, tmp_path):
    base = fresh_mirror.base_url
    opaque = f"{base}/search/rss/articles/AU_yqLOpaqueIdThatCarriesNoUrlxxxxxxxxxxxxxxxxxx?oc=5"
    feed = fresh_mirror.respond("/search/rss?q=H200").body.replace(
        b"</channel>",
        f"<item><title>Congress schedules chip export hearing - Hill Daily</title><link>{opaque}</link>"
        "<pubDate>Wed, 10 Dec 2025 18:00:00 GMT</pubDate><description>Lawmakers will question Commerce "
        'officials about H200 licences.</description><source url="https://hill.example">Hill Daily</source>'
        "</item></channel>".encode(),
    )
    fresh_mirror.add_route("/search2/rss", feed, "application/rss+xml; charset=utf-8")
    sources = write_sources(tmp_path / "s.toml", {"name": "ns", "kind": "search", "url": f"{base}/search2/rss"})
    db = tmp_path / "c.db"
    assert crawl(db, sources).returncode == 0
    assert not paths_of(fresh_mirror, "/search/rss/articles/")  # decoded, not followed through the redirect
    carried = query(db, "SELECT publisher, url FROM copies UNION ALL SELECT publisher, url FROM articles")
    publishers = {row[0] for row in carried}
    searched = [o for o in network.outlets.values() if o.feed == "search"]
    assert {o.name for o in searched} | {"Hill Daily"} == publishers
    row = query(db, "SELECT title, text, url, publisher FROM articles WHERE publisher = 'Hill Daily'")[0]
    assert row[0] == "Congress schedules chip export hearing"  # " - Hill Daily" removed
    assert row[2] == opaque and "H200 licences" in row[1]


def test_prefilter_skips_entries_that_never_name_the_subject(fresh_mirror, network, tmp_path):
    base = fresh_mirror.base_url
    relevant = [a for a in network.articles if a.relevant and a.lang == "en" and not a.members_only][:2]
    snacks = network.of_outlet("snack-times")
    entries = [(a.title, a.path) for a in relevant + snacks]
    fresh_mirror.add_route("/broad/feed.xml", rss(base, entries), "application/rss+xml")
    sources = write_sources(
        tmp_path / "s.toml",
        {"name": "broad", "kind": "feed", "url": f"{base}/broad/feed.xml", "prefilter": True},
        {"name": "broad-all", "kind": "feed", "url": f"{base}/broad/feed.xml", "enabled": False},
    )
    db = tmp_path / "c.db"
    assert crawl(db, sources).returncode == 0
    requested = set(fresh_mirror.requested_paths())
    assert {a.path for a in relevant} <= requested
    assert not {a.path for a in snacks} & requested
    fresh_mirror.requests.clear()
    assert crawl(db, sources, "broad-all").returncode == 0  # the switch is per source
    assert {a.path for a in snacks} <= set(fresh_mirror.requested_paths())


def test_refresh_window_fetches_recent_items_again_and_stores_the_new_version(fresh_mirror, tmp_path):
    base = fresh_mirror.base_url
    page = (
        "<html><head><title>Licences approved</title></head><body><article><h1>Licences approved</h1>"
        "<p>Commerce approved the first H200 export licences for China on Tuesday, officials said. {}</p>"
        "</article></body></html>"
    )
    fresh_mirror.add_route(
        "/fresh/feed.xml", rss(base, [("Licences approved", "/fresh/a.html")]), "application/rss+xml"
    )
    fresh_mirror.add_route("/fresh/a.html", page.format("Three firms applied.").encode(), "text/html; charset=utf-8")
    sources = write_sources(
        tmp_path / "s.toml",
        {"name": "fresh", "kind": "feed", "url": f"{base}/fresh/feed.xml", "refresh_hours": 6},
        {"name": "stale", "kind": "feed", "url": f"{base}/fresh/feed.xml", "enabled": False},
    )
    db = tmp_path / "c.db"
    assert crawl(db, sources, "fresh").returncode == 0
    fresh_mirror.add_route("/fresh/a.html", page.format("Correction: four firms applied.").encode(), "text/html")
    fresh_mirror.requests.clear()
    result = crawl(db, sources, "fresh")
    assert result.returncode == 0
    # The feed answered 304, and the young item was fetched again anyway and updated in place.
    assert "/fresh/a.html" in fresh_mirror.requested_paths()
    assert query(db, "SELECT count(*), max(text) FROM articles")[0] == (1, query(db, "SELECT text FROM articles")[0][0])
    assert "Correction: four firms" in query(db, "SELECT text FROM articles")[0][0]
    assert query(db, "SELECT items_updated FROM crawl_runs ORDER BY id DESC LIMIT 1")[0][0] == 1


def test_links_leaving_the_sources_site_are_not_followed_unless_allowed(fresh_mirror, network, tmp_path):
    base = fresh_mirror.base_url
    article = network.of_outlet("pacific-wire")[0]
    elsewhere = base.replace("127.0.0.1", "localhost") + article.path
    fresh_mirror.add_route("/mixed/feed.xml", rss(base, [("Elsewhere", elsewhere)]), "application/rss+xml")
    sources = write_sources(
        tmp_path / "s.toml",
        {"name": "strict", "kind": "feed", "url": f"{base}/mixed/feed.xml"},
        {"name": "open", "kind": "feed", "url": f"{base}/mixed/feed.xml", "domains": ["localhost"], "enabled": False},
    )
    db = tmp_path / "c.db"
    assert crawl(db, sources, "strict").returncode == 0
    assert article.path not in fresh_mirror.requested_paths()
    errors = query(db, "SELECT source, kind, url FROM crawl_errors")
    assert ("strict", "offsite", elsewhere) in errors
    assert crawl(db, sources, "open").returncode == 0
    assert article.path in fresh_mirror.requested_paths()


def test_retry_after_is_honoured_and_an_overlong_one_is_not_waited_for(fresh_mirror, network, tmp_path):
    from demo.faults import Reply

    base = fresh_mirror.base_url
    article = network.of_outlet("pacific-wire")[0]
    calls = []

    def limited_once():
        calls.append(time.monotonic())
        if len(calls) == 1:
            return Reply(429, b"slow down", "text/plain", {"Retry-After": "2"})
        return fresh_mirror.respond(article.path)

    fresh_mirror.extra_routes["/limited/a.html"] = limited_once
    fresh_mirror.add_fault("/limited/b.html", "rate-limited-long")
    feed = rss(base, [("Limited once", "/limited/a.html"), ("Limited for a day", "/limited/b.html")])
    fresh_mirror.add_route("/limited/feed.xml", feed, "application/rss+xml")
    sources = write_sources(tmp_path / "s.toml", {"name": "lim", "kind": "feed", "url": f"{base}/limited/feed.xml"})
    db = tmp_path / "c.db"
    assert crawl(db, sources).returncode == 0
    assert len(calls) == 2 and calls[1] - calls[0] >= 1.9  # waited what the server asked
    assert query(db, "SELECT count(*) FROM articles WHERE url = ?", [f"{base}/limited/a.html"])[0][0] == 1
    assert fresh_mirror.requested_paths().count("/limited/b.html") == 1  # a day's wait: given up at once
    errors = query(db, "SELECT kind, url, message FROM crawl_errors")
    assert ("http", f"{base}/limited/b.html", "HTTP 429 (Retry-After: 86400)") in errors


def test_no_more_than_two_requests_at_once_to_one_site(fresh_mirror, network, tmp_path):
    base = fresh_mirror.base_url
    articles = [a for a in network.articles if not a.members_only][:12]
    for article in articles:
        body = fresh_mirror.respond(article.path).body
        fresh_mirror.add_route(f"/slow{article.path}", body, "text/html; charset=utf-8", delay=0.3)
    feed = rss(base, [(a.title, f"/slow{a.path}") for a in articles])
    fresh_mirror.add_route("/slow/feed.xml", feed, "application/rss+xml")
    sources = write_sources(tmp_path / "s.toml", {"name": "slow", "kind": "feed", "url": f"{base}/slow/feed.xml"})
    assert crawl(tmp_path / "c.db", sources, CHIPWATCH_CRAWL_AUTOTHROTTLE="false").returncode == 0
    assert len(paths_of(fresh_mirror, "/slow/")) == len(articles) + 1
    assert fresh_mirror.max_in_flight <= 2


def test_a_meta_refresh_is_followed_whatever_its_case_and_encoding(fresh_mirror, network, tmp_path):
    base = fresh_mirror.base_url
    moved, target = [a for a in network.articles if a.lang == "en" and not a.members_only][:2]
    # Fiction: an old address that sends readers on with a meta refresh, once in UTF-8 and once in UTF-16.
    refresh = f'<html><head><META HTTP-EQUIV="Refresh" CONTENT="0; URL={target.path}"></head><body>Moved.</body></html>'
    fresh_mirror.add_route("/old/one.html", refresh.encode(), "text/html; charset=utf-8")
    fresh_mirror.add_route("/old/two.html", refresh.encode("utf-16"), "text/html; charset=utf-16")
    feed = rss(base, [(moved.title, "/old/one.html"), (target.title, "/old/two.html")])
    fresh_mirror.add_route("/old/feed.xml", feed, "application/rss+xml")
    sources = write_sources(tmp_path / "s.toml", {"name": "old", "kind": "feed", "url": f"{base}/old/feed.xml"})
    db = tmp_path / "c.db"
    assert crawl(db, sources).returncode == 0
    assert fresh_mirror.requested_paths().count(target.path) >= 1
    assert query(db, "SELECT url FROM articles WHERE source = 'old'") == [(base + target.path,)]


def test_a_page_without_a_meta_refresh_is_not_decoded_to_look_for_one() -> None:
    from scrapy.http import HtmlResponse, Request
    from scrapy.utils.test import get_crawler

    from spiders.middlewares import HeadMetaRefreshMiddleware

    middleware = HeadMetaRefreshMiddleware.from_crawler(get_crawler())
    request = Request("https://news.example/a.html")
    page = b"<html><head><title>t</title></head><body>" + b"<p>words</p>" * 20_000 + b"</body></html>"
    response = HtmlResponse(request.url, body=page, request=request)
    assert middleware.process_response(request, response) is response
    assert response._cached_ubody is None  # Scrapy's check would have decoded all 240 KB
    late = page.replace(b"</head>", b'<meta http-equiv="refresh" content="0; url=/b.html"></head>')
    redirected = middleware.process_response(request, HtmlResponse(request.url, body=late, request=request))
    assert isinstance(redirected, Request) and redirected.url == "https://news.example/b.html"
