"""`chipwatch sources check`: does each source work from this machine, right now? Live and read-only.

For one source: fetch its address (status, redirects, time), ask its robots.txt, parse the document as its
kind, count the entries (and a listing's next-page link), read the newest entry's date, fetch one article
and extract it. The verdict says what is wrong and the fix says what to try. Nothing is stored: the
database is never opened.
"""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
import urllib.robotparser
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from chipwatch.errors import FeedError
from pipeline.dates import read_date
from spiders.entries import Entry
from spiders.sources import Source

MAX_BYTES = 8 * 1024 * 1024
LIST_MAX_BYTES = 256 * 1024 * 1024
VERDICTS = ("ok", "empty", "blocked", "moved", "selector-broken", "parse-error", "unreachable")
# What anti-bot challenges and login walls put on the page.
CHALLENGE_MARKERS = re.compile(
    r"just a moment|checking your browser|cf-chl|__jsl_clearance|captcha|access denied|"
    r"enable javascript and cookies|请开启javascript|验证码|安全验证|滑动验证",
    re.I,
)
LOGIN_MARKERS = re.compile(r"sign in to continue|log in to continue|subscribe to continue|type=['\"]password", re.I)
FIXES = {
    "empty": "the document parses but lists nothing: check the URL still points at the newest items",
    "blocked": "the site refuses automated readers (challenge or login page): disable the source, or use the "
    "outlet's official feed, API or a mirror channel instead",
    "moved": "update url in the sources file to the new address",
    "selector-broken": "the links selector finds no article links (or only navigation): update links (and next_page)"
    " to the site's current markup",
    "parse-error": "the document is not a readable {kind}: check the URL and the kind",
    "unreachable": "check the address and this machine's network (DNS, proxy, firewall)",
}


@dataclass
class Fetched:
    status: int | None
    url: str  # where it ended, after redirects
    redirects: list[tuple[int, str]]
    seconds: float
    body: bytes = b""
    content_type: str | None = None
    error: str | None = None


@dataclass
class ArticleCheck:
    url: str
    status: int | None
    title: str | None = None
    published_date: str | None = None
    text_chars: int = 0
    problem: str | None = None


@dataclass
class SourceCheck:
    name: str
    kind: str
    url: str
    verdict: str = "ok"
    fix: str | None = None
    message: str | None = None
    status: int | None = None
    final_url: str | None = None
    redirects: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0
    robots_allowed: bool | None = None
    entries: int = 0
    next_page: str | None = None
    newest_date: str | None = None
    article: ArticleCheck | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["redirects"] = [{"status": code, "location": where} for code, where in self.redirects]
        return data


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects (at most five), keeping the chain."""

    max_redirections = 5

    def __init__(self) -> None:
        self.chain: list[tuple[int, str]] = []

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        self.chain.append((code, newurl))
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch(url: str, user_agent: str, timeout: float, max_bytes: int = MAX_BYTES) -> Fetched:
    """GET url: status, final address, redirect chain, time, body (at most max_bytes)."""
    redirects = _Redirects()
    opener = urllib.request.build_opener(redirects)
    request = urllib.request.Request(url, headers={"User-Agent": user_agent, "Accept-Encoding": "identity"})
    started = time.monotonic()
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read(max_bytes)
            return Fetched(
                response.status,
                response.url,
                redirects.chain,
                time.monotonic() - started,
                body,
                response.headers.get("Content-Type"),
            )
    except urllib.error.HTTPError as error:
        body = error.read(MAX_BYTES) if error.fp else b""
        return Fetched(
            error.code,
            error.url or url,
            redirects.chain,
            time.monotonic() - started,
            body,
            error.headers.get("Content-Type") if error.headers else None,
        )
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return Fetched(None, url, redirects.chain, time.monotonic() - started, error=str(reason))


def robots_allow(url: str, user_agent: str, timeout: float) -> bool | None:
    """Whether robots.txt lets user_agent fetch url; None when robots.txt could not be read at all."""
    parts = urlsplit(url)
    robots = f"{parts.scheme}://{parts.netloc}/robots.txt"
    answer = fetch(robots, user_agent, timeout)
    if answer.status is None:
        return None
    parser = urllib.robotparser.RobotFileParser(robots)
    if answer.status >= 400:
        return True  # no robots.txt: everything is allowed (as Scrapy's middleware reads it)
    parser.parse(answer.body.decode("utf-8", "replace").splitlines())
    return parser.can_fetch(user_agent, url)


def looks_blocked(fetched: Fetched) -> str | None:
    """Why the answer is a challenge or a login wall rather than content; None when it is not."""
    head = fetched.body[:20_000].decode("utf-8", "replace")
    if fetched.status in (401, 403, 429, 503) and (CHALLENGE_MARKERS.search(head) or fetched.status in (401, 403)):
        return f"HTTP {fetched.status}: the site answered with a challenge or refusal page"
    if fetched.status == 200 and len(head) < 5000 and CHALLENGE_MARKERS.search(head) and "document.cookie" in head:
        return "a JavaScript cookie challenge instead of the document"
    if fetched.status == 200 and LOGIN_MARKERS.search(head) and len(head) < 20_000:
        return "a login or subscription page instead of the document"
    return None


def check_source(source: Source, user_agent: str, timeout: float = 20.0) -> SourceCheck:
    """Check one source live (module docstring); never raises for what a site does."""
    result = SourceCheck(source.name, source.kind, source.url)
    # A screening list is one big file (tens of megabytes), read whole, as its spider reads it.
    limit = LIST_MAX_BYTES if source.kind == "screening-list" else MAX_BYTES
    fetched = fetch(source.url, user_agent, timeout, limit)
    result.status, result.final_url, result.redirects, result.seconds = (
        fetched.status,
        fetched.url,
        fetched.redirects,
        round(fetched.seconds, 3),
    )
    result.robots_allowed = robots_allow(source.url, user_agent, timeout)
    if fetched.status is None:
        return _verdict(result, "unreachable", fetched.error)
    if result.robots_allowed is False:
        return _verdict(result, "blocked", "robots.txt disallows this address for chipwatch's user agent")
    blocked = looks_blocked(fetched)
    if blocked:
        return _verdict(result, "blocked", blocked)
    if fetched.status in (404, 410):
        return _verdict(result, "moved", f"HTTP {fetched.status}: nothing at this address any more")
    if fetched.status >= 400:
        return _verdict(result, "unreachable", f"HTTP {fetched.status}")
    if source.kind == "screening-list":
        return _check_list(result, fetched)
    try:
        entries, next_page = _entries(source, fetched, user_agent, timeout)
    except (ValueError, FeedError) as error:
        return _verdict(result, "parse-error", str(error))
    result.entries, result.next_page = len(entries), next_page
    dates = [stated for stated in (read_date(e.published) for e in entries if e.published) if stated]
    result.newest_date = max(dates, key=lambda s: s.moment).day if dates else None
    permanent = [where for code, where in fetched.redirects if code in (301, 308)]
    if permanent:
        _verdict(result, "moved", f"permanently redirected to {fetched.url}")
    elif not entries:
        kind = "selector-broken" if source.kind == "listing" else "empty"
        return _verdict(result, kind, "no entries found")
    if source.kind == "listing" and _mostly_navigation(source, fetched):
        return _verdict(result, "selector-broken", "the links selector matches the page's navigation, not articles")
    if entries:
        result.article = _check_article(urljoin(fetched.url, entries[0].link), user_agent, timeout)
        if result.verdict == "ok" and result.article.problem and result.article.problem.startswith("blocked"):
            _verdict(result, "blocked", f"article pages: {result.article.problem}")
    return result


def _check_list(result: SourceCheck, fetched: Fetched) -> SourceCheck:
    """A screening list: read whole, its entries counted, the newest start date; no article to fetch."""
    from spiders.screening_list_parser import parse_screening_list

    try:
        parsed = parse_screening_list(fetched.body, fetched.content_type, fetched.url)
    except FeedError as error:
        return _verdict(result, "parse-error", str(error))
    result.entries = len(parsed.entries)
    starts = [entry.start_date[:10] for entry in parsed.entries if entry.start_date]
    result.newest_date = max(starts) if starts else None
    if not parsed.entries:
        return _verdict(result, "empty", "no usable entries in the list")
    if parsed.problems:
        result.message = f"{len(parsed.problems)} rows with problems, e.g. {parsed.problems[0]}"
    return result


def _verdict(result: SourceCheck, verdict: str, message: str | None) -> SourceCheck:
    result.verdict, result.message = verdict, message
    fix = FIXES.get(verdict)
    result.fix = fix.format(kind=result.kind) if fix else None
    if verdict == "moved" and result.final_url and result.final_url != result.url:
        result.fix = f"update url to {result.final_url}"
    return result


def _entries(source: Source, fetched: Fetched, user_agent: str, timeout: float) -> tuple[list[Entry], str | None]:
    """The document's entries as its kind reads them (a sitemap index: its newest child's); ValueError or
    FeedError when it is not that kind of document."""
    body, content_type = fetched.body, fetched.content_type
    if source.kind in ("feed", "search"):
        from spiders.feed_parser import parse_feed

        feed = parse_feed(body, content_type)
        if feed.problem and not feed.entries:
            raise ValueError(feed.problem)
        return list(feed.entries), None
    if source.kind == "sitemap":
        from spiders.sitemap_parser import parse_sitemap

        sitemap = parse_sitemap(body, content_type)
        if sitemap.problem and not sitemap.entries and not sitemap.children:
            raise ValueError(sitemap.problem)
        if not sitemap.entries and sitemap.children:
            newest = max(sitemap.children, key=lambda child: child.lastmod or "")
            child = fetch(urljoin(fetched.url, newest.url), user_agent, timeout)
            if child.status != 200:
                raise ValueError(f"its newest child sitemap answered {child.status or child.error}")
            return list(parse_sitemap(child.body, child.content_type).entries), None
        return list(sitemap.entries), None
    if source.kind == "federal-register":
        from spiders.federal_register_parser import parse_documents

        return list(parse_documents(body, content_type).entries), None
    if source.kind == "listing":
        from spiders.listings import listing_entries, next_page_link

        if b"<" not in body[:2000]:
            raise ValueError("not an HTML page")
        selector = Selector(text=body.decode("utf-8", "replace"))
        entries = listing_entries(selector, source.links or "a")
        nxt = next_page_link(selector, source.next_page) if source.next_page else None
        return entries, urljoin(fetched.url, nxt) if nxt else None
    raise ValueError(f"unknown kind {source.kind!r}")


def _mostly_navigation(source: Source, fetched: Fetched) -> bool:
    """Most of what the links selector found sits in the page's navigation, header or footer."""
    from spiders.listings import select

    selector = Selector(text=fetched.body.decode("utf-8", "replace"))
    nodes = [node for node in select(selector, source.links or "a") if not isinstance(node.root, str)]
    if not nodes:
        return False
    chrome = sum(1 for node in nodes if node.xpath("ancestor-or-self::nav|ancestor::header|ancestor::footer"))
    return chrome * 2 > len(nodes)


def _check_article(url: str, user_agent: str, timeout: float) -> ArticleCheck:
    from pipeline.extract import extract_page
    from pipeline.process import default_zone, page_published, publication

    fetched = fetch(url, user_agent, timeout)
    article = ArticleCheck(url, fetched.status)
    if fetched.status is None:
        article.problem = f"unreachable: {fetched.error}"
        return article
    blocked = looks_blocked(fetched)
    if blocked:
        article.problem = f"blocked: {blocked}"
        return article
    if fetched.status >= 400:
        article.problem = f"HTTP {fetched.status}"
        return article
    page = extract_page(fetched.body, fetched.url, content_type=fetched.content_type)
    zone = default_zone(page.lang)
    article.title = page.title
    article.published_date = publication(*page_published(page, zone), zone)[1]
    article.text_chars = len(page.text or "")
    if not page.text:
        article.problem = page.problem or "no article text found"
    return article
