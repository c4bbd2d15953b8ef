"""Each kind of discovery document parsed from the real files in ../shared/fixtures/real: news sitemaps,
plain sitemaps, Federal Register API responses, Google News search feeds."""

from __future__ import annotations

import json
import re

import pytest

from chipwatch.errors import FeedError
from spiders.federal_register_parser import parse_document, parse_documents
from spiders.feed_parser import parse_feed
from spiders.links import publisher_url, site_of
from spiders.search_feeds import without_publisher
from spiders.sitemap_parser import parse_sitemap, unpack
from tests.helpers import real_fixture


def test_news_sitemap_entries_keep_the_news_fields_trimmed():
    path = real_fixture("sitemap/nytimes_news_sitemap_excerpt_2020-05.xml")
    raw = path.read_text(encoding="utf-8")
    sitemap = parse_sitemap(path.read_bytes())
    assert not sitemap.is_index
    assert len(sitemap.entries) == raw.count("<url>") == 6
    first = sitemap.entries[0]
    # The file has stray whitespace inside <loc> and <news:title>.
    assert first.link == "https://www.nytimes.com/interactive/2020/05/11/magazine/quarantine-insanity.html"
    assert first.title == "Quarantine Was Driving Me Crazy — So I Decided to Lose My Mind on Purpose"
    assert first.published == "2020-05-11T09:00:01Z"
    assert first.publisher == "The New York Times"
    assert first.lang == "en-US"
    assert first.keywords[:2] == ["Coronavirus (2019-nCoV)", "Quarantines"]
    assert all(entry.title and entry.published and entry.publisher for entry in sitemap.entries)


def test_plain_sitemap_gives_urls_with_their_lastmod():
    path = real_fixture("sitemap/sitemaps_org_plain_sitemap.xml")
    locs = re.findall(r"<loc>\s*(.*?)\s*</loc>", path.read_text(encoding="utf-8"))
    sitemap = parse_sitemap(path.read_bytes())
    assert [entry.link for entry in sitemap.entries] == locs
    assert sitemap.entries[0].published == "2016-11-21"
    assert sitemap.entries[0].title is None


def test_sitemap_index_lists_children_and_gzip_sitemaps_unpack_within_a_limit():
    index = (
        b'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>https://example.org/a.xml.gz</loc><lastmod>2025-12-01</lastmod></sitemap>"
        b"<sitemap><loc> https://example.org/b.xml </loc></sitemap></sitemapindex>"
    )
    sitemap = parse_sitemap(index)
    assert [(c.url, c.lastmod) for c in sitemap.children] == [
        ("https://example.org/a.xml.gz", "2025-12-01"),
        ("https://example.org/b.xml", None),
    ]
    import gzip

    packed = gzip.compress(index)
    assert parse_sitemap(packed).is_index
    with pytest.raises(FeedError, match="more than"):
        unpack(gzip.compress(b"<urlset>" + b" " * 100_000 + b"</urlset>"), max_bytes=10_000)
    with pytest.raises(FeedError, match="not a sitemap"):
        parse_sitemap(b"<rss version='2.0'><channel/></rss>")


def test_federal_register_bis_results_become_entries():
    path = real_fixture("federal_register/fr_bis_results_trimmed_capture_2026-10-02.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    page = parse_documents(path.read_bytes())  # a bare results list, as captured
    assert len(page.entries) == len(data)
    first = page.entries[0]
    assert first.link == data[0]["html_url"]
    assert first.title == data[0]["title"]
    assert first.published == data[0]["publication_date"]
    assert first.guid == data[0]["document_number"]
    assert "Industry and Security Bureau" in first.keywords
    assert any(entry.title == "Revisions to the Entity List" for entry in page.entries)


def test_federal_register_envelope_single_document_and_error_object():
    results = json.loads(real_fixture("federal_register/fr_rin_1004-AF01.results.json").read_text(encoding="utf-8"))
    next_url = "https://www.federalregister.gov/api/v1/documents.json?page=2"
    envelope = {"count": 41, "total_pages": 3, "next_page_url": next_url, "results": results}
    page = parse_documents(json.dumps(envelope).encode())
    assert page.count == 41 and page.next_page_url == next_url
    # Asked for a few fields only, results lack html_url: the document number's short link stands in.
    assert [e.link for e in page.entries] == [
        f"https://www.federalregister.gov/d/{r['document_number']}" for r in results
    ]
    assert page.entries[0].title == results[0]["title"]
    document = json.loads(real_fixture("federal_register/fr_doc_2024-27333.json").read_text(encoding="utf-8"))
    entry = parse_document(real_fixture("federal_register/fr_doc_2024-27333.json").read_bytes())
    assert entry.link == document["html_url"] and entry.summary.startswith("On April 10, 2024")
    assert entry.published == document["publication_date"]
    with pytest.raises(FeedError, match="error: conditions"):
        parse_documents(b'{"errors": {"conditions": "is not a valid filter"}, "status": 400}')
    with pytest.raises(FeedError, match="not JSON"):
        parse_documents(b"<html><body>502</body></html>")


def test_google_news_results_keep_their_publisher_and_reveal_the_publishers_url():
    path = real_fixture("google_news/google_news_top_stories_us_2019-11-14.xml")
    raw = path.read_text(encoding="utf-8")
    feed = parse_feed(path.read_bytes())
    sources = re.findall(r"<source url=\"([^\"]+)\">([^<]+)</source>", raw)
    assert len(feed.entries) == len(sources) == 38
    for entry, (home, name) in zip(feed.entries, sources, strict=True):
        assert entry.publisher == name
        target = publisher_url(entry.link)
        # Every link in this 2019 feed carries the publisher's URL, on the publisher's own site.
        assert target is not None and site_of(target) == site_of(home), (entry.link, home)
        assert without_publisher(entry.title, name) == entry.title.removesuffix(f" - {name}")
    assert publisher_url(feed.entries[0].link).startswith("https://www.washingtonpost.com/politics/")


def test_opaque_search_links_and_titles_without_publisher():
    assert publisher_url("https://news.google.com/rss/articles/CBMiWkFVX3lxTE1hYmNkZWZnaGlqa2xtbm9w?oc=5") is None
    bing = "https://www.bing.com/news/apiclick.aspx?url=https%3A%2F%2Fexample.org%2Fa"
    assert publisher_url(bing) == "https://example.org/a"
    assert without_publisher("Headline - Reuters", "Reuters") == "Headline"
    assert without_publisher("A - B - Reuters", "Reuters") == "A - B"
    assert without_publisher("Reuters", "Reuters") == "Reuters"
    assert site_of("https://news.bbc.co.uk/x") == "bbc.co.uk"
    assert site_of("https://www.mofcom.gov.cn/") == "mofcom.gov.cn"


def test_json_feed_items_become_entries():
    path = real_fixture("rss/npr_technology_jsonfeed.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    feed = parse_feed(path.read_bytes())
    assert feed.title == data["title"] == "Technology"
    assert len(feed.entries) == len(data["items"]) == 25
    for entry, item in zip(feed.entries, data["items"], strict=True):
        assert entry.link == item["url"] and entry.title == item["title"]
        assert entry.published == item["date_published"] and entry.guid == item["id"]
    assert feed.entries[0].authors == [data["items"][0]["author"]["name"]]
    assert feed.entries[0].summary.startswith("In rural areas")
    with pytest.raises(FeedError, match=r"jsonfeed\.org"):
        parse_feed(b'{"results": []}')
