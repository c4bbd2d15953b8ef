"""Parsing XML from the web safely, and the few helpers feeds and sitemaps share.

No entity expansion and no network access (an XML bomb or an external entity stays an unexpanded
reference); any charset; a malformed document keeps what can be read, and says what was wrong.
"""

from __future__ import annotations

import re

from lxml import etree

from chipwatch.errors import FeedError
from pipeline.encoding import decode_bytes

XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def _parser(recover: bool) -> etree.XMLParser:
    # resolve_entities=False and no_network: an XML bomb or an external entity stays an unexpanded reference.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        recover=recover,
        remove_comments=True,
        dtd_validation=False,
        load_dtd=False,
    )


def parse_xml(
    body: bytes, content_type: str | None = None, expected: str = "a feed"
) -> tuple[etree._Element, str | None]:
    """The document's root element, decoded from any charset, and what was wrong with it when it had to be
    recovered (a truncated or malformed document keeps what could be read); FeedError when it is not XML."""
    if not body.strip():
        raise FeedError(f"empty response where {expected} was expected")
    text, _ = decode_bytes(body, content_type)
    text = XML_DECLARATION.sub("", text, count=1).lstrip("\ufeff")
    if text.lstrip()[:15].lower().startswith(("<!doctype html", "<html")):
        raise FeedError(f"an HTML page where {expected} was expected")
    data = text.encode("utf-8")
    try:
        return etree.fromstring(data, _parser(recover=False)), None
    except etree.XMLSyntaxError as error:
        problem = f"malformed XML, kept what could be read: {error}"
    try:
        root = etree.fromstring(data, _parser(recover=True))
    except etree.XMLSyntaxError as error:
        raise FeedError(f"not XML: {error}") from None
    if root is None:
        raise FeedError("not XML: nothing could be parsed")
    return root, problem


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname.lower() if isinstance(element.tag, str) else ""


def child(element: etree._Element | None, name: str) -> etree._Element | None:
    if element is None:
        return None
    for node in element:
        if local_name(node) == name:
            return node
    return None


def children(element: etree._Element, name: str) -> list[etree._Element]:
    return [node for node in element if local_name(node) == name]


def text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    value = " ".join("".join(element.itertext()).split())
    return value or None
