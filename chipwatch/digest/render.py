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
    """(html, text) of the digest, shortened topic by topic until the HTML fits options.max_bytes."""
    while True:
        context = {
            "digest": digest,
            "covers_from": digest.covers_from[:16].replace("T", " ") + " UTC",
            "since_date": digest.covers_from[:10],
            "unsubscribe_url": unsubscribe_target(options),
        }
        html = _environment.get_template("digest.html").render(**context)
        # Measured as it travels: mail lines end in CRLF.
        size = len(html.encode("utf-8")) + html.count("\n")
        if size <= options.max_bytes or shrink(digest) is None:
            text = _text_environment.get_template("digest.txt").render(**context)
            return html, text


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
    mail.set_content(text, charset="utf-8")
    mail.add_alternative(html, subtype="html", charset="utf-8")
    return mail
