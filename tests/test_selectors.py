"""trafilatura's selectors compiled to Python (pipeline/selectors.py) select what libxml2 selects."""

from __future__ import annotations

import gzip
import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager

import lxml.html
import pytest
from lxml import etree

from pipeline.selectors import CompiledSelector, compile_selector, speed_up_trafilatura
from tests.helpers import REAL, SHARED

RE = {"re": "http://exslt.org/regular-expressions"}

# Elements whose attributes come in every order and state the quirks turn on: both of id and class
# (either first), one of them, an empty one, none; mixed case; nested candidates; converted tag names.
ATTRIBUTE_SETS = [
    {},
    {"class": "comment-list"},
    {"id": "comments", "class": "x"},
    {"class": "x", "id": "comments"},
    {"id": "", "class": "cookie-bar"},
    {"class": "cookie-bar", "id": ""},
    {"class": "reply-to", "id": "main"},
    {"id": "reply-1", "class": "Main-Content"},
    {"role": "Navigation"},
    {"style": "display:none", "aria-hidden": "true"},
    {"class": "FullText", "data-lp-replacement-content": ""},
    {"id": "teaserBox"},
    {"class": "post bottom"},
]


def synthetic_page() -> etree._Element:
    blocks = []
    for number, (tag, attributes) in enumerate(
        itertools.product(["div", "section", "p", "ul", "span"], ATTRIBUTE_SETS)
    ):
        written = " ".join(f'{name}="{value}"' for name, value in attributes.items())
        inner = "<h1>t</h1>" if number % 3 == 0 else "<b>x</b>"
        blocks.append(f"<{tag} {written}>{inner}<div {written}>n</div></{tag}>")
    return lxml.html.fromstring(f"<html><body><main>{''.join(blocks)}</main><article>a</article></body></html>")


EXPRESSIONS = [
    ".//*[re:test(@id|@class, 'cookie')]",
    ".//*[starts-with(@id|@class, 'reply-')]",
    ".//*[starts-with(@class|@id, 'reply-')]",
    ".//*[re:test(@title, '^$')]",
    ".//*[contains(@title, '')]",
    ".//*[self::div or self::ul][re:test(@id, '^comment') or re:test(@class, '^comment')][not(self::ul) or @id]",
    ".//*[self::div or self::section][not(.//h1) or re:test(@class, 'x')]",
    ".//*[contains(translate(@role, 'N', 'n'), 'nav') or contains(translate(@class, 'CMX', 'cm'), 'main-content')]",
    ".//*[@class='x' or @aria-hidden='true' or @data-lp-replacement-content]",
    ".//*[re:test(@class, 'fulltext', 'i')]",
    ".//*[self::div or self::p][re:test(@class, 'x|bottom')][1]",
    "(.//*[self::div or self::section][re:test(@class, 'x')])[1]",
    "(.//article)[1]",
    "(.//*[starts-with(@id, 'main')])[1]|(.//main)[1]",
    ".//span|.//ul",
    ".//*[(@id and @class) and not(re:test(@class, 'x'))]",
]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_compiled_selectors_select_what_libxml2_selects(expression: str) -> None:
    page = synthetic_page()
    compiled = compile_selector(expression)
    assert compiled is not None, expression
    expected = etree.XPath(expression, namespaces=RE)(page)
    assert compiled(page) == expected
    assert expected, "each expression selects something on the page, or it tests nothing"
    # From an element inside the page, as trafilatura calls them on a subtree.
    inner = page.find(".//main")
    assert compiled(inner) == etree.XPath(expression, namespaces=RE)(inner)


def test_expressions_outside_the_subset_are_left_to_libxml2() -> None:
    for expression in ["//p", ".//p[position() > 2]", ".//*[@id != 'x']", ".//p/a", ".//*[1][@id]", ".//*[name()='p']"]:
        assert compile_selector(expression) is None, expression


def test_every_selector_of_body_extraction_is_compiled() -> None:
    """On the trafilatura release chipwatch is tested with (a new one keeps libxml2 until it is checked here:
    add it to pipeline.selectors.VERIFIED once the tests below pass on it)."""
    from trafilatura import xpaths

    speed_up_trafilatura()
    assert speed_up_trafilatura() >= 23  # a second call compiles nothing again, and changes nothing
    for name in [
        "BODY_XPATH",
        "COMMENTS_XPATH",
        "COMMENTS_DISCARD_XPATH",
        "DISCARD_IMAGE_ELEMENTS",
        "OVERALL_DISCARD_XPATH",
        "PRECISION_DISCARD_XPATH",
        "RAW_TREE_PRUNE_XPATH",
        "REMOVE_COMMENTS_AND_LISTS_XPATH",
        "REMOVE_COMMENTS_XPATH",
        "TEASER_DISCARD_XPATH",
    ]:
        assert all(isinstance(each, CompiledSelector) for each in getattr(xpaths, name)), name


@contextmanager
def shadowed() -> Iterator[list[str]]:
    """Every compiled selector also asks libxml2, and records where the two differ."""
    speed_up_trafilatura()
    differences: list[str] = []
    compiled_call = CompiledSelector.__call__

    def both(self: CompiledSelector, context: object, **variables: object) -> object:
        ours = compiled_call(self, context, **variables)
        if ours != self.original(context, **variables):
            differences.append(self.path)
        return ours

    CompiledSelector.__call__ = both  # type: ignore[method-assign]
    try:
        yield differences
    finally:
        CompiledSelector.__call__ = compiled_call  # type: ignore[method-assign]


def real_pages() -> list[bytes]:
    pages = [path.read_bytes() for path in sorted(REAL.glob("html_*/*.html"))]
    benchmark = SHARED / "benchmarks" / "article-extraction"
    if (benchmark / "ground-truth.json").exists():
        ids = sorted(json.loads((benchmark / "ground-truth.json").read_text(encoding="utf-8")))
        pages += [gzip.decompress((benchmark / "html" / f"{page}.html.gz").read_bytes()) for page in ids[::3]]
    if not pages:
        pytest.skip("../shared is absent: no real pages")
    return pages


def test_on_real_pages_every_call_of_every_extraction_pass_selects_what_libxml2_selects() -> None:
    import trafilatura

    from pipeline.extract import extract_page

    pages = real_pages()
    with shadowed() as differences:
        for page in pages:
            extract_page(page, "https://example.com/news/1")
            trafilatura.extract(page, favor_recall=True)  # the recall pass and its fallbacks
            trafilatura.extract(page, include_comments=True)  # the comment selectors
    assert differences == []


def test_pages_are_parsed_as_trafilatura_parses_them() -> None:
    """extract.py parses with trafilatura's repairs and parser settings, with a class lookup of its own: the
    same trees as trafilatura's load_html, on real pages and on the texts its repairs are for, whether it
    reads the text or, for a page decoded as UTF-8, the page's own bytes (with a byte-order mark, a byte
    that is not UTF-8, a U+FFFD the page writes itself)."""
    from trafilatura.utils import load_html

    from pipeline.encoding import decode_bytes
    from pipeline.extract import _parse

    texts = [
        '<?xml version="1.0" encoding="utf-8"?><html><body><p>declared</p></body></html>',
        "<p>a fragment alone</p>",
        "<div><p>one</p><p>two</p></div><div>three</div>",
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" "x/y.dtd" /><html><body><p>doctype</p></body></html>',
        '<html lang="en"/>\n<body><p>self-closing html</p></body>',
        "<html><body><p>control\x00\x08 characters\ufffe</p></body></html>",
        "<html><head><title>t</title></head><body><form><p>a form</p><input name=q></form></body></html>",
        "   ",
    ]

    pages = [
        b"\xef\xbb\xbf<html><body><p>a byte-order mark</p></body></html>",
        "<html><body><p>caf\u00e9 and \ufffd written</p></body></html>".encode(),
        b"<html><head><meta charset=utf-8></head><body><p>caf\xe9, \xe4\xbd: not UTF-8</p></body></html>",
        "<html><body><p>輝達「H200」晶片 – ’quoted’</p></body></html>".encode(),
    ]

    def same(text: str, page: bytes | None = None) -> None:
        theirs = load_html(text) if text.strip() else None
        for ours in (_parse(text), _parse(text, page)):
            assert (ours is None) == (theirs is None), text[:60]
            if ours is not None:
                assert etree.tostring(ours) == etree.tostring(theirs), text[:60]

    for text in texts:
        same(text, text.encode("utf-8"))
    for page in pages:  # each as extract.py would see it, were it decoded as UTF-8
        same(decode_bytes(page, None)[0], page)
    for page in real_pages()[:25]:  # skips here when ../shared is absent, after the texts above
        text, codec = decode_bytes(page, None)
        same(text, page if codec == "utf-8" else None)


def test_the_repairs_find_every_character_trafilatura_deletes() -> None:
    """extract.py searches a page for the characters XML cannot hold before deleting them: the characters it
    searches for are exactly those trafilatura's pattern deletes, and each one alone, anywhere in a page (in
    its first line beside a doctype, too), is repaired as repair_faulty_html repairs it."""
    from trafilatura.utils import INVALID_XML_CHARS, repair_faulty_html

    from pipeline.extract import NOT_IN_XML, _repair

    everything = (chr(code) for code in range(0x110000) if not 0xD800 <= code < 0xE000)
    assert [character for character in everything if INVALID_XML_CHARS.match(character)] == list(NOT_IN_XML)
    for character in NOT_IN_XML:
        for text in (
            f"<html><body><p>a{character}b</p></body></html>",
            f'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN"{character} "x.dtd">\n<html lang="en"/>\n<p>x</p>',
            f"{character}<!doctype html/><html/>",
        ):
            beginning = text[:50].lower()
            assert _repair(text, beginning) == repair_faulty_html(text, beginning), repr(character)


def test_remembered_searches_stay_bounded_and_right() -> None:
    """A compiled selector remembers each attribute value's search, up to Searched.LIMIT values: past that it
    starts over, so a long crawl over many sites holds no more, and every answer is still the search's."""
    import re

    from pipeline.xpath_source import Searched

    searched = Searched(re.compile(r"comment|share"))
    values = [f"block-{n} {'comment' if n % 3 == 0 else 'text'}" for n in range(3 * Searched.LIMIT + 7)]
    for value in values:
        assert searched[value] == (value.endswith("comment"))
        assert len(searched) <= Searched.LIMIT
    assert 0 < len(searched) <= Searched.LIMIT
    assert Searched.LIMIT <= 2_000
