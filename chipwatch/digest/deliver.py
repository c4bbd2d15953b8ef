"""Delivering a digest: SMTP (STARTTLS, implicit TLS or plain; with login) with retries and backoff, or,
with no SMTP server configured, .eml and .html files in the outbox folder."""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from email.message import EmailMessage
from pathlib import Path

from chipwatch.config import DigestOptions
from chipwatch.errors import ChipwatchError

log = logging.getLogger("chipwatch.digest")
PORTS = {"tls": 465, "starttls": 587, "none": 25}


class DeliveryError(ChipwatchError):
    """The mail server could not take a digest; it stays unsent for the next run."""


def deliver(mail: EmailMessage, html: str, options: DigestOptions, name: str) -> str:
    """Send or file the message; returns how ("smtp" or "outbox")."""
    if not options.smtp_host:
        write_files(mail, html, options.outbox, name)
        return "outbox"
    delay = options.retry_delay
    for attempt in range(1, options.retries + 1):
        try:
            _send(mail, options)
            return "smtp"
        except smtplib.SMTPRecipientsRefused as error:
            raise DeliveryError(f"the mail server refused {', '.join(error.recipients)}") from None
        except (smtplib.SMTPException, OSError) as error:
            # Never log the message or the credentials, only what went wrong.
            log.warning("sending to %s failed (attempt %d of %d): %s", mail["To"], attempt, options.retries, error)
            if attempt == options.retries:
                raise DeliveryError(f"could not send to {mail['To']}: {error}") from None
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def _send(mail: EmailMessage, options: DigestOptions) -> None:
    port = options.smtp_port or PORTS[options.smtp_security]
    if options.smtp_security == "tls":
        server: smtplib.SMTP = smtplib.SMTP_SSL(
            options.smtp_host, port, timeout=30, context=ssl.create_default_context()
        )
    else:
        server = smtplib.SMTP(options.smtp_host, port, timeout=30)
    with server:
        if options.smtp_security == "starttls":
            server.starttls(context=ssl.create_default_context())
        if options.smtp_user:
            server.login(options.smtp_user, options.smtp_password)
        server.send_message(mail)


def write_files(mail: EmailMessage, html: str, directory: Path, name: str) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    eml, page = directory / f"{name}.eml", directory / f"{name}.html"
    eml.write_bytes(bytes(mail))
    page.write_text(html, encoding="utf-8")
    return eml, page
