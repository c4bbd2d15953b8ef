"""A Datasette plugin: when a served database has accounts or a token, nothing is served without them.

One gate in front of the whole application (an ASGI wrapper), so every page, every .json endpoint,
Datasette's own tables and SQL, the reading room, the feeds and the static files are behind it alike:
- `Authorization: Bearer $CHIPWATCH_SERVE_TOKEN` (scripts, feed readers that send headers);
- a signed session cookie from signing in at /login with an account of [serve.accounts] (its password
  checked against the PBKDF2 hash in the config; failures rate-limited per client and account);
- on /feeds/ only, `?token=` a per-reader feed token (`chipwatch serve --feed-token NAME`).
Anything else gets 401. Neither passwords nor tokens are ever logged.
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
from html import escape
from typing import Any

from datasette import hookimpl

from chipwatch.serve.auth import Attempts, check_feed_token, same_secret, verify_password

COOKIE = "chipwatch_session"
SESSION_SECONDS = 12 * 3600
OPEN_PATHS = ("/login",)
attempts = Attempts()


def _settings(datasette: Any) -> dict[str, Any]:
    config = datasette.plugin_config("chipwatch_auth") or {}
    return {
        "accounts": dict(config.get("accounts") or {}),
        "token": os.environ.get("CHIPWATCH_SERVE_TOKEN", ""),
        "secure": bool(config.get("secure")),
    }


def _required(settings: dict[str, Any]) -> bool:
    return bool(settings["accounts"] or settings["token"])


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _cookies(header: str) -> dict[str, str]:
    cookies = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            cookies[name] = value
    return cookies


def allowed(datasette: Any, settings: dict[str, Any], scope: dict[str, Any]) -> bool:
    headers = _headers(scope)
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer ") and same_secret(authorization[7:].strip(), settings["token"]):
        return True
    session = _cookies(headers.get("cookie", "")).get(COOKIE)
    if session:
        try:
            value = datasette.unsign(urllib.parse.unquote(session), "chipwatch-session")
        except Exception:  # a forged or stale cookie is no session
            value = None
        fresh = isinstance(value, dict) and time.time() - float(value.get("t", 0)) < SESSION_SECONDS
        if fresh and isinstance(value, dict) and value.get("u") in settings["accounts"]:
            return True
    if scope.get("path", "").startswith("/feeds/") and settings["token"]:
        query = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"))
        token = (query.get("token") or [""])[0]
        if token and check_feed_token(settings["token"], token):
            return True
    return False


async def _send(send: Any, status: int, body: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    data = body.encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(data)).encode()),
                (b"cache-control", b"no-store"),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


def _login_page(message: str = "", next_path: str = "/") -> str:
    notice = f'<p style="color:#a00">{escape(message)}</p>' if message else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        'content="width=device-width, initial-scale=1"><title>Sign in · chipwatch</title></head>'
        '<body style="font-family:system-ui,sans-serif;max-width:24em;margin:3em auto;padding:0 1em">'
        f"<h1>chipwatch</h1><p>Sign in to read this database.</p>{notice}"
        '<form method="post" action="/login">'
        f'<input type="hidden" name="next" value="{escape(next_path)}">'
        '<p><label>Account<br><input name="username" autocomplete="username" required></label></p>'
        '<p><label>Password<br><input name="password" type="password" autocomplete="current-password" required>'
        '</label></p><p><button type="submit">Sign in</button></p></form></body></html>'
    )


async def _read_body(receive: Any, limit: int = 8192) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if len(body) > limit or not message.get("more_body"):
            return body[:limit]


def _safe_next(value: str) -> str:
    # Only a path on this server: never an open redirect to elsewhere.
    return value if value.startswith("/") and not value.startswith("//") else "/"


async def _login(datasette: Any, settings: dict[str, Any], scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope.get("method") != "POST":
        query = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"))
        await _send(send, 200, _login_page(next_path=_safe_next((query.get("next") or ["/"])[0])))
        return
    form = urllib.parse.parse_qs((await _read_body(receive)).decode("utf-8", "replace"))
    account = (form.get("username") or [""])[0][:64]
    password = (form.get("password") or [""])[0]
    next_path = _safe_next((form.get("next") or ["/"])[0])
    client = (scope.get("client") or ("?", 0))[0]
    wait = attempts.blocked_for(client, account)
    if wait:
        await _send(
            send,
            429,
            _login_page(f"Too many failed sign-ins: try again in {wait:.0f} s.", next_path),
            [(b"retry-after", str(int(wait) + 1).encode())],
        )
        return
    stored = settings["accounts"].get(account)
    if stored is None or not verify_password(password, stored):
        attempts.failed(client, account)
        await _send(send, 401, _login_page("Wrong account or password.", next_path))
        return
    attempts.succeeded(client, account)
    signed = urllib.parse.quote(datasette.sign({"u": account, "t": time.time()}, "chipwatch-session"))
    cookie = f"{COOKIE}={signed}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_SECONDS}"
    if settings["secure"]:
        cookie += "; Secure"
    await _send(
        send, 302, "", [(b"location", next_path.encode("latin-1", "replace")), (b"set-cookie", cookie.encode())]
    )


@hookimpl
def asgi_wrapper(datasette: Any) -> Any:
    def wrap(app: Any) -> Any:
        async def gate(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope.get("type") != "http":
                await app(scope, receive, send)
                return
            settings = _settings(datasette)
            if not _required(settings):
                await app(scope, receive, send)
                return
            if scope.get("path") in OPEN_PATHS:
                await _login(datasette, settings, scope, receive, send)
                return
            if allowed(datasette, settings, scope):
                await app(scope, receive, send)
                return
            wants_json = scope.get("path", "").endswith(".json") or "json" in _headers(scope).get("accept", "")
            body = (
                json.dumps({"ok": False, "error": "sign in, or send Authorization: Bearer <token>"})
                if wants_json
                else _login_page("Sign in first.", _safe_next(scope.get("path", "/")))
            )
            await _send(send, 401, body, [(b"www-authenticate", b'Bearer realm="chipwatch"')])

        return gate

    return wrap
