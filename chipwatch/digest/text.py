"""The digest's text rules, shared by every message chipwatch sends and the pages it serves: scraped text
made one clean line, only http(s) links, snippets of whole sentences, and an English line of what a Chinese
item is about for readers who do not read it."""

from __future__ import annotations

import re

from pipeline.entities import english_label

TOPIC_LABELS = {
    "export-controls": "Export controls",
    "revenue-share": "Revenue share",
    "legislation": "Congress and legislation",
    "china-response": "China's response",
    "china-chips": "China's own chips",
    "market": "Market",
    "enforcement": "Enforcement",
    "industry": "Industry positions",
}
LANG_LABELS = {"en": "English", "zh-Hans": "中文（简体）", "zh-Hant": "中文（繁體）"}
# A sentence ends at . ! ? (and a closing quote or bracket) followed by a space, or at a Chinese full stop,
# exclamation or question mark (and its closing quote).
SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=\S)|(?<=[。！？])[”’」』）]*")
# A period that ends an abbreviation, not a sentence: an initial or U.S., a title (Mr., Sen.), a company form
# (Inc., Corp.), a month (Jan.), a state in a dateline (Calif., Ill.); as written or in capitals (ST. LOUIS).
# Lower case never counts: "no." and "ill." end sentences.
_ABBREVIATED = (
    "Mr Mrs Ms Dr Prof Sen Rep Gov Gen Lt Col St Ft Mt Jr Sr Inc Corp Co Ltd Bros No Nos Jan Feb Mar Apr "
    "Jun Jul Aug Sep Sept Oct Nov Dec Dept Ala Ariz Ark Calif Colo Conn Del Fla Ga Ill Ind Kan Kans Ky "
    "La Md Mass Mich Minn Miss Mo Mont Neb Nev Okla Ore Pa Tenn Tex Va Vt Wash Wis Wyo"
)
ABBREVIATION = re.compile(
    r"(?:\b[A-Za-z]\.(?:[A-Za-z]\.)*|\b(?:vs|etc|approx|"
    + "|".join(sorted({form for word in _ABBREVIATED.split() for form in (word, word.upper())}, key=len, reverse=True))
    + r")\.)$"
)
# Where a long sentence may be cut: after a Chinese comma or enumeration mark, or at a space.
SOFT_BREAK = re.compile(r"(?<=[，、；：])|\s")
# Characters that can make scraped text lie about itself: bidi overrides, zero-width joiners, BOMs.
INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\x00-\x08\x0b\x0c\x0e-\x1f]")
SNIPPET_CHARS = 320
LEAD_CHARS = 200


def clean(text: str | None) -> str:
    return " ".join(INVISIBLE.sub("", text or "").split())


def safe_url(url: str | None) -> str | None:
    """Only http(s) links reach a message or a page."""
    url = (url or "").strip()
    return url if re.match(r"^https?://[^\s\"'<>]+$", url, re.IGNORECASE) else None


def sentences(text: str | None) -> list[str]:
    """The text's sentences. A period after an abbreviation or an initial (U.S., Inc., J.) or before a word
    in lower case does not end one."""
    text = clean(text)
    parts, start = [], 0
    for boundary in SENTENCE_END.finditer(text):
        head = text[start : boundary.start()].rstrip("\"'”’)]")
        following = text[boundary.end() : boundary.end() + 1]
        if head.endswith(".") and (ABBREVIATION.search(head) or following.islower()):
            continue
        parts.append(text[start : boundary.end()].strip())
        start = boundary.end()
    parts.append(text[start:].strip())
    return [part for part in parts if part]


def _cut(sentence: str, limit: int) -> str:
    """A sentence too long to show whole, cut at the last soft break before the limit (never mid-word)."""
    head = sentence[: limit - 1]
    breaks = [match.start() for match in SOFT_BREAK.finditer(head) if match.start() > limit // 2]
    return (head[: breaks[-1]] if breaks else head).rstrip(" ，、；：,;:") + "…"


def snippet(text: str | None, summary: str | None, limit: int = SNIPPET_CHARS) -> str:
    """Up to two whole sentences of the article (or its summary) within limit characters; a first sentence
    longer than that is cut at a word or clause boundary and marked with …."""
    parts = sentences(text) or sentences(summary)
    if not parts:
        return ""
    shown = ""
    for sentence in parts[:2]:
        joined = f"{shown}{'' if not shown or shown[-1] in '。！？' else ' '}{sentence}"
        if len(joined) > limit:
            break
        shown = joined
    return shown or _cut(parts[0], limit)


def lead(text: str | None, summary: str | None = None) -> str:
    """The article's first sentence: what it says is new (cut at a boundary when it is very long)."""
    parts = sentences(text) or sentences(summary)
    if not parts:
        return ""
    return parts[0] if len(parts[0]) <= LEAD_CHARS else _cut(parts[0], LEAD_CHARS)


def reads(languages: tuple[str, ...], lang: str | None) -> bool:
    """Whether a reader of these languages reads an item in lang (no languages set: they read all)."""
    if not languages or not lang:
        return True
    return any(lang == code or lang.startswith(code + "-") or code.startswith(lang + "-") for code in languages)


def gloss(entities: list[str], topics: list[str], limit: int = 6) -> str:
    """One English line of what an item is about: its names, then its topics ("Nvidia · H200 · SAMR ·
    antitrust")."""
    names: list[str] = []
    for key in entities:
        label = english_label(key)
        if label and label not in names:
            names.append(label)
    words = names[:limit] + [TOPIC_LABELS.get(topic, topic) for topic in topics[:2]]
    return " · ".join(words)
