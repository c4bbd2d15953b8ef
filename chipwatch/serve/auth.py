"""Who may read a served database: accounts with hashed passwords (PBKDF2-SHA256, the hash in the config,
never the password), a bearer token for scripts and feed readers (only from $CHIPWATCH_SERVE_TOKEN), and
per-reader feed tokens derived from it. Pure functions and a small rate limiter; the serve plugin asks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections import defaultdict, deque

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 600_000
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


def hash_password(password: str, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """ "pbkdf2_sha256$ITERATIONS$SALT$HASH" (base64): what [serve] accounts keeps for a password."""
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{ALGORITHM}${iterations}${_b64(salt)}${_b64(digest)}"


def hash_problem(stored: object) -> str | None:
    """Why a stored hash cannot be used, or None."""
    if not isinstance(stored, str):
        return "a password hash from `chipwatch serve --hash-password`"
    parts = stored.split("$")
    if len(parts) != 4 or parts[0] != ALGORITHM or not parts[1].isdigit() or int(parts[1]) < 100_000:
        return "a password hash from `chipwatch serve --hash-password` (pbkdf2_sha256$iterations$salt$hash)"
    return None


def verify_password(password: str, stored: str) -> bool:
    if hash_problem(stored):
        return False
    _, iterations, salt, expected = stored.split("$")
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), _unb64(salt), int(iterations))
    return hmac.compare_digest(_b64(digest), expected)


def feed_token(secret: str, reader: str) -> str:
    """A reader's token for feed URLs (?token=...): their name and a signature only the server can make."""
    return f"{reader}.{_signature(secret, reader)}"


def check_feed_token(secret: str, token: str) -> str | None:
    """The reader a feed token belongs to, or None."""
    reader, _, signature = token.rpartition(".")
    if not reader or not secret:
        return None
    return reader if hmac.compare_digest(signature, _signature(secret, reader)) else None


def same_secret(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _signature(secret: str, reader: str) -> str:
    return hmac.new(secret.encode("utf-8"), f"feed:{reader}".encode(), hashlib.sha256).hexdigest()[:32]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


class Attempts:
    """Failed sign-ins per (client, account): after `limit` failures within `window` seconds, every try is
    refused until the oldest failure leaves the window (a guessing script gets nowhere fast)."""

    def __init__(self, limit: int = 5, window: float = 300.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and now - failures[0] > self.window:
            failures.popleft()
        return failures

    def blocked_for(self, client: str, account: str, now: float | None = None) -> float:
        """Seconds this client must wait before trying this account again (0: may try)."""
        now = time.monotonic() if now is None else now
        failures = self._recent((client, account), now)
        if len(failures) < self.limit:
            return 0.0
        return max(0.0, self.window - (now - failures[0]))

    def failed(self, client: str, account: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._recent((client, account), now).append(now)

    def succeeded(self, client: str, account: str) -> None:
        self._failures.pop((client, account), None)
