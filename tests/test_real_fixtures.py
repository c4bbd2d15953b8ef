"""Real feeds and pages from ../shared/fixtures/real (see its SOURCES.txt), read in place; skipped when absent."""

from __future__ import annotations

import json

import pytest

from chipwatch.errors import FeedError
from pipeline.dates import parse_date, to_utc_iso
from pipeline.extract import extract_page
from spiders.feed_parser import parse_feed
from tests.helpers import real_fixture


def test_guardian_rss_matches_rss_parsers_expected_parse():
    feed = parse_feed(real_fixture("rss/guardian_us_2018.rss").read_bytes())
    expected = json.loads(real_fixture("rss/guardian_us_2018.expected.json").read_text())["feed"]["items"]
    assert len(feed.entries) == len(expected) == 55
    for entry, truth in zip(feed.entries, expected, strict=True):
        assert entry.title == " ".join(truth["title"].split())
        assert entry.link == truth["link"]
        assert to_utc_iso(parse_date(entry.published)) == truth["date"].replace(".000Z", "Z")
        assert entry.authors == ([truth["creator"]] if truth.get("creator") else [])


def test_gb2312_feed_with_local_dates_is_decoded_and_dated_in_its_zone():
    feed = parse_feed(real_fixture("rss/qq_news_china_gb2312_2018.xml").read_bytes())
    assert feed.title == "新闻国内"
    assert len(feed.entries) == 20
    first = feed.entries[0]
    assert first.title == "习近平为何如此强调崇尚英雄？"
    assert first.published == "2018-09-18 14:38:10"
    assert to_utc_iso(parse_date(first.published, "Asia/Shanghai")) == "2018-09-18T06:38:10Z"
    assert all("\ufffd" not in (e.title or "") + (e.summary or "") for e in feed.entries)


def test_latin1_feed_without_xml_declaration_is_decoded():
    feed = parse_feed(real_fixture("rss/uol_noticias_latin1_nodecl_2018.rss").read_bytes())
    expected = json.loads(real_fixture("rss/uol_noticias_latin1_nodecl_2018.expected.json").read_text())

    # rss-parser's own expected output lost the accents (it shows U+FFFD); compare the ASCII skeletons.
    def skeleton(title: str) -> str:
        return "".join(char for char in title if char.isascii() and not char.isspace())

    titles = [item["title"] for item in expected["feed"]["items"]]
    assert [skeleton(e.title) for e in feed.entries] == [skeleton(t) for t in titles]
    assert feed.entries[0].title.endswith("simulações de 2º turno")
    assert all("\ufffd" not in (e.title or "") + (e.summary or "") for e in feed.entries)


def test_atom_feed_matches_expected_parse():
    feed = parse_feed(real_fixture("atom/heise_developer_2016.atom").read_bytes())
    expected = json.loads(real_fixture("atom/heise_developer_2016.expected.json").read_text())["feed"]["items"]
    assert [e.link for e in feed.entries] == [item["link"] for item in expected]
    assert [e.title for e in feed.entries] == [" ".join(item["title"].split()) for item in expected]
    assert parse_date(feed.entries[0].published) is not None


def test_google_news_feed_keeps_entries_and_dates():
    feed = parse_feed(real_fixture("google_news/google_news_top_stories_us_2019-11-14.xml").read_bytes())
    assert len(feed.entries) == 38
    assert all(e.link.startswith("https://news.google.com/") for e in feed.entries)
    assert all(parse_date(e.published) for e in feed.entries)


@pytest.mark.parametrize(
    "fixture",
    ["sitemap/nytimes_news_sitemap_excerpt_2020-05.xml", "federal_register/fr_rin_1004-AF01.results.json"],
)
def test_documents_that_are_not_feeds_raise_a_clear_feed_error(fixture):
    with pytest.raises(FeedError, match="not"):
        parse_feed(real_fixture(fixture).read_bytes())


def xinhuanet_truth():
    entries = json.loads(real_fixture("html_gb2312/trafilatura_evaldata_xinhuanet_entries.json").read_text())
    return {entry["file"]: entry for entry in entries.values()}


@pytest.mark.parametrize(
    "fixture, truth_file",
    [
        (
            "html_gb2312/he_xinhuanet_2012-06-04_content_25340717.gb2312.html",
            "archive.org.he.xinhuanet.com.25340717.html",
        ),
        ("html_zh_utf8/xinhuanet_2020-02-19_c_1125597921.html", "xinhuanet.com.c_1125597921.html"),
    ],
)
def test_xinhuanet_pages_match_trafilaturas_ground_truth(fixture, truth_file):
    truth = xinhuanet_truth()[truth_file]
    page = extract_page(real_fixture(fixture).read_bytes(), "http://www.xinhuanet.com/")
    assert page.title.strip() == truth["title"].strip()
    published = page.published or page.text_date
    assert published and published.startswith(truth["date"])
    for snippet in truth["with"]:
        assert snippet in page.text
    for snippet in truth["without"]:
        assert snippet not in page.text
    assert page.lang == "zh-Hans"


def test_page_declaring_gb2312_but_written_in_utf8_is_read_as_utf8():
    raw = real_fixture("html_zh_utf8/people_cn_declares_gb2312_but_utf8.html").read_bytes()
    assert b"gb2312" in raw[:2000].lower()
    page = extract_page(raw, "http://people.com.cn/")
    assert page.encoding == "utf-8"
    assert page.text and "\ufffd" not in page.text
    assert page.lang == "zh-Hans"


def test_guancha_page_is_extracted():
    page = extract_page(
        real_fixture("html_zh_utf8/guancha_ic_imports_300bn.html").read_bytes(), "https://www.guancha.cn/"
    )
    assert "集成电路" in page.title
    assert "3000亿美元" in page.text or "3000亿" in page.title
    assert page.lang == "zh-Hans"


def paragraphs_recalled(text: str, expected: str) -> float:
    wanted = [" ".join(p.split()) for p in expected.split("\n") if len(p.strip()) > 30]
    squeezed = " ".join(text.split())
    return sum(p[:40] in squeezed for p in wanted) / len(wanted)


def test_bbc_chinese_article_body_matches_newspapers_expected_text():
    page = extract_page(
        real_fixture("html_zh_utf8/bbc_chinese_article.html").read_bytes(), "https://www.bbc.com/zhongwen/"
    )
    expected = real_fixture("html_zh_utf8/bbc_chinese_article.expected.txt").read_text(errors="replace")
    # trafilatura alone misses three quoted paragraphs here; the extraction issue raises this bar.
    assert paragraphs_recalled(page.text, expected) >= 0.7
    assert page.lang == "zh-Hans"


def test_reuters_article_body_matches_newspapers_expected_text():
    page = extract_page(real_fixture("html_en/reuters_com3.html").read_bytes(), "http://www.reuters.com/")
    expected = real_fixture("html_en/reuters_com3.expected.txt").read_text()
    assert paragraphs_recalled(page.text, expected) >= 0.9
    assert "AirAsia" in page.title
    assert page.lang == "en"
    assert parse_date(page.published or page.text_date).year == 2014
