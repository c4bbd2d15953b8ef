"""`chipwatch mirror`: the demo news network over real HTTP on loopback, with a log of every request.

Tests add routes of their own (broken feeds, empty pages) with add_route().
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from demo import feeds
from demo.network import Network, load_network
from demo.render import render_article

Response = tuple[int, bytes, str]


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
        self.extra_routes: dict[str, Callable[[], Response]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def add_route(
        self, path: str, body: bytes, content_type: str = "text/html", status: int = 200, delay: float = 0.0
    ) -> None:
        """Serve body at path (for tests: broken feeds, empty pages, a server that takes delay seconds)."""

        def respond() -> Response:
            if delay:
                time.sleep(delay)
            return status, body, content_type

        self.extra_routes[path] = respond

    def log(self, request: LoggedRequest) -> None:
        with self._lock:
            self.requests.append(request)

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

    def respond(self, raw_path: str) -> Response:
        parts = urlsplit(raw_path)
        path, query = parts.path, parts.query
        base = self.base_url
        if raw_path in self.extra_routes:
            return self.extra_routes[raw_path]()
        if path in self.extra_routes:
            return self.extra_routes[path]()
        article = self.articles.get(path + (f"?{query}" if query and "id=" in query else ""))
        if article is None and "id=" in query:
            # Links carry tracking parameters (?id=1012&utm_source=rss): the page is found by its id alone.
            article_id = next((p for p in query.split("&") if p.startswith("id=")), "")
            article = self.articles.get(f"{path}?{article_id}")
        if article is not None:
            return (200, *render_article(self.network, article, base))
        if path == "/robots.txt":
            return 200, feeds.ROBOTS_TXT.encode(), "text/plain"
        if path in ("/", "/index.html"):
            return (200, *feeds.index_page(self.network, base))
        if path == "/manifest.json":
            body = json.dumps(self.network.truth(base), ensure_ascii=False, indent=1).encode("utf-8")
            return 200, body, "application/json; charset=utf-8"
        if path == "/sitemap-news.xml":
            return (200, *feeds.news_sitemap(self.network, base))
        if path == "/api/v1/documents.json":
            return (200, *feeds.documents_api(self.network, base, query))
        if path == f"/{feeds.LISTING_OUTLET}/press":
            page = int(query.split("page=")[1].split("&")[0]) if "page=" in query else 1
            return (200, *feeds.listing(self.network, base, page))
        outlet_id, _, rest = path.strip("/").partition("/")
        outlet = self.network.outlets.get(outlet_id)
        if outlet is not None and rest == "feed.xml" and outlet.feed == "rss":
            return (200, *feeds.rss(self.network, outlet, base))
        if outlet is not None and rest == "atom.xml" and outlet.feed == "atom":
            return (200, *feeds.atom(self.network, outlet, base))
        return 404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html; charset=utf-8"


class _Handler(BaseHTTPRequestHandler):
    server: MirrorServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.log(LoggedRequest(self.path, self.headers.get("User-Agent", ""), dict(self.headers.items())))
        try:
            status, body, content_type = self.server.respond(self.path)
        except Exception as error:  # a bug in the mirror must show as a 500, not a dropped connection
            status, body, content_type = 500, f"mirror error: {error}".encode(), "text/plain"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # requests are kept in server.requests; stderr stays quiet for the demo's own output
