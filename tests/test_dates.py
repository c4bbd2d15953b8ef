"""Dates keep their day: the precision a page gives, the day as it states it, fallbacks that never give up
early, and day-month order read from the page's language and country."""

from __future__ import annotations

import pytest

from pipeline.dates import day_first_for, finest, in_iso_order, read_date
from pipeline.extract import extract_page
from pipeline.items import ArticleItem
from pipeline.process import normalise


@pytest.mark.parametrize(
    "value, zone, day, precision, utc",
    [
        ("2025年12月9日", "Asia/Shanghai", "2025-12-09", "day", "2025-12-09T00:00:00Z"),
        ("2025-12-09", "Asia/Shanghai", "2025-12-09", "day", "2025-12-09T00:00:00Z"),
        ("2025年12月9日 08:20", "Asia/Shanghai", "2025-12-09", "minute", "2025-12-09T00:20:00Z"),
        ("20200414T00:38:07Z", "UTC", "2020-04-14", "second", "2020-04-14T00:38:07Z"),
        ("20180619T055000+0900", "UTC", "2018-06-19", "second", "2018-06-18T20:50:00Z"),
        ("Wed, 10 Dec 2025 10:00:00 GMT", "UTC", "2025-12-10", "second", "2025-12-10T10:00:00Z"),
        ("December 2025", "UTC", "2025-12", "month", "2025-12-01T00:00:00Z"),
        ("2025年12月", "Asia/Shanghai", "2025-12", "month", "2025-12-01T00:00:00Z"),
    ],
)
def test_a_date_keeps_the_day_it_states_and_its_precision(value, zone, day, precision, utc):
    stated = read_date(value, zone)
    assert stated is not None
    assert (stated.day, stated.precision, stated.utc_iso()) == (day, precision, utc)


@pytest.mark.parametrize("value", ["2025", "sometime last week", "", "1985-01-02", "99/99/2020"])
def test_what_is_not_a_date_is_none(value):
    assert read_date(value) is None


def test_day_month_order_follows_the_page():
    assert day_first_for("en-GB") and day_first_for("de") and day_first_for("fr-FR")
    assert not day_first_for("en-US") and not day_first_for("en") and not day_first_for("zh-CN")
    assert day_first_for("en", "https://www.bbc.co.uk/news/world-1") and not day_first_for("en", "https://x.com/a")
    assert read_date("10/02/2020", day_first=True).day == "2020-02-10"
    assert read_date("10/02/2020").day == "2020-10-02"  # American order by default
    assert read_date("25/02/2020").day == "2020-02-25"  # whichever it must be
    assert read_date("01-11-2023 10:29", day_first=True).day == "2023-11-01"
    assert in_iso_order("Published 10/02/2020 14:05", day_first=True) == "Published 2020-02-10 14:05"


def test_a_bare_day_gives_way_to_a_time_printed_on_that_day_only():
    assert finest("2025-12-09", "2025-12-09 14:38", default_timezone="UTC") == "2025-12-09 14:38"
    assert finest("2025-12-09", "2025-12-10 14:38", default_timezone="UTC") == "2025-12-09"
    assert finest(None, "garbage", "2025-12-09T10:00:00Z") == "2025-12-09T10:00:00Z"


def test_a_date_only_value_is_never_shifted_into_the_previous_day():
    item = ArticleItem(
        source="s", url="https://x.test/a", published_raw="2025年12月9日", source_timezone="Asia/Shanghai"
    )
    normalise(item)
    assert (item.published_at, item.published_date, item.published_precision) == (
        "2025-12-09T00:00:00Z",
        "2025-12-09",
        "day",
    )


PAGE = """<html lang="{lang}"><head><title>T</title><meta property="article:published_time" content="{meta}"></head>
<body><article><h1>Commerce approves H200 licences</h1><div class="date">{printed}</div>
<p>{text}</p></article><footer><span class="date">© 2019 The Outlet</span></footer></body></html>"""
TEXT = "The Commerce Department approved export licences for Nvidia's H200 on Tuesday, officials said. " * 8


def test_an_unreadable_metadata_date_falls_through_to_the_printed_one():
    html = PAGE.format(lang="en", meta="not a date at all", printed="Dec. 9, 2025 4:12 PM ET", text=TEXT)
    page = extract_page(html.encode(), "https://x.test/news/h200")
    assert read_date(finest(page.published, page.text_date)).utc_iso() == "2025-12-09T21:12:00Z"


def test_a_compact_metadata_date_is_read():
    html = PAGE.format(lang="en", meta="20200414T00:38:07Z", printed="", text=TEXT)
    page = extract_page(html.encode(), "https://x.test/news/h200")
    assert read_date(page.published).utc_iso() == "2020-04-14T00:38:07Z"


def test_a_british_page_reads_its_numeric_date_day_first():
    html = PAGE.format(lang="en-GB", meta="", printed="10/02/2020", text=TEXT)
    page = extract_page(html.encode(), "https://www.example.co.uk/news/h200")
    assert read_date(finest(page.published, page.text_date)).day == "2020-02-10"


# -- the day a page shows for a moment its metadata gives in UTC (pipeline/day_shown.py) ---------------------


def _shown(body: str, url: str, published: str, updated: str | None = None) -> str | None:
    from lxml import html as lxml_html

    from pipeline.dates import read_date
    from pipeline.day_shown import day_shown

    moment = read_date(published)
    later = read_date(updated) if updated else None
    assert moment is not None
    return day_shown(lxml_html.fromstring(body), url, moment.moment, later.moment if later else None)


SHOWN_PAGE = (
    "<html><body><header><span class='date'>{masthead}</span></header><h1>Fictional headline</h1>{byline}</body></html>"
)


def test_a_printed_local_time_gives_the_day_of_a_utc_moment():
    # 02:24Z on the 19th is 9:24 pm on the 18th in New York: the clock says so, whatever the zone's name.
    byline = "<p class='byline'><time>Dec 18, 2025 at 9:24 pm ET</time></p>"
    assert (
        _shown(SHOWN_PAGE.format(masthead="", byline=byline), "https://x.example/a", "2025-12-19T02:24:00Z")
        == "2025-12-18"
    )
    # Beijing's morning: 2025年12月15日 07:30 is 23:30Z the day before.
    byline = "<div class='info'><span class='pubtime'>2025年12月15日 07:30</span></div>"
    assert (
        _shown(SHOWN_PAGE.format(masthead="", byline=byline), "https://x.example/a", "2025-12-14T23:30:00Z")
        == "2025-12-15"
    )
    # The clock of the update ("Updated 10:01 pm PST") gives the offset when it is the metadata's update.
    byline = "<span class='timestamp'>Updated 10:01 pm PST, Tuesday, December 16, 2025</span>"
    page = SHOWN_PAGE.format(masthead="", byline=byline)
    assert _shown(page, "https://x.example/a", "2025-12-17T05:57:50Z", "2025-12-17T06:01:20Z") == "2025-12-16"


def test_the_url_day_counts_when_the_moment_falls_on_it_somewhere():
    page = SHOWN_PAGE.format(masthead="", byline="")
    assert _shown(page, "https://x.example/2025/12/18/story/", "2025-12-19T02:34:30Z") == "2025-12-18"
    # A URL day the moment cannot fall on in any zone is about something else.
    assert _shown(page, "https://x.example/2025/12/11/story/", "2025-12-19T02:34:30Z") is None


def test_no_day_is_taken_without_evidence_of_the_same_instant():
    # A masthead's date (no clock), a clock that is no whole offset away, the moment's own day: nothing.
    masthead = SHOWN_PAGE.format(masthead="December 20, 2025", byline="")
    assert _shown(masthead, "https://x.example/a", "2025-12-19T15:00:00Z") is None
    stray = SHOWN_PAGE.format(masthead="", byline="<span class='date'>Dec 18, 2025 4:47 pm</span>")
    assert _shown(stray, "https://x.example/a", "2025-12-19T02:24:00Z") is None
    same = SHOWN_PAGE.format(masthead="", byline="<time>Dec 19, 2025 8:03 am ET</time>")
    assert _shown(same, "https://x.example/a", "2025-12-19T13:03:00Z") is None
    # Related stories in a list of links carry dates of their own.
    related = "<ul><li><a href='/b'>Other story</a> <span class='date'>Dec 18, 2025 9:24 pm</span></li></ul>"
    assert _shown(SHOWN_PAGE.format(masthead="", byline=related), "https://x.example/a", "2025-12-19T02:24:00Z") is None


def test_a_shown_day_never_replaces_a_stated_day_or_month():
    from pipeline.process import publication

    assert publication("2025-12-19T02:24:00Z", "2025-12-18", "UTC") == ("2025-12-19T02:24:00Z", "2025-12-18", "second")
    assert publication("2025-12-19", "2025-12-18", "UTC")[1] == "2025-12-19"
    assert publication("2025-12", "2025-11", "UTC")[1] == "2025-12"
    # A shown day the moment cannot fall on anywhere is ignored.
    assert publication("2025-12-19T02:24:00Z", "2025-12-10", "UTC")[1] == "2025-12-19"


def test_a_dotted_date_is_not_read_as_a_clock():
    byline = "<span class='pubtime'>2025.12.15 07:30</span>"
    assert (
        _shown(SHOWN_PAGE.format(masthead="", byline=byline), "https://x.example/a", "2025-12-14T23:30:00Z")
        == "2025-12-15"
    )
