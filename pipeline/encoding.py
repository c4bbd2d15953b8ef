"""Decoding page bytes to text when the declared charset may be missing or wrong.

Order: a byte-order mark; then strict UTF-8 (valid multi-byte UTF-8 is almost never anything else, and it
is the commonest mislabel, e.g. a page saying gb2312 that was re-saved as UTF-8); then each declared
charset (HTTP header, then <meta>/XML declaration) strictly, widened to its superset (gb2312 -> gb18030);
then a detector; and last the first declared charset with replacement characters.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

# Legacy labels decoded with the superset codec that browsers actually use for them.
SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "euc-cn": "gb18030",
    "big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "cp950": "big5hkscs",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "shift_jis": "cp932",
    "euc-kr": "cp949",
}
BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
XML_DECLARATION = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.:-]+)["']""", re.IGNORECASE)
HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
SNIFF_BYTES = 4096
# What the detector may choose from: the encodings news sites actually use. Left free, it picks exotic
# codecs (a Latin-1 Portuguese feed came out as Baltic cp1257).
LIKELY_ENCODINGS = ["cp1252", "gb18030", "big5", "shift_jis", "euc_kr", "cp1251", "iso8859_2", "cp1256"]


def codec_for(label: str | None) -> str | None:
    """The Python codec to decode a declared charset label with, or None if unknown."""
    if not label:
        return None
    label = label.strip().lower()
    label = SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def header_charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header value."""
    if not content_type:
        return None
    match = HEADER_CHARSET.search(content_type)
    return match.group(1) if match else None


def declared_charset(body: bytes) -> str | None:
    """The charset a document declares about itself (XML declaration or <meta>), if any."""
    head = body[:SNIFF_BYTES]
    match = XML_DECLARATION.search(head) or META_CHARSET.search(head)
    return match.group(1).decode("ascii", "replace") if match else None


def decode_bytes(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode a page or feed; returns (text, codec used)."""
    for bom, codec in BOMS:
        if body.startswith(bom):
            return body.decode(codec, errors="replace"), codec
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates: list[str] = []
    for label in (header_charset(content_type), declared_charset(body)):
        found = codec_for(label)
        if found and found not in candidates and found != "utf-8":
            candidates.append(found)
    for codec in candidates:
        try:
            return body.decode(codec), codec
        except UnicodeDecodeError:
            continue
    # Mostly UTF-8 with a few broken bytes (a truncated or spliced page): keep it, marking the damage.
    lenient = body.decode("utf-8", errors="replace")
    if lenient.count("\ufffd") <= max(2, len(lenient) // 1000):
        return lenient, "utf-8"
    best = charset_normalizer.from_bytes(body[:200_000], cp_isolation=LIKELY_ENCODINGS).best()
    if best is not None and best.encoding:
        codec = codec_for(best.encoding) or best.encoding
        return body.decode(codec, errors="replace"), codec
    codec = candidates[0] if candidates else "utf-8"
    return body.decode(codec, errors="replace"), codec
