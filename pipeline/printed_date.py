"""A publication date printed on a page, for pages whose metadata gives none or gives no time: a <time> in
the content, the text of elements named like dates, then htmldate's search of the whole page.

Not the elements of menus, footers or lists of links: related stories carry dates of their own.
"""

from __future__ import annotations

import re
from itertools import islice

import htmldate.extractors
from htmldate import find_date
from lxml import etree
from lxml.html import HtmlElement

from pipeline.dates import parse_date, time_on_day
from pipeline.day_shown import OUTSIDE_XPATH

# Elements whose text is usually the publication date ("2025年12月09日 08:20", "Dec. 9, 2025 4:12 PM ET"), in
# the order they are tried: (words their class contains, words their id contains); day_shown.OUTSIDE_XPATH
# says which are in menus, footers or lists of links.
DATE_TEXT_NAMES = (
    (("pubtime", "publish"), ("pubtime",)),
    (("date", "time"), ("date",)),
    (("info", "meta", "source"), ()),
)
# How many of each kind are read.
DATE_TEXT_ELEMENTS = 10
# Any kind's words, for a first look at an element's class and id (most hold none of them).
DATE_CLASS_WORDS = re.compile("|".join(re.escape(word) for words, _ in DATE_TEXT_NAMES for word in words))
DATE_ID_WORDS = re.compile("|".join(re.escape(word) for _, words in DATE_TEXT_NAMES for word in words))
COPYRIGHT = re.compile(r"©|copyright|版权|版權", re.I)
# A machine-readable <time> outside navigation, related links and footers.
TIME_ELEMENT_XPATH = "//time[not(ancestor::nav or ancestor::aside or ancestor::footer or ancestor::li)]/@datetime"
# How much of a page's text is searched for a printed time.
VISIBLE_TEXT_CHARS = 30_000


def load_month_names() -> None:
    """Load the month names htmldate's extensive search reads from every language dateparser knows (9 MB and
    0.05 s), on a process's first page that puts a number beside a word it does not know (a footer's street
    address): what the extraction workers' parent loads before forking them, they share."""
    month_names = getattr(htmldate.extractors, "month_words", None)  # htmldate 1.11; absent, nothing to share
    if callable(month_names):
        month_names()


def date_text_elements(tree: HtmlElement) -> list[list[HtmlElement]]:
    """For each kind of DATE_TEXT_NAMES, the page's elements whose class or id contains one of its words, in
    document order: the elements `//*[contains(@class, 'date') or ...]` selects for each, found in one pass
    over the page (libxml2 visits every element for each of the three XPaths: 3.4 ms a page, against 0.7).
    Most elements' class and id hold none of the words, which one search for any of them says."""
    found: list[list[HtmlElement]] = [[] for _ in DATE_TEXT_NAMES]
    for element in tree.getroottree().iter(etree.Element):
        names, ident = element.get("class"), element.get("id")
        if not (names is not None and DATE_CLASS_WORDS.search(names)) and not (
            ident is not None and DATE_ID_WORDS.search(ident)
        ):
            continue
        for elements, (class_words, id_words) in zip(found, DATE_TEXT_NAMES, strict=True):
            if (names is not None and any(word in names for word in class_words)) or (
                ident is not None and any(word in ident for word in id_words)
            ):
                elements.append(element)
    return found


def printed_date(tree: HtmlElement, url: str | None = None, day_first: bool = False) -> str | None:
    """A publication date printed on the page: a <time datetime> in the content, elements named like dates
    (not those of related links, navigation or the footer), then htmldate's search (which also reads the
    URL)."""
    for value in tree.xpath(TIME_ELEMENT_XPATH)[:3]:
        if parse_date(value, day_first=day_first) is not None:
            return value.strip()
    for named in date_text_elements(tree):
        for element in islice((e for e in named if not OUTSIDE_XPATH(e)), DATE_TEXT_ELEMENTS):
            text = " ".join(element.text_content().split())[:80]
            if text and parse_date(text, day_first=day_first) is not None and not COPYRIGHT.search(text):
                return text
    try:
        day = find_date(
            tree,
            url=url if url and url.startswith("http") else None,
            original_date=True,
            extensive_search=True,
            outputformat="%Y-%m-%d",
        )
    except (ValueError, TypeError):
        return None
    if day:
        # htmldate gives the day; the page often prints the time beside it ("2019年06月15日08:18").
        body = tree.find("body")
        text = body.text_content()[:VISIBLE_TEXT_CHARS] if body is not None else ""
        return time_on_day(text, day) or day
    return None
