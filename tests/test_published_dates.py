"""Published dates read from pages alone (no feed to help): the demo network's pages, and the real pages in
../shared/fixtures/real that carry a date, against dates checked by hand."""

from __future__ import annotations

import pytest

from pipeline.dates import parse_date, to_utc_iso
from pipeline.extract import extract_page
from tests.helpers import real_fixture

# (fixture, zone the site writes local times in, the publication time as the page shows it, precision)
REAL_PAGES = [
    ("html_gb2312/he_xinhuanet_2012-06-04_content_25340717.gb2312.html", "Asia/Shanghai", "2012-06-04", "day"),
    ("html_zh_utf8/xinhuanet_2020-02-19_c_1125597921.html", "Asia/Shanghai", "2020-02-19T20:29:58+08:00", "second"),
    ("html_zh_utf8/people_cn_declares_gb2312_but_utf8.html", "Asia/Shanghai", "2019-06-15T08:18:00+08:00", "second"),
    ("html_zh_utf8/guancha_ic_imports_300bn.html", "Asia/Shanghai", "2019-09-07T15:10:53+08:00", "second"),
    ("html_zh_utf8/bbc_chinese_article.html", "UTC", "2012-12-10T09:24:01+00:00", "second"),
    ("html_en/reuters_com3.html", "UTC", "2014-12-30T23:44:00+00:00", "second"),
]


def page_date(page: bytes, url: str, zone: str, content_type: str | None = None):
    extracted = extract_page(page, url, content_type=content_type)
    raw = extracted.published or extracted.text_date
    return parse_date(raw, zone) if raw else None


def test_demo_pages_carry_their_own_dates(network):
    from demo.render import render_article

    right = []
    for article in network.articles:
        if article.members_only:
            continue
        outlet = network.outlets[article.outlet]
        body, content_type = render_article(network, article, "http://127.0.0.1:8765")
        found = page_date(body, "http://127.0.0.1:8765" + article.path, outlet.timezone, content_type)
        if article.setting(outlet, "date_style") in ("date-only", "cn-date-only") and not article.setting(
            outlet, "jsonld"
        ):
            # The page prints only the day: the right local day is all there is to get.
            local = article.published.astimezone(found.tzinfo) if found else None
            right.append(found is not None and found.date() == local.date())
        else:
            right.append(found is not None and to_utc_iso(found) == to_utc_iso(article.published))
    assert sum(right) / len(right) >= 0.95, f"{sum(right)} of {len(right)}"


@pytest.mark.parametrize(
    "fixture, zone, expected, precision", REAL_PAGES, ids=[r[0].split("/")[1][:30] for r in REAL_PAGES]
)
def test_real_pages_dates(fixture, zone, expected, precision):
    found = page_date(real_fixture(fixture).read_bytes(), "https://example.org/" + fixture, zone)
    assert found is not None
    if precision == "day":
        assert found.date().isoformat() == expected
    else:
        assert to_utc_iso(found) == to_utc_iso(parse_date(expected))


# The traps the demo network sets (demo/manifest.toml): each page read alone gets its date right.
TRAPS = {
    "ctr-smuggling": "2025-12-04T13:00:00Z",  # 04/12/2025 on an en-GB page: 4 December, not 12 April
    "cl-location-verification": None,  # a compact ISO metadata date, read to the second
    "hx-customs": "day",  # the page prints only 2025年..月..日: that day, never the one before
    # Metadata in UTC, the page printing its local time (Beijing's morning, Chicago's evening): the
    # moment is the metadata's, the day the one printed.
    "hx-dec-commentary": "shown",
    "midwest-h200": "shown",
}


@pytest.mark.parametrize("article_id", sorted(TRAPS))
def test_the_demo_traps_get_their_dates_right(network, article_id):
    from zoneinfo import ZoneInfo

    from demo.render import render_article
    from pipeline.dates import finest, read_date
    from pipeline.process import page_published, publication

    article = next(a for a in network.articles if a.id == article_id)
    outlet = network.outlets[article.outlet]
    body, content_type = render_article(network, article, "http://127.0.0.1:8765")
    page = extract_page(body, "http://127.0.0.1:8765" + article.path, content_type=content_type)
    stated = read_date(finest(page.published, page.text_date), outlet.timezone)
    assert stated is not None
    if TRAPS[article_id] == "shown":
        published_at, published_date, precision = publication(*page_published(page, outlet.timezone), outlet.timezone)
        local_day = article.published.astimezone(ZoneInfo(outlet.timezone)).date().isoformat()
        assert stated.day != local_day, "the trap needs metadata whose own day is not the printed one"
        assert (published_at, published_date, precision) == (to_utc_iso(article.published), local_day, "second")
    elif TRAPS[article_id] == "day":
        local = article.published.astimezone(stated.moment.tzinfo)
        assert (stated.precision, stated.day) == ("day", local.date().isoformat())
        assert stated.utc_iso() == f"{stated.day}T00:00:00Z"
    else:
        assert stated.utc_iso() == to_utc_iso(article.published)


@pytest.mark.slow
def test_the_day_shown_beats_htmldate_on_the_labelled_benchmark_pages():
    """The 181 real pages of the shared benchmark, each labelled with the day it shows as its publication
    day (chipwatch/bench/labels/benchmark-days.json): the stored day is right at least as often as htmldate's,
    and on at least 95% of them."""
    from chipwatch.bench.extraction import load_benchmark, load_day_labels, run_dates
    from tests.helpers import SHARED

    benchmark = SHARED / "benchmarks" / "article-extraction"
    if not (benchmark / "ground-truth.json").exists():
        pytest.skip(f"{benchmark} not available (../shared is absent)")
    labels = load_day_labels()
    htmldate, ours = run_dates(load_benchmark(benchmark), labels)
    assert ours.labelled == htmldate.labelled == len(labels) == 181
    assert ours.right >= htmldate.right and ours.accuracy >= 0.95, (ours, htmldate)


def test_the_printed_date_elements_are_what_the_xpath_finds() -> None:
    """day_shown walks the tree for <time> and date or time classes in Python (it stops when it has enough);
    the elements, in order, are the ones the XPath it replaced selects, on a made-up page with the root,
    nesting and case that could part them, and on real pages."""
    from lxml import etree

    from pipeline.day_shown import printed_date_elements
    from pipeline.encoding import decode_bytes
    from pipeline.extract import _parse

    xpath = etree.XPath("//time | //*[contains(@class, 'date') or contains(@class, 'time')]")
    made_up = _parse(
        '<html class="datetime"><body><time>1</time><div class="post-date"><span class="Time">2</span>'
        '<time class="date">3</time></div><p class="updated-time">4</p><p class="mdate x">5</p></body></html>'
    )
    assert made_up is not None
    assert list(printed_date_elements(made_up)) == xpath(made_up)
    assert len(xpath(made_up)) == 6  # the root, but not class="Time"
    for fixture, *_ in REAL_PAGES:
        tree = _parse(decode_bytes(real_fixture(fixture).read_bytes(), None)[0])
        assert tree is not None
        assert list(printed_date_elements(tree)) == xpath(tree), fixture
