"""A digest as a message: HTML (inline CSS, tables: what Gmail, Outlook and Apple Mail all render) and plain
text, as multipart/alternative with Message-ID, Date and List-Unsubscribe. Every scraped string is escaped
by the template engine; only http(s) links are made."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from jinja2 import Environment, PackageLoader, select_autoescape

from chipwatch.config import DigestOptions
from chipwatch.digest.compose import Digest, shrink

_environment = Environment(
    loader=PackageLoader("chipwatch.digest", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_text_environment = Environment(
    loader=PackageLoader("chipwatch.digest", "templates"), autoescape=False, trim_blocks=True, lstrip_blocks=True
)


def unsubscribe_target(options: DigestOptions) -> str:
    if options.unsubscribe:
        return options.unsubscribe
    return f"mailto:{parseaddr(options.sender)[1]}?subject=unsubscribe"


def render(digest: Digest, options: DigestOptions) -> tuple[str, str]:
    """(html, text) of the digest, shortened item by item until the whole message, as it travels (both
    parts in their transfer encoding, headers included), fits options.max_bytes."""
    while True:
        context = {
            "digest": digest,
            "covers_from": digest.covers_from[:16].replace("T", " ") + " UTC",
            "since_date": digest.covers_from[:10],
            "unsubscribe_url": unsubscribe_target(options),
        }
        html = _environment.get_template("digest.html").render(**context)
        text = _text_environment.get_template("digest.txt").render(**context)
        raw = message(digest, html, text, options).as_bytes()
        size = len(raw) + raw.count(b"\n")  # as it travels: every line ends in CRLF
        if size <= options.max_bytes:
            return html, text
        # Shorten by about as many items as the excess takes (each render costs a whole message), then
        # measure again: a few renders, not one per item.
        shown = sum(len(group.items) for section in digest.sections for group in section.stories)
        steps = max(1, int((size - options.max_bytes) / (size / max(shown, 1))))
        if not all(shrink(digest) is not None for _ in range(steps)):
            html = _environment.get_template("digest.html").render(**context)
            return html, _text_environment.get_template("digest.txt").render(**context)


def transfer_encoding(text: str) -> str:
    """base64 for mostly non-ASCII text (quoted-printable triples every Chinese character), else
    quoted-printable, which keeps English readable in the raw message."""
    data = text.encode("utf-8")
    share = sum(byte > 127 for byte in data) / max(len(data), 1)
    return "base64" if share > 0.15 else "quoted-printable"


def message(digest: Digest, html: str, text: str, options: DigestOptions) -> EmailMessage:
    sender = options.sender
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    mail = EmailMessage()
    mail["Subject"] = digest.subject
    mail["From"] = sender
    mail["To"] = f"{digest.reader.name} <{digest.reader.address}>" if digest.reader.name else digest.reader.address
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(idstring=f"digest.{digest.day}", domain=domain)
    unsubscribe = unsubscribe_target(options)
    mail["List-Unsubscribe"] = f"<{unsubscribe}>"
    if unsubscribe.startswith("https://"):
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(text, charset="utf-8", cte=transfer_encoding(text))
    mail.add_alternative(html, subtype="html", charset="utf-8", cte=transfer_encoding(html))
    return mail
