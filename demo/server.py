"""`chipwatch mirror`: the demo news network over real HTTP on loopback, with a log of every request.

Discovery documents (feeds, sitemaps, the API, listings) carry an ETag and Last-Modified and answer
conditional requests with 304, as well-run sites do. Tests add routes of their own with add_route(), and
switch on faults from demo/faults.py for any path with add_fault(); /faults/<kind> serves each fault.
"""

from __future__ import annotations

import hashlib
import json
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from demo import feeds, lists
from demo.faults import FAULTS, Reply, fault_reply
from demo.network import Network, load_network
from demo.render import render_article

# How long a "hang" fault keeps the connection silent: longer than any crawl's download timeout in tests.
HANG_SECONDS = 30.0


@dataclass(frozen=True)
class LoggedRequest:
    path: str
    user_agent: str
    headers: dict[str, str]


class MirrorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str = "127.0.0.1", port: int = 8765, network: Network | None = None) -> None:
        super().__init__((host, port), _Handler)
        self.network = network or load_network()
        self.articles = self.network.by_path()
        self.requests: list[LoggedRequest] = []
        self.request_times: list[float] = []  # time.perf_counter() of each request, for benchmarks
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests served at once: tests check politeness with it
        self.extra_routes: dict[str, Callable[[], Reply]] = {}
        # Which version of the fictional screening list /lists/consolidated.* serves (demo/lists.toml).
        self.list_version = lists.latest_good_version()
        self.last_modified = max(article.published for article in self.network.articles).astimezone(UTC)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def add_route(
        self,
        path: str,
        body: bytes,
        content_type: str = "text/html",
        status: int = 200,
        delay: float = 0.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Serve body at path (for tests: broken feeds, empty pages, a server that takes delay seconds)."""
        self.extra_routes[path] = lambda: Reply(status, body, content_type, dict(headers or {}), delay=delay)

    def fail_first(self, path: str, times: int = 1, status: int = 500) -> None:
        """Answer path (with its query) with `status` for its first `times` requests, then as usual: a site
        that hiccups once."""
        left = [times]

        def reply() -> Reply:
            if left[0] <= 0:
                self.extra_routes.pop(path, None)
                return self._route(path)
            left[0] -= 1
            return Reply(status, f"HTTP {status}".encode(), "text/plain")

        self.extra_routes[path] = reply

    def add_fault(self, path: str, kind: str) -> None:
        """Serve one of demo/faults.py's faults at path."""
        if kind not in FAULTS:
            raise KeyError(f"unknown fault {kind!r} (known: {', '.join(FAULTS)})")
        maker = FAULTS[kind]
        self.extra_routes[path] = lambda: maker(self.base_url, path)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A crawler hanging up on a fault (a page over its size limit, a drip) is expected, not news.
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)

    def log(self, request: LoggedRequest) -> None:
        with self._lock:
            self.requests.append(request)
            self.request_times.append(time.perf_counter())

    def requested_paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    def start_background(self) -> MirrorServer:
        self._thread = threading.Thread(target=self.serve_forever, name="mirror", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def respond(self, raw_path: str, headers: dict[str, str] | None = None) -> Reply:
        reply = self._route(raw_path)
        if reply.status == 200 and reply.wire is None and _is_discovery(reply.content_type, raw_path):
            reply = self._conditional(reply, headers or {})
        return reply

    def _conditional(self, reply: Reply, headers: dict[str, str]) -> Reply:
        etag = '"' + hashlib.sha1(reply.body).hexdigest()[:16] + '"'
        last_modified = format_datetime(self.last_modified, usegmt=True)
        validators = {"ETag": etag, "Last-Modified": last_modified}
        if_none_match = _header(headers, "If-None-Match")
        if_modified_since = _header(headers, "If-Modified-Since")
        if if_none_match is not None:
            if etag in [tag.strip() for tag in if_none_match.split(",")]:
                return Reply(304, b"", reply.content_type, validators)
        elif if_modified_since:
            try:
                since = parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError):
                since = None
            if since is not None and since >= self.last_modified.replace(microsecond=0):
                return Reply(304, b"", reply.content_type, validators)
        reply.headers.update(validators)
        return reply

    def _route(self, raw_path: str) -> Reply:
        parts = urlsplit(raw_path)
        path, query = parts.path, parts.query
        base = self.base_url
        for key in (raw_path, path):
            if key in self.extra_routes:
                return self.extra_routes[key]()
        article = self.articles.get(path + (f"?{query}" if query and "id=" in query else ""))
        if article is None and "id=" in query:
            # Links carry tracking parameters (?id=1012&utm_source=rss): the page is found by its id alone.
            article_id = next((p for p in query.split("&") if p.startswith("id=")), "")
            article = self.articles.get(f"{path}?{article_id}")
        if article is not None:
            return Reply(200, *render_article(self.network, article, base))
        if path.startswith("/faults/"):
            reply = fault_reply(path.split("/")[2], base, path)
            if reply is not None:
                return reply
        if path == "/robots.txt":
            return Reply(200, feeds.ROBOTS_TXT.encode(), "text/plain")
        if path in ("/", "/index.html"):
            return Reply(200, *feeds.index_page(self.network, base))
        if path == "/manifest.json":
            body = json.dumps(self.network.truth(base), ensure_ascii=False, indent=1).encode("utf-8")
            return Reply(200, body, "application/json; charset=utf-8")
        if path == "/sitemap-news.xml":
            return Reply(200, *feeds.news_sitemap(self.network, base))
        if path == "/api/v1/documents.json":
            return Reply(200, *feeds.documents_api(self.network, base, query))
        if path.startswith("/lists/"):
            reply = self._list_route(path)
            if reply is not None:
                return reply
        if path == feeds.SEARCH_PATH:
            return Reply(200, *feeds.search_feed(self.network, base))
        if path.startswith(feeds.SEARCH_PATH + "/articles/"):
            target = _search_target(path)
            if target:
                return Reply(302, b"", headers={"Location": target})
        return self._outlet_route(path, query, base)

    def _list_route(self, path: str) -> Reply | None:
        """/lists/consolidated.json (or .csv): the version set in list_version; /lists/vN/... a given one."""
        parts = path.strip("/").split("/")
        version = self.list_version
        if len(parts) == 3 and parts[1][:1] == "v" and parts[1][1:].isdigit():
            version = int(parts[1][1:])
        if version not in lists.versions():
            return None
        if parts[-1] == "consolidated.json":
            return Reply(200, *lists.list_json(version))
        if parts[-1] == "consolidated.csv":
            return Reply(200, *lists.list_csv(version))
        return None

    def _outlet_route(self, path: str, query: str, base: str) -> Reply:
        outlet_id, _, rest = path.strip("/").partition("/")
        outlet = self.network.outlets.get(outlet_id)
        if outlet is not None:
            if rest == "feed.xml" and outlet.feed == "rss":
                return Reply(200, *feeds.rss(self.network, outlet, base))
            if rest == "atom.xml" and outlet.feed == "atom":
                return Reply(200, *feeds.atom(self.network, outlet, base))
            if rest == "press" and (outlet.feed == "listing" or outlet.id == feeds.LISTING_OUTLET):
                page = int(query.split("page=")[1].split("&")[0]) if "page=" in query else 1
                return Reply(200, *feeds.listing(self.network, base, page, outlet.id))
            if rest == "sitemap.xml" and outlet.feed == "sitemap":
                return Reply(200, *feeds.sitemap_index(self.network, outlet, base))
            if rest.startswith("sitemap-") and rest.endswith(".xml") and outlet.feed == "sitemap":
                return Reply(200, *feeds.news_sitemap(self.network, base, outlet.id, rest[8:-4]))
        return Reply(404, b"<html><body><h1>404 Not Found</h1></body></html>")


def _is_discovery(content_type: str, path: str) -> bool:
    path = path.split("?")[0]
    return "xml" in content_type or "json" in content_type or path.endswith(("/press", ".csv"))


def _header(headers: dict[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def _search_target(path: str) -> str | None:
    from spiders.links import publisher_url

    return publisher_url(path)


class _Handler(BaseHTTPRequestHandler):
    server: MirrorServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        with self.server._lock:
            self.server.in_flight += 1
            self.server.max_in_flight = max(self.server.max_in_flight, self.server.in_flight)
        try:
            self._serve()
        finally:
            with self.server._lock:
                self.server.in_flight -= 1

    def _serve(self) -> None:
        headers = dict(self.headers.items())
        self.server.log(LoggedRequest(self.path, self.headers.get("User-Agent", ""), headers))
        try:
            reply = self.server.respond(self.path, headers)
        except Exception as error:  # a bug in the mirror must show as a 500, not a dropped connection
            reply = Reply(500, f"mirror error: {error}".encode(), "text/plain")
        if reply.delay:
            time.sleep(reply.delay)
        if reply.wire == "hang":
            time.sleep(HANG_SECONDS)
            self.close_connection = True
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.wire == "endless":
            self._endless(reply.body)
            return
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if reply.wire == "reset":
            self.wfile.write(reply.body[: len(reply.body) // 3])
            self.wfile.flush()
            # SO_LINGER 0: close() sends a TCP reset instead of a clean end.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        if reply.wire == "drip":
            self._drip(reply.body)
            return
        self.wfile.write(reply.body)

    def _drip(self, body: bytes) -> None:
        """One byte a second, until the client gives up."""
        try:
            for byte in body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(1.0)
        except OSError:
            pass
        self.close_connection = True

    def _endless(self, start: bytes) -> None:
        """A chunked body that never ends (until the client hangs up)."""
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"<p>" + b"more " * 2000 + b"</p>\n"
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(start), start))
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
        except OSError:
            pass
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass  # requests are kept in server.requests; stderr stays quiet for the demo's own output
