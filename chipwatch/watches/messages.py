"""What a watch sends: one message per watch per run — a JSON payload (frozen when made, so every retry and
every target gets the same bytes), its plain text for chat (Slack and Mattermost show it as it is), and the
email made from it."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from chipwatch.config import Options
from chipwatch.digest.text import clean
from chipwatch.digest.text import safe_url as web_link

SNIPPET_CHARS = 240

_html = Environment(
    loader=PackageLoader("chipwatch.watches", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_text = Environment(
    loader=PackageLoader("chipwatch.watches", "templates"), autoescape=False, trim_blocks=True, lstrip_blocks=True
)


def item_of(row: dict[str, Any]) -> dict[str, Any]:
    """One article as a watch's message lists it (the webhook's item)."""
    snippet = clean(row.get("excerpt") or row.get("summary"))
    if len(snippet) > SNIPPET_CHARS:
        cut = snippet[:SNIPPET_CHARS]
        snippet = (cut.rsplit(" ", 1)[0] if " " in cut[-40:] else cut) + "…"
    return {
        "id": row["id"],
        "url": row["url"],
        "title": clean(row.get("title")) or "(untitled)",
        "outlet": clean(row.get("publisher") or row.get("source")),
        "lang": row.get("lang"),
        "published_at": row.get("published_at"),
        "topics": [topic["id"] if isinstance(topic, dict) else topic for topic in row.get("topics", [])],
        "story_id": row.get("story_id"),
        "snippet": snippet,
    }


def more_link(options: Options, name: str) -> str:
    """Where the rest of a capped message is: the watch's feed on the reading server, else the command."""
    if options.serve.public_url:
        return f"{options.serve.public_url.rstrip('/')}/feeds/watch/{name}.atom"
    return f"chipwatch watch show {name}"


def payload(options: Options, name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The message for these matches (oldest first): at most max_items listed, the newest; the rest counted
    ("and N more"), so a broad watch's first run does not flood anyone."""
    listed = rows[-options.watches.max_items :]
    more = len(rows) - len(listed)
    items = [item_of(row) for row in listed]
    body: dict[str, Any] = {
        "watch": name,
        "text": chat_text(name, items, more, more_link(options, name)),
        "items": items,
    }
    if more:
        body["more"] = more
        body["more_at"] = more_link(options, name)
    return body


def _chat(value: str) -> str:
    # Slack reads <...> as links and mentions and &, <, > must be escaped; Mattermost turns @channel and
    # @all into mentions: a scraped title must do neither.
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("@", "＠")


def chat_text(name: str, items: list[dict[str, Any]], more: int, link: str) -> str:
    count = len(items) + more
    lines = [f"chipwatch — watch {_chat(name)}: {count} new article{'s' if count != 1 else ''}"]
    for item in items:
        when = (item["published_at"] or "")[:10]
        details = " · ".join(part for part in (_chat(item["outlet"]), when, item["lang"] or "") if part)
        lines.append(f"• {_chat(item['title'])} — {details}")
        if web_link(item["url"]):
            lines.append(f"  {item['url']}")
    if more:
        lines.append(f"… and {more} more: {link}")
    return "\n".join(lines)


def email(options: Options, body: dict[str, Any], to: str, message_id: str) -> tuple[EmailMessage, str]:
    """The message to one address (multipart: text and HTML, every scraped string escaped), and its HTML."""
    items = [{**item, "link": web_link(item["url"])} for item in body["items"]]
    count = len(items) + body.get("more", 0)
    context = {
        "watch": body["watch"],
        "items": items,
        "count": count,
        "more": body.get("more", 0),
        "more_at": body.get("more_at"),
        "more_link": web_link(body.get("more_at")),
    }
    html = _html.get_template("watch.html").render(**context)
    text = _text.get_template("watch.txt").render(**context)
    sender = options.digest.sender
    mail = EmailMessage()
    mail["Subject"] = f"chipwatch: {count} new for your watch {clean(body['watch'])}"
    mail["From"] = sender
    mail["To"] = to
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = message_id
    unsubscribe = options.digest.unsubscribe or f"mailto:{parseaddr(sender)[1]}?subject=unsubscribe"
    mail["List-Unsubscribe"] = f"<{unsubscribe}>"
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(text, charset="utf-8")
    mail.add_alternative(html, subtype="html", charset="utf-8")
    return mail, html


def message_id(options: Options, delivery_id: int) -> str:
    """The same for every try of one delivery: a mail system that got it twice can tell."""
    domain = parseaddr(options.digest.sender)[1].rpartition("@")[2] or "localhost"
    return f"<watch-delivery.{delivery_id}@{domain}>"
