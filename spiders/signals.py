"""Signals spiders send so that the crawl-run recorder can count and remember failures."""

# Sent with: source (str), url (str | None), kind (str), message (str), fatal (bool: the whole source failed).
fetch_failed = object()
