"""How a failed request is told: its kind (dns, refused, timeout, reset, http, too-large, redirect, offsite,
network), a one-line message for the crawl run, and whether a later run should ask for the page again."""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure

from spiders.responses import header

# Failures that may pass: the entry's page is tried again on later runs, with backoff, before it is given up.
TRANSIENT = {"timeout", "reset", "refused", "dns", "network"}
RETRIED_STATUSES = {429, 500, 502, 503, 504}
# Each exception a download can fail with, and the kind it is recorded as (the first that fits).
FAILURE_KINDS = (
    (HttpError, "http"),
    (DNSLookupError, "dns"),
    (CannotResolveHostError, "dns"),
    (ConnectionRefusedError, "refused"),
    (DownloadConnectionRefusedError, "refused"),
    (TimeoutError, "timeout"),
    (TCPTimedOutError, "timeout"),
    (DownloadTimeoutError, "timeout"),
    (ResponseDataLossError, "reset"),
)


def _is_size_limit(failure: Failure) -> bool:
    return "max size" in failure.getErrorMessage().lower() or "maxsize" in failure.getErrorMessage().lower()


def failure_kind(failure: Failure) -> str:
    """The kind of failure, as crawl runs record it."""
    if _is_size_limit(failure) or failure.check(DownloadCancelledError):
        return "too-large"
    message = failure.getErrorMessage()
    if failure.check(IgnoreRequest) and "redirection" in message:
        return "redirect"
    if failure.check(IgnoreRequest) and "offsite" in message:
        return "offsite"
    for error_type, kind in FAILURE_KINDS:
        if failure.check(error_type):
            return kind
    return "network"


def failure_message(failure: Failure) -> str:
    """What went wrong, in one line of at most 500 characters."""
    if isinstance(failure.value, HttpError):
        response = failure.value.response
        retry_after = header(response, "Retry-After")
        return f"HTTP {response.status}" + (f" (Retry-After: {retry_after})" if retry_after else "")
    if failure.check(ResponseDataLossError):
        return "the connection closed before the whole body arrived"
    if failure.check(DownloadCancelledError) and not failure.getErrorMessage():
        return "the body grew past max_page_bytes; download stopped"
    return f"{type(failure.value).__name__}: {failure.getErrorMessage()}"[:500]


def worth_retrying(kind: str, status: int | None) -> bool:
    """Whether a page that failed this way may load on a later run (with backoff) rather than never."""
    return kind in TRANSIENT or status in RETRIED_STATUSES
