"""POSTing a watch's message to a webhook: signed, retried with backoff, Retry-After honoured, redirects
not followed (a POST body must not land somewhere the owner did not name)."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from chipwatch import __version__
from chipwatch.config import WatchOptions
from chipwatch.errors import ChipwatchError

SIGNATURE_HEADER = "X-Chipwatch-Signature-256"
DELIVERY_HEADER = "X-Chipwatch-Delivery"


class WebhookFailed(ChipwatchError):
    """The endpoint did not take the message; it stays pending. retry_after: seconds it asked us to wait."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Answer:
    status: int
    retry_after: float | None
    location: str | None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # the 3xx comes back as an HTTPError, and is reported


_opener = urllib.request.build_opener(_NoRedirects)


def signature(secret: str, body: bytes) -> str:
    """What the header carries: sha256= and the body's HMAC-SHA256 under the secret, in hex (as GitHub does)."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: a number of seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (now if now is not None else time.time()))


def post_once(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read(65536)  # the answer is not used, but read so the connection closes cleanly
            return Answer(response.status, None, None)
    except urllib.error.HTTPError as error:
        with error:
            return Answer(
                error.code, retry_after_seconds(error.headers.get("Retry-After")), error.headers.get("Location")
            )


def send(
    url: str, body: bytes, delivery_id: int, options: WatchOptions, sleep: Callable[[float], None] = time.sleep
) -> str:
    """POST until the endpoint answers 2xx (returns "http 2xx"), or raise WebhookFailed after the tries one
    run allows. A redirect, a refusal, garbage or a timeout each say what happened."""
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"chipwatch/{__version__} (watch webhook)",
        DELIVERY_HEADER: str(delivery_id),
    }
    if options.webhook_secret:
        headers[SIGNATURE_HEADER] = signature(options.webhook_secret, body)
    delay = options.retry_delay
    problem, asked = "not tried", None
    for attempt in range(1, options.webhook_attempts + 1):
        wait = delay
        try:
            answer = post_once(url, body, headers, options.webhook_timeout)
        except (OSError, http.client.HTTPException, ValueError) as error:
            problem, asked = f"no usable answer: {type(error).__name__}: {error}".rstrip(": "), None
        else:
            if 200 <= answer.status < 300:
                return f"http {answer.status}"
            if 300 <= answer.status < 400:
                raise WebhookFailed(
                    f"answered {answer.status}, redirecting to {answer.location or '?'}; webhooks do not follow "
                    "redirects: point the watch at the final URL"
                )
            problem, asked = f"answered HTTP {answer.status}", answer.retry_after
            if asked is not None:
                if asked > options.max_retry_after:
                    raise WebhookFailed(f"{problem}, asking to wait {asked:.0f}s", asked)
                wait = max(wait, asked)
        if attempt < options.webhook_attempts:
            sleep(wait)
            delay *= 2
    raise WebhookFailed(f"{problem} (after {options.webhook_attempts} tries)", asked)
