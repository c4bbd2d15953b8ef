"""Feed parsing on input we write: hostile XML, HTML where a feed should be, odd dates."""

from __future__ import annotations

import time

import pytest

from chipwatch.errors import FeedError
from spiders.feed_parser import parse_feed

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>&lol9;</title><link>https://example.com/a</link></item></channel></rss>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>x</title>
<item><title>&secret;</title><link>https://example.com/b</link></item></channel></rss>"""


def test_entity_expansion_never_runs():
    started = time.perf_counter()
    feed = parse_feed(BILLION_LAUGHS)
    assert time.perf_counter() - started < 1.0
    assert len(feed.title or "") < 1000
    assert all(len(entry.title or "") < 1000 for entry in feed.entries)


def test_external_entities_are_not_read():
    feed = parse_feed(EXTERNAL_ENTITY)
    assert "root:" not in (feed.entries[0].title or "")


@pytest.mark.parametrize(
    "body, message",
    [
        (b"", "empty"),
        (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "an HTML page where a feed was expected"),
        (b'{"error": "rate limited"}', "not a feed"),
        (b"\x00\x01\x02 garbage", "not XML"),
    ],
)
def test_what_is_not_a_feed_is_a_feed_error(body, message):
    with pytest.raises(FeedError, match=message):
        parse_feed(body)


def test_rss_entries_with_html_summaries_guid_links_and_dc_dates():
    body = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title><language>zh-cn</language>
<item><title> 英伟达 H200 </title><guid>https://example.com/1</guid><dc:date>2025-12-09T08:00:00+08:00</dc:date>
<description>&lt;p&gt;Summary with &lt;b&gt;markup&lt;/b&gt;&lt;/p&gt;</description>
<dc:creator>李晓岚</dc:creator></item>
<item><title>No link at all</title><guid isPermaLink="false">abc</guid></item>
</channel></rss>""".encode()
    feed = parse_feed(body)
    assert feed.lang == "zh-cn"
    assert len(feed.entries) == 1
    entry = feed.entries[0]
    assert (entry.title, entry.link, entry.published) == (
        "英伟达 H200",
        "https://example.com/1",
        "2025-12-09T08:00:00+08:00",
    )
    assert entry.summary == "Summary with markup"
    assert entry.authors == ["李晓岚"]


def test_atom_alternate_link_is_preferred_over_others():
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<entry><title>x</title><link rel="self" href="https://example.com/self"/><link href="https://example.com/page"/>
<updated>2025-12-09T00:00:00Z</updated><author><name>A. Writer</name></author></entry></feed>"""
    entry = parse_feed(body).entries[0]
    assert entry.link == "https://example.com/page"
    assert entry.authors == ["A. Writer"]
