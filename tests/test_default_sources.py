"""The shipped sources.toml: every source's discovery document parsed from a fixture in that site's shape
(tests/fixtures/sources/<name>.*, written by us), with the source's own selectors, sites and prefilter."""

from __future__ import annotations

from pathlib import Path

import pytest
from parsel import Selector

from pipeline.dates import parse_date
from pipeline.encoding import decode_bytes
from pipeline.prefilter import load_prefilter
from spiders.federal_register_parser import parse_documents
from spiders.feed_parser import parse_feed
from spiders.links import allowed_sites, link_allowed, publisher_url
from spiders.listings import listing_entries, next_page_link
from spiders.search_feeds import without_publisher
from spiders.sitemap_parser import parse_sitemap
from spiders.sources import load_sources
from tests.helpers import REPO

FIXTURES = REPO / "tests" / "fixtures" / "sources"
SOURCES = load_sources(REPO / "spiders" / "sources.toml")
PREFILTER = load_prefilter(REPO / "pipeline" / "topics.toml")


def fixture_for(name: str) -> Path:
    matches = sorted(FIXTURES.glob(f"{name}.*"))
    assert matches, f"no fixture for source {name!r} in {FIXTURES}"
    return matches[0]


def entries_of(source):
    body = fixture_for(source.name).read_bytes()
    if source.kind in ("feed", "search"):
        return parse_feed(body).entries
    if source.kind == "sitemap":
        return parse_sitemap(body).entries
    if source.kind == "federal-register":
        return parse_documents(body).entries
    text, _ = decode_bytes(body, None)
    return listing_entries(Selector(text=text, base_url=source.url), source.links)


def absolute(source, link: str) -> str:
    from urllib.parse import urljoin

    return urljoin(source.url, link)


def test_the_default_list_covers_every_kind_both_languages_and_both_capitals():
    kinds = {source.kind for source in SOURCES}
    assert kinds == {"feed", "search", "sitemap", "federal-register", "listing", "screening-list"}
    assert len(SOURCES) >= 12
    langs = {source.lang for source in SOURCES}
    assert {"en", "zh-Hans", "zh-Hant"} <= langs
    hosts = " ".join(source.url for source in SOURCES)
    for needed in (
        "federalregister.gov",
        "bis.gov",
        "mofcom.gov.cn",
        "samr.gov.cn",
        "cac.gov.cn",
        "congress.gov",
        "news.google.com",
        "guancha.cn",
    ):
        assert needed in hosts, needed


def test_the_screening_list_source_parses_its_fixture():
    from spiders.screening_list_parser import parse_screening_list

    [source] = [s for s in SOURCES if s.kind == "screening-list"]
    parsed = parse_screening_list(fixture_for(source.name).read_bytes(), "application/json", source.url)
    assert len(parsed.entries) >= 3 and parsed.problems == []
    assert {"EL", "MEU"} <= {entry.list_code for entry in parsed.entries}
    assert all(entry.name and entry.id for entry in parsed.entries)


@pytest.mark.parametrize("source", [s for s in SOURCES if s.kind != "screening-list"], ids=lambda s: s.name)
def test_each_source_parses_its_fixture(source):
    entries = entries_of(source)
    assert len(entries) >= 3, source.name
    sites = allowed_sites(source.url, source.domains)
    for entry in entries:
        link = absolute(source, entry.link)
        assert link.startswith(("http://", "https://"))
        assert entry.title, (source.name, link)
        if source.kind == "search":
            assert entry.publisher
            assert not without_publisher(entry.title, entry.publisher).endswith(entry.publisher)
            target = publisher_url(link)
            assert target is None or "news.google.com" not in target
        else:
            # Links stay on the source's own sites (or those its `domains` allow).
            assert link_allowed(link, sites), (source.name, link)
        if source.kind != "listing":
            assert entry.published and parse_date(entry.published, source.timezone), (source.name, entry.published)


@pytest.mark.parametrize("source", [s for s in SOURCES if s.prefilter], ids=lambda s: s.name)
def test_prefiltered_sources_keep_chip_news_and_skip_the_rest(source):
    entries = entries_of(source)
    kept = [e for e in entries if PREFILTER.passes(e.title, e.summary)]
    assert kept and len(kept) < len(entries), [(e.title, e in kept) for e in entries]
    assert all(
        any(
            word in (e.title or "")
            for word in (
                "H200",
                "H20",
                "芯片",
                "晶片",
                "Ascend",
                "昇腾",
                "AI",
                "MI308",
                "Chip",
                "chip",
                "英伟达",
                "輝達",
            )
        )
        for e in kept
    )


@pytest.mark.parametrize("source", [s for s in SOURCES if s.kind == "listing" and s.next_page], ids=lambda s: s.name)
def test_listing_pagination_selectors_find_the_next_page(source):
    text, _ = decode_bytes(fixture_for(source.name).read_bytes(), None)
    assert next_page_link(Selector(text=text), source.next_page)


def test_the_gb2312_feed_is_decoded_even_with_gbk_characters():
    source = next(s for s in SOURCES if s.name == "ithome")
    body = fixture_for("ithome").read_bytes()
    assert body.startswith(b'<?xml version="1.0" encoding="gb2312"?>')
    titles = [entry.title for entry in parse_feed(body).entries]
    assert "华为昇腾新一代AI芯片路线图公布（虚构）" in titles and source.lang == "zh-Hans"


def test_federal_register_fixture_has_the_api_envelope():
    page = parse_documents(fixture_for("federal-register-bis").read_bytes())
    assert page.next_page_url and "page=2" in page.next_page_url and page.count == 1873


def test_every_shipped_source_says_how_it_was_verified():
    assert all(source.verified for source in SOURCES), [s.name for s in SOURCES if not s.verified]
    for source in SOURCES:
        assert any(word in source.verified for word in ("reference", "fixture", "unverified")), source.name
    # Sites that defeat plain crawlers ship disabled, with the reason beside them in the file.
    disabled = {source.name for source in SOURCES if not source.enabled}
    assert {"customs-announcements", "caixin-global"} <= disabled
    text = (REPO / "spiders" / "sources.toml").read_text(encoding="utf-8")
    assert "JavaScript cookie challenge" in text and "HTTP 406" in text


def test_the_outlets_that_carry_the_story_are_shipped():
    names = {source.name for source in SOURCES}
    outlets = {"scmp-china", "globaltimes", "xinhua-world", "36kr", "theregister", "nikkei-asia", "digitimes"}
    assert outlets <= names
    assert all(s.prefilter for s in SOURCES if s.name in outlets)
