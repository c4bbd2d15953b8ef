"""Signals the crawl sends (from its spiders and its extraction stage) so that the run recorder can count
and remember failures."""

# Sent with: source (str), url (str | None), kind (str), message (str), fatal (bool: the whole source failed).
fetch_failed = object()

# Sent by a spider for each discovery document it read, with: source (str), count (int: the entries it listed).
entries_listed = object()

# Sent by a spider once it has handled a request that failed (its errback is done), with: request.
request_handled = object()
