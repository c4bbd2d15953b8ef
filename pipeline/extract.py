"""From a page's HTML to an article: body text with trafilatura, metadata from the page's own markup.

The page is parsed once; the metadata readers and trafilatura share the tree.
"""

from __future__ import annotations

import codecs
import contextlib
import html as html_lib
import re
from dataclasses import dataclass, field

import lxml.html
import trafilatura
from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction
from trafilatura.utils import DOCTYPE_TAG, FAULTY_HTML, INVALID_XML_CHARS

from pipeline.dates import day_first_for, finest, in_iso_order, read_date
from pipeline.day_shown import day_shown
from pipeline.encoding import decode_bytes
from pipeline.language import detect_language
from pipeline.metadata import PageMetadata, read_metadata
from pipeline.printed_date import load_month_names, printed_date
from pipeline.selectors import speed_up_trafilatura

# What INVALID_XML_CHARS deletes, one character each: [\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff].
NOT_IN_XML = (*map(chr, (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20))), "\ufffe", "\uffff")
# trafilatura's selectors as Python functions: the same elements, several times faster (pipeline/selectors.py).
speed_up_trafilatura()

TITLE_SEPARATORS = re.compile(r"\s+[|\-–—·»]\s+|\s*[_｜|]\s*")
# What a site's name in a title looks like when nothing else names the site.
SITE_WORDS = re.compile(
    r"(网|網|新闻|新聞|日报|日報|时报|時報|频道|頻道|门户|财经|財經|科技|\.com|\.cn|News|Times|Post|Journal|Daily|Reuters|"
    r"Tribune|Herald|Online|Magazine|Review|Wire)",
    re.I,
)
# Chinese sites glue the site name on with a bare dash: "标题-新华网".
CJK_SITE_SUFFIX = re.compile(r"[-–—]\s*[\u4e00-\u9fff][^-–—]{0,11}$")
# A JSON-LD articleBody is taken over trafilatura's text when the latter misses this much of it.
ARTICLE_BODY_PREFERENCE = 1.3
# A precision-mode body shorter than this gets a second, recall-oriented pass; the fuller text wins when the
# precise one is less than FALLBACK_SHARE of it.
SHORT_TEXT_CHARS = 500
FALLBACK_SHARE = 0.6
# A long precision body that looks like a widget loses to a fuller text at least twice its length.
WIDGET_SHARE = 0.5
# ... and so does one that is much shorter than the page's largest block of paragraphs (looked for only
# when the precise text is no longer than WIDGET_CHECK_CHARS: recommendation blocks are short).
LARGEST_BLOCK_SHARE = 2.5
WIDGET_CHECK_CHARS = 4000
# Headings of the blocks around an article that a precision pass sometimes keeps instead of it: Chinese
# ones as written, English ones as patterns that start a word.
WIDGET_HEADINGS = (
    "为您推荐", "為您推薦", "相关推荐", "相關推薦", "猜你喜欢", "猜你喜歡", "热门推荐", "熱門推薦",
    "热门评论", "熱門評論", "网友评论", "網友評論", "最新评论", "最新評論", "评论区", "評論區",
    "相关阅读", "相關閱讀", "延伸阅读", "延伸閱讀", "热点新闻", "熱點新聞",
)  # fmt: skip
WIDGET_PHRASES = (
    r"Recommended for you\b", r"Related (?:articles|stories|news)\b", r"Most (?:read|popular)\b", r"More from\b",
    r"Comments?\s*\(\d+\)", r"You may also like\b", r"Trending\b",
)  # fmt: skip


def _any_of(headings: tuple[str, ...], phrases: tuple[str, ...]) -> re.Pattern[str]:
    """One case-insensitive search for any of them. The lookahead on their first characters lets the search
    pass most places in a text after one test instead of trying every alternative there (4x faster over the
    real pages' texts, the same matches)."""
    firsts = {heading[0] for heading in headings} | {c for p in phrases for c in (p[0].lower(), p[0].upper())}
    alternatives = [*headings, *(rf"\b{phrase}" for phrase in phrases)]
    return re.compile(f"(?=[{''.join(sorted(firsts))}])(?:{'|'.join(alternatives)})", re.I)


WIDGET_MARKERS = _any_of(WIDGET_HEADINGS, WIDGET_PHRASES)

# trafilatura's parser settings, but every element an HtmlElement: lxml.html's own parser decides each element
# object's class in Python (FormElement for <form>, InputElement for <input>, ...) whenever lxml makes one,
# about 2,000 times a page through trafilatura's passes; chipwatch uses none of those classes.
PARSER = lxml.html.HTMLParser(
    collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True
)
PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
    )
)
# Real article pages stay far below these (the 181 benchmark pages: at most ~1,600 elements, depth 50);
# junk or generated pages above them cost trafilatura seconds each.
MAX_ELEMENTS = 20_000
MAX_DEPTH = 200
TOO_DEEP = etree.XPath("boolean(" + "/*" * (MAX_DEPTH + 1) + ")")
# A page short enough that extraction falls back to trafilatura's other extractors, with a printed date.
WARM_UP_PAGE = (
    b'<html lang="en"><head><title>Warm-up | chipwatch</title></head><body><nav><a href="/">Home</a></nav>'
    b'<article><h1>Warm-up</h1><p class="date">Dec. 9, 2025 4:12 PM ET</p><p>A short paragraph.</p></article>'
    b"<footer>chipwatch</footer></body></html>"
)


@dataclass
class ExtractedPage:
    title: str | None = None
    text: str | None = None
    authors: list[str] = field(default_factory=list)
    published: str | None = None  # as the page writes it; None when the markup does not say
    day_shown: str | None = None  # the day the page prints for that moment, when it is another day
    updated: str | None = None
    text_date: str | None = None  # a date found in the visible text, a last resort
    lang: str | None = None
    declared_lang: str | None = None
    canonical_url: str | None = None
    encoding: str | None = None
    problem: str | None = None  # why the body could not be extracted, when that is known


def extract_page(
    page: bytes | str,
    url: str,
    *,
    content_type: str | None = None,
    lang_hint: str | None = None,
    find_text_date: bool = True,
) -> ExtractedPage:
    """Extract one page. Fields the page does not provide stay None; text is None for an empty page."""
    if isinstance(page, bytes):
        html, encoding = decode_bytes(page, content_type)
    else:
        html, encoding = page, None
    result = ExtractedPage(encoding=encoding)
    tree = _parse(html, page if isinstance(page, bytes) and encoding == "utf-8" else None)
    if tree is None:
        return result
    metadata = read_metadata(tree)
    result.title = choose_title(metadata)
    result.authors = metadata.authors
    day_first = day_first_for(metadata.lang or lang_hint, url)
    # A metadata date we cannot read is no date: the printed dates, <time>, the URL and htmldate get their turn.
    published = metadata.published if read_date(metadata.published, day_first=day_first) else None
    result.published = in_iso_order(published, day_first) if published else None
    result.updated = metadata.updated
    result.canonical_url = metadata.canonical_url
    result.declared_lang = metadata.lang
    result.problem = _too_complex(tree)
    if result.problem:
        result.text = metadata.article_body
    else:
        result.text = _without_headline(_body_text(tree, url, metadata), result.title)
    stated = read_date(result.published) if result.published else None
    if find_text_date and not result.problem and (stated is None or not stated.has_time):
        printed = printed_date(tree, url, day_first)
        result.text_date = in_iso_order(printed, day_first) if printed else None
        # Metadata that gives only the day ("2019-06-15") loses to a printed time on that day.
        result.published = finest(result.published, result.text_date) if result.published else None
    elif stated is not None and not result.problem:
        updated = read_date(metadata.updated)
        result.day_shown = day_shown(tree, url, stated.moment, updated.moment if updated else None)
    if result.text or result.title:
        result.lang = detect_language(f"{result.title or ''}\n{result.text or ''}", metadata.lang, lang_hint)
    return result


def warm_up() -> None:
    """Extract a small built-in page once, so that what trafilatura and its fallbacks load on first use
    (jusText's stoplists for every language: ~30 MB and 0.3 s) is loaded by the process that forks the
    extraction workers, and shared by them, instead of loaded again in each one. The same for the month
    names htmldate's extensive search reads from every language dateparser knows (9 MB and 0.05 s in each
    worker, on its first page with a number beside a word it does not know: a footer's street address)."""
    extract_page(WARM_UP_PAGE, "https://warm-up.invalid/2025/12/09/page")
    load_month_names()


def _parse(html: str, utf8: bytes | None = None) -> HtmlElement | None:
    """The page's tree, read as trafilatura's load_html reads a text (its repairs, its parser's settings),
    or None when it is empty or not HTML. `utf8`: the page's bytes, when html was decoded from them as UTF-8.

    When those bytes are exactly html in UTF-8 and need no repair, libxml2 reads them as they are: from a
    str, lxml hands it the text in the str's own width (two or four bytes a character on most pages, which
    write a curly quote or a Chinese character), and converting that to UTF-8 costs 15% of the parse.
    tests/test_selectors.py holds the trees to those of the text."""
    if not html.strip():
        return None
    beginning = html[:50].lower()
    repaired = _repair(html, beginning)
    tree = None
    if repaired is html and utf8 is not None and _is_utf8_of(utf8, html):
        with contextlib.suppress(ValueError, etree.LxmlError):
            tree = lxml.html.fromstring(utf8, parser=PARSER)
    else:
        with contextlib.suppress(ValueError, etree.LxmlError):  # ValueError: a text declaring its encoding
            tree = lxml.html.fromstring(repaired, parser=PARSER)
    if tree is None or len(tree) < 1:
        try:
            tree = lxml.html.fromstring(repaired.encode("utf-8", "surrogatepass"), parser=PARSER)
        except (ValueError, etree.LxmlError):
            return None
    if "html" not in beginning and len(tree) < 2:
        return None  # a fragment or another kind of text, not a page
    return tree


def _is_utf8_of(page: bytes, html: str) -> bool:
    """Whether page is html in UTF-8, byte for byte, given that html was decoded from it as UTF-8: nothing was
    replaced in decoding (no U+FFFD; a page that writes one parses the same either way) and no byte-order
    mark was kept or dropped."""
    return "\ufffd" not in html and not page.startswith(codecs.BOM_UTF8) and not html.startswith("\ufeff")


def _repair(html: str, beginning: str) -> str:
    """The page with trafilatura's repairs for libxml2 (utils.repair_faulty_html, with its patterns): the
    characters XML cannot hold deleted, a doctype with a slash in it dropped, a self-closing <html/> opened.

    trafilatura deletes those characters with one regular expression over the whole page, 0.9 ms for a
    170 KB page on every page; a page almost never has one, and searching for each of them (a scan in C)
    says so in a third of that time. tests/test_selectors.py holds the trees to load_html's.
    """
    if any(character in html for character in NOT_IN_XML):
        html = INVALID_XML_CHARS.sub("", html)
    if "doctype" in beginning:
        first_line, newline, rest = html.partition("\n")
        line = DOCTYPE_TAG.sub("", first_line, count=1)
        if line != first_line or not newline:  # the page itself when nothing changes (_parse reads its bytes)
            html = line + "\n" + rest
    if any("<html" in line and line.endswith("/>") for line in html[:4096].splitlines()[:4]):
        html = FAULTY_HTML.sub(r"\1>", html, count=1)
    return html


def _too_complex(tree: HtmlElement) -> str | None:
    """Why the tree is too big or too deep to extract in reasonable time, or None. Both are asked of lxml
    in C (a count, and whether a chain of MAX_DEPTH + 1 nested elements exists): no walk in Python."""
    elements = int(tree.xpath("count(//*)"))
    if elements > MAX_ELEMENTS:
        return f"page has {elements} HTML elements (limit {MAX_ELEMENTS}); body not extracted"
    if TOO_DEEP(tree):
        return f"page nests elements more than {MAX_DEPTH} deep; body not extracted"
    return None


def _body_text(tree: HtmlElement, url: str, metadata: PageMetadata) -> str | None:
    """Precision first; when that finds too little, the recall-oriented pass; the page's JSON-LD body last.

    trafilatura's precision mode leaves out most link lists, captions and "read more" blocks, but on some
    layouts it keeps only a fragment, so a short result earns a second, fuller pass (bench-extract: F1 0.953
    for trafilatura's default alone, 0.969 for this combination, at about the same speed).
    """
    # The precise pass skips trafilatura's fallback extractors (fast): on the benchmark that costs nothing
    # in F1 and makes extraction 1.5x faster; the fuller pass keeps them.
    text = _trafilatura_text(tree, url, favor_precision=True, fast=True)
    if len(text or "") < SHORT_TEXT_CHARS:
        fuller = _trafilatura_text(tree, url, favor_precision=False, fast=False)
        if fuller and len(text or "") < FALLBACK_SHARE * len(fuller):
            text = fuller
    elif looks_like_a_widget(text, tree, metadata):
        # Long enough, but not the article by the look of it: the fuller pass wins only when it holds far
        # more and reads like the article (the headline's words, no more widget headings).
        fuller = _trafilatura_text(tree, url, favor_precision=False, fast=False)
        if fuller and len(text or "") < WIDGET_SHARE * len(fuller) and _reads_like_article(fuller, text, metadata):
            text = fuller
    if metadata.article_body and len(metadata.article_body) > ARTICLE_BODY_PREFERENCE * len(text or ""):
        text = metadata.article_body
    return text.strip() if text and text.strip() else None


def looks_like_a_widget(text: str | None, tree: HtmlElement, metadata: PageMetadata) -> bool:
    """Whether what the precision pass kept is a block around the article (recommendations, comments, a
    list of headlines) rather than the article: it names such a block, it shares almost nothing with the
    headline, or one element of the page holds far more paragraph text than it does."""
    if not text:
        return True
    if len(WIDGET_MARKERS.findall(text)) >= 2:
        return True
    title = metadata.title or metadata.h1
    if title and not _shares_words(title, text[:3000]):
        return True
    if len(text) > WIDGET_CHECK_CHARS:
        return False  # a widget's worth of text is short; a long body is compared no further
    block = _largest_block(tree)
    return block > LARGEST_BLOCK_SHARE * len(text) and block > 2 * SHORT_TEXT_CHARS


def _largest_block(tree: HtmlElement) -> int:
    """The most paragraph text one element holds in its own <p> children: the article, on most pages."""
    blocks: dict[HtmlElement, int] = {}
    for paragraph in tree.iter("p"):
        parent = paragraph.getparent()
        if parent is not None:
            blocks[parent] = blocks.get(parent, 0) + len(paragraph.text_content().strip())
    return max(blocks.values(), default=0)


def _reads_like_article(fuller: str, precise: str | None, metadata: PageMetadata) -> bool:
    title = metadata.title or metadata.h1
    if title and not _shares_words(title, fuller[:3000]):
        return False
    return len(WIDGET_MARKERS.findall(fuller)) <= len(WIDGET_MARKERS.findall(precise or ""))


def _shares_words(title: str, text: str) -> bool:
    """At least a third of the headline's words (Chinese: its character pairs) occur in the text."""
    words = {w.lower() for w in re.findall(r"[A-Za-z0-9]{3,}", title)}
    for run in re.findall(r"[\u4e00-\u9fff]+", title):
        words |= {run[i : i + 2] for i in range(len(run) - 1)}
    if len(words) < 3:
        return True  # too short a headline to judge by
    lowered = text.lower()
    return sum(word in lowered for word in words) * 3 >= len(words)


def _trafilatura_text(tree: HtmlElement, url: str, *, favor_precision: bool, fast: bool) -> str | None:
    # bare_extraction works on a copy of the tree, so both passes can share one parse.
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        favor_precision=favor_precision,
        fast=fast,
        with_metadata=False,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
    )
    text = getattr(document, "text", None) if document is not None else None
    return text or None


def _without_headline(text: str | None, title: str | None) -> str | None:
    """The body without a first line that only repeats the headline (trafilatura keeps an <h1> in <article>)."""
    if not text or not title:
        return text
    first, _, rest = text.partition("\n")
    if "".join(first.split()) == "".join(title.split()) and rest.strip():
        return rest.strip()
    return text


def choose_title(metadata: PageMetadata) -> str | None:
    """The headline: the metadata's, entities decoded and the site's name taken off; the <h1> when the
    metadata's is a cut-off start of it (a quote inside the headline ends some meta tags early)."""
    meta = _strip_site(_unescape(metadata.title), metadata.site_name)
    h1 = _unescape(metadata.h1)
    if meta and h1 and len(h1) > len(meta) and h1.startswith(meta.rstrip(" .…'\"“”‘’")):
        return h1
    return meta or h1 or _clean_html_title(_unescape(metadata.html_title), metadata.site_name)


def _unescape(text: str | None) -> str | None:
    """Entities some sites leave in their meta tags (&#8217;, &raquo;, &amp;amp;), decoded."""
    if not text:
        return text
    for _ in range(2):  # double-escaped entities happen
        decoded = html_lib.unescape(text)
        if decoded == text:
            break
        text = decoded
    return " ".join(text.split()) or None


def _strip_site(title: str | None, site: str | None) -> str | None:
    """A title without a trailing (or leading) site name: 'Headline | Outlet', '标题_新浪网', '标题 - 网易新闻'."""
    if not title:
        return title
    parts = [part.strip() for part in TITLE_SEPARATORS.split(title) if part.strip()]
    if len(parts) > 1:
        site_key = "".join((site or "").lower().split())
        last, first = "".join(parts[-1].lower().split()), "".join(parts[0].lower().split())
        if site_key and (last == site_key or site_key in last or last in site_key):
            return " - ".join(parts[:-1]) if len(parts) > 2 else parts[0]
        if site_key and (first == site_key or first in site_key):
            return parts[-1] if len(parts) == 2 else " - ".join(parts[1:])
        if SITE_WORDS.search(parts[-1]) and len(parts[-1]) < len(parts[0]):
            return " - ".join(parts[:-1]) if len(parts) > 2 else parts[0]
    stripped = CJK_SITE_SUFFIX.sub("", title).strip() if CJK_SITE_SUFFIX.search(title) else title
    return stripped if SITE_WORDS.search(title[len(stripped) :]) or stripped == title else title


def _clean_html_title(title: str | None, site: str | None = None) -> str | None:
    """The headline part of a <title> like 'Headline | Outlet'."""
    if not title:
        return None
    title = CJK_SITE_SUFFIX.sub("", title.strip())
    parts = [part.strip() for part in TITLE_SEPARATORS.split(title) if part.strip()]
    return max(parts, key=len) if parts else None
