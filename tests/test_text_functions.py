"""The pure functions under the pipeline: charsets, dates, languages, URLs."""

from __future__ import annotations

import pytest

from pipeline.dates import parse_date, to_utc_iso
from pipeline.encoding import decode_bytes
from pipeline.language import T2S, detect_language, normalise_lang, to_simplified
from pipeline.urls import canonical_url, choose_canonical

CHINESE = "美国商务部批准英伟达向中国出售H200芯片，政府抽成百分之二十五。"


@pytest.mark.parametrize(
    "body, content_type, codec",
    [
        (CHINESE.encode("gbk"), "text/html; charset=GBK", "gb18030"),
        (f'<meta charset="gb2312">{CHINESE}'.encode("gb18030"), None, "gb18030"),
        (f'<meta charset="gb2312">{CHINESE}'.encode(), None, "utf-8"),  # declared wrong: bytes are UTF-8
        ("<meta charset=big5>輝達獲准出口晶片".encode("big5"), None, "big5hkscs"),
        ("Crédito à exportação".encode("latin-1"), None, "cp1252"),
        (b"\xef\xbb\xbf" + CHINESE.encode(), "text/html; charset=gbk", "utf-8-sig"),
    ],
)
def test_decode_bytes_finds_the_real_charset(body, content_type, codec):
    text, used = decode_bytes(body, content_type)
    assert used == codec
    assert "\ufffd" not in text
    assert any(word in text for word in ("英伟达", "輝達", "exportação"))


def test_mostly_utf8_page_with_a_broken_byte_stays_utf8():
    body = ("英伟达" * 500).encode() + b"\xff" + "结束".encode()
    text, used = decode_bytes(body, "text/html; charset=utf-8")
    assert used == "utf-8"
    assert text.endswith("结束") and text.count("\ufffd") == 1


@pytest.mark.parametrize(
    "value, zone, expected",
    [
        ("Tue, 09 Dec 2025 14:38:10 GMT", "UTC", "2025-12-09T14:38:10Z"),
        ("Tue, 09 Dec 2025 09:38:10 -0500", "UTC", "2025-12-09T14:38:10Z"),
        ("2025-12-09T22:38:10+08:00", "UTC", "2025-12-09T14:38:10Z"),
        ("2025-12-09T14:38:10Z", "UTC", "2025-12-09T14:38:10Z"),
        ("2025-12-09 22:38:10", "Asia/Shanghai", "2025-12-09T14:38:10Z"),
        ("2025年12月09日 22:38", "Asia/Shanghai", "2025-12-09T14:38:00Z"),
        ("2025年12月9日", "Asia/Shanghai", "2025-12-08T16:00:00Z"),
        ("2025/12/09 22:38", "Asia/Taipei", "2025-12-09T14:38:00Z"),
        ("Dec. 9, 2025 9:38 AM ET", "UTC", "2025-12-09T14:38:00Z"),
        ("9 December 2025 14:38 GMT", "UTC", "2025-12-09T14:38:00Z"),
        ("2025-12-09", "UTC", "2025-12-09T00:00:00Z"),
    ],
)
def test_dates_in_the_formats_news_sites_use(value, zone, expected):
    assert to_utc_iso(parse_date(value, zone)) == expected


@pytest.mark.parametrize("value", ["", "   ", "yesterday", "32/13/2025", "1970-01-01", None])
def test_unreadable_or_implausible_dates_are_none(value):
    assert parse_date(value) is None


def test_language_detection_tells_the_chinese_scripts_apart():
    assert detect_language("英伟达将向中国客户销售H200芯片，美国政府抽成。") == "zh-Hans"
    assert detect_language("輝達將向中國客戶銷售H200晶片，美國政府分成。") == "zh-Hant"
    # Declared zh-CN on a Traditional page: the script wins.
    assert detect_language("輝達將向中國客戶銷售晶片", "zh-CN") == "zh-Hant"
    assert detect_language("Nvidia will sell H200 chips to approved customers in China.", "en-US") == "en"
    assert detect_language("Nvidia darf H200-Chips nach China verkaufen.", "de-DE") == "de"
    assert detect_language("Nvidia will sell chips.") == "en"
    assert detect_language("") == "und"


def test_each_script_counts_exactly_its_own_characters():
    """chinese_script counts with one pattern per script: each matches exactly the characters of its list, and
    nothing else (ASCII, punctuation a character class treats specially, the CJK blocks)."""
    from pipeline.language import SIMPLIFIED, SIMPLIFIED_ONLY, TRADITIONAL, TRADITIONAL_ONLY

    for pattern, own in ((SIMPLIFIED_ONLY, set(SIMPLIFIED)), (TRADITIONAL_ONLY, set(TRADITIONAL))):
        for code in [*range(0x20, 0x7F), *range(0x3000, 0x3040), *range(0x4E00, 0xA000)]:
            assert bool(pattern.fullmatch(chr(code))) == (chr(code) in own), hex(code)
        assert len(pattern.findall(SIMPLIFIED + TRADITIONAL)) == sum(char in own for char in SIMPLIFIED + TRADITIONAL)


def test_language_codes_are_normalised():
    assert normalise_lang("zh_CN") == "zh-Hans"
    assert normalise_lang("zh-HK") == "zh-Hant"
    assert normalise_lang("EN-us") == "en"
    assert normalise_lang("not a code!") is None


def test_traditional_maps_to_simplified_for_matching():
    assert to_simplified("輝達將對中國出口後續") == "辉达将对中国出口后续"


def test_canonical_url_drops_tracking_fragments_and_default_ports():
    assert (
        canonical_url("HTTP://Example.COM:80/news/article?id=7&utm_source=rss&utm_medium=feed#comments")
        == "http://example.com/news/article?id=7"
    )
    assert canonical_url("https://example.com:443/a?b=2&a=1") == "https://example.com/a?a=1&b=2"
    assert canonical_url("http://127.0.0.1:8765/x.html") == "http://127.0.0.1:8765/x.html"


def test_a_page_cannot_claim_another_sites_url_as_canonical():
    assert (
        choose_canonical("https://news.example.com/a?utm_source=x", "https://example.com/a") == "https://example.com/a"
    )
    assert choose_canonical("https://example.com/a", "https://evil.test/a") == "https://example.com/a"
    assert choose_canonical("https://example.com/a", "javascript:alert(1)") == "https://example.com/a"


def test_to_simplified_maps_exactly_what_the_full_table_maps():
    """to_simplified skips the table when a text has nothing in it to map; the result must be the table's."""
    import random

    rng = random.Random(7)
    traditional = [chr(code) for code in sorted(T2S)]
    pool = [*"abc XYZ 123 ,.;“”’—", *"英伟达芯片出口管制商务部", *traditional[:: max(1, len(traditional) // 200)]]
    for length in (0, 1, 5, 40, 400):
        for _ in range(50):
            text = "".join(rng.choice(pool) for _ in range(length))
            assert to_simplified(text) == text.translate(T2S), text
    assert to_simplified("輝達晶片") == "辉达晶片" and to_simplified("Nvidia’s H20") == "Nvidia’s H20"
