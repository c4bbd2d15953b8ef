"""The metadata and date readers' XPath fallbacks, evaluated more cheaply, find what libxml2's XPath finds:
the byline and <time> XPaths only run on pages whose markup holds a word they need (pipeline/metadata.py:
Markup), and the elements named like a date are found in one pass (pipeline/extract.py)."""

from __future__ import annotations

from lxml import etree
from lxml.html import HtmlElement

from pipeline.encoding import decode_bytes
from pipeline.extract import _parse
from pipeline.metadata import BYLINE_XPATHS, PUBLISHED_TIME_XPATHS, Markup, read_metadata
from pipeline.printed_date import DATE_TEXT_NAMES, date_text_elements
from tests.test_selectors import real_pages

# The XPaths date_text_elements stands in for, one per kind of DATE_TEXT_NAMES.
DATE_TEXT_XPATHS = (
    "//*[contains(@class, 'pubtime') or contains(@class, 'publish') or contains(@id, 'pubtime')]",
    "//*[contains(@class, 'date') or contains(@class, 'time') or contains(@id, 'date')]",
    "//*[contains(@class, 'info') or contains(@class, 'meta') or contains(@class, 'source')]",
)

# Pages where what they need is there in forms a look at the HTML source would miss or misread: written with
# character references, in attribute values with quotes and line breaks, in Chinese text, on a fragment
# (whose XPaths start from the document root above it), and pages that hold none of them.
MADE_UP = (
    '<html><body><p class="by&#108;ine">By <b>Ann Lee</b></p></body></html>',
    '<html><body><span itemprop="au&#116;hor"><i itemprop="name">Bo Chen</i></span></body></html>',
    '<html><body><div class="x\n  byline\tlead">Cai Wen</div><time pubdate datetime="2025-12-09T08:00:00Z">Dec 9'
    "</time></body></html>",
    '<html><body><p>  作者：  李晓岚 </p><article><time datetime="2025-12-09">9日</time></article></body></html>',
    '<html><body><div><span class="author">Eve Fay</span><time itemprop="datePublished" datetime="2025-12-08">8'
    "</time></div></body></html>",
    '<html><body><a rel="author" href="/a">Dan &quot;D&quot; Ode</a></body></html>',
    '<div><p class="byline">Gil Ho</p><p>Text of a fragment that is long enough.</p></div>',
    "<html><body><p>Nothing here says who wrote it, or when.</p></body></html>",
    '<html class="pubtime-x"><body id="dateline"><div class="meta-info source"><span class="Date">'
    '<i class="updated-time">1</i></span><em id="pubtime3">3</em></div><nav><b class="publish">2</b></nav>'
    "</body></html>",
)


def trees() -> list[HtmlElement]:
    made_up = [_parse(page) for page in MADE_UP]
    real = [_parse(decode_bytes(page, None)[0]) for page in real_pages()]
    return [tree for tree in [*made_up, *real] if tree is not None]


def test_the_guarded_xpaths_find_what_the_xpaths_find() -> None:
    """Each byline and publication-time XPath, asked through Markup, gives libxml2's own answer on every
    page, and the made-up pages do find what their guards could have missed."""
    pages = trees()
    assert len(pages) >= len(MADE_UP)
    for tree in pages:
        markup = Markup(tree)
        for expression, needed in (*BYLINE_XPATHS, *PUBLISHED_TIME_XPATHS):
            assert markup.xpath(expression, needed) == tree.xpath(expression), (expression, etree.tostring(tree)[:200])
    made_up = [read_metadata(tree) for tree in pages[: len(MADE_UP)]]
    assert [page.authors for page in made_up] == [
        ["Ann Lee"],  # class="by&#108;ine" is a byline
        ["Bo Chen"],  # itemprop="au&#116;hor"
        ["Cai Wen"],
        ["李晓岚"],
        ["Eve Fay"],
        ['Dan "D" Ode'],
        ["Gil Ho"],
        [],
        [],
    ]
    assert [page.published for page in made_up[2:5]] == ["2025-12-09T08:00:00Z", "2025-12-09", "2025-12-08"]


def test_a_page_lacking_what_they_need_is_not_searched() -> None:
    """Where the markup does not hold what an XPath needs, libxml2 is not asked at all (what makes it cheaper)."""
    tree = _parse(MADE_UP[7])
    assert tree is not None
    asked: list[str] = []
    original = HtmlElement.xpath

    def counting(self: HtmlElement, expression: str, **kwargs: object) -> object:
        asked.append(expression)
        return original(self, expression, **kwargs)

    HtmlElement.xpath = counting  # type: ignore[method-assign]
    try:
        markup = Markup(tree)
        assert all(markup.xpath(expression, needed) == [] for expression, needed in BYLINE_XPATHS)
    finally:
        HtmlElement.xpath = original  # type: ignore[method-assign]
    assert asked == []


def test_the_elements_named_like_a_date_are_what_the_xpaths_select() -> None:
    """One pass finds, for each kind, the elements its XPath selects, in document order: the root, ids,
    case, nesting, navigation (left to the later filter) and real pages."""
    assert len(DATE_TEXT_XPATHS) == len(DATE_TEXT_NAMES)
    selectors = [etree.XPath(expression) for expression in DATE_TEXT_XPATHS]
    pages = trees()
    for tree in pages:
        assert date_text_elements(tree) == [select(tree) for select in selectors], etree.tostring(tree)[:200]
    named = date_text_elements(pages[len(MADE_UP) - 1])
    assert [len(elements) for elements in named] == [3, 3, 1]  # not class="Date"
