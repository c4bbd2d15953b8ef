"""The demo network's discovery documents: RSS and Atom feeds, news sitemaps (one for the whole network, and
a sitemap index per sitemap outlet), a Federal-Register-shaped JSON API, HTML listing pages, a
Google-News-shaped search feed, robots.txt and an index page."""

from __future__ import annotations

import base64
import json
from datetime import UTC
from html import escape
from urllib.parse import parse_qs
from xml.sax.saxutils import escape as xml_escape

from demo.network import Article, Network, Outlet
from demo.render import FICTION_NOTICE, feed_date

ROBOTS_TXT = "User-agent: *\nDisallow: /members/\n"
API_OUTLET = "federal-docs"
LISTING_OUTLET = "federal-docs"
PAGE_SIZE = 5
SEARCH_PATH = "/search/rss"


def _summary(article: Article) -> str:
    first = article.paragraphs[0]
    return first if len(first) < 240 else first[:237] + "..."


def rss(network: Network, outlet: Outlet, base: str) -> tuple[bytes, str]:
    items = []
    for article in network.of_outlet(outlet.id):
        link = base + article.path
        if "?" in link:
            link += "&utm_source=rss&utm_medium=feed"
        author = f"<dc:creator>{xml_escape(article.byline)}</dc:creator>" if article.byline else ""
        items.append(
            f"<item><title>{xml_escape(article.title)}</title><link>{xml_escape(link)}</link>"
            f'<guid isPermaLink="false">{outlet.id}-{article.number}</guid>'
            f"<pubDate>{feed_date(article.published, outlet)}</pubDate>{author}"
            f"<description>{xml_escape('<p>' + escape(_summary(article)) + '</p>')}</description></item>"
        )
    encoding = outlet.encoding
    language = {"zh-Hans": "zh-cn", "zh-Hant": "zh-tw"}.get(outlet.lang, outlet.lang)
    document = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{xml_escape(outlet.name)}</title><link>{base}/{outlet.id}/</link>"
        f"<description>{xml_escape(FICTION_NOTICE)}</description><language>{language}</language>"
        + "".join(items)
        + "</channel></rss>\n"
    )
    return document.encode(encoding, errors="xmlcharrefreplace"), f"application/rss+xml; charset={encoding}"


def atom(network: Network, outlet: Outlet, base: str) -> tuple[bytes, str]:
    entries = []
    for article in network.of_outlet(outlet.id):
        author = f"<author><name>{xml_escape(article.byline)}</name></author>" if article.byline else ""
        entries.append(
            f"<entry><title>{xml_escape(article.title)}</title>"
            f'<link rel="alternate" type="text/html" href="{xml_escape(base + article.path)}"/>'
            f"<id>tag:{outlet.id},2025:{article.number}</id>"
            f"<published>{feed_date(article.published, outlet)}</published>"
            f"<updated>{feed_date(article.published, outlet)}</updated>{author}"
            f"<summary>{xml_escape(_summary(article))}</summary></entry>"
        )
    updated = max(a.published for a in network.of_outlet(outlet.id)).isoformat()
    document = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{outlet.lang}">'
        f"<title>{xml_escape(outlet.name)}</title><subtitle>{xml_escape(FICTION_NOTICE)}</subtitle>"
        f'<link rel="self" href="{base}/{outlet.id}/atom.xml"/><id>{base}/{outlet.id}/</id>'
        f"<updated>{updated}</updated>" + "".join(entries) + "</feed>\n"
    )
    return document.encode("utf-8"), "application/atom+xml; charset=utf-8"


def news_sitemap(
    network: Network, base: str, outlet_id: str | None = None, month: str | None = None
) -> tuple[bytes, str]:
    """A Google News sitemap of the whole network, or of one outlet's month ("2025-12")."""
    urls = []
    chosen = network.of_outlet(outlet_id) if outlet_id else network.articles
    for article in sorted(chosen, key=lambda a: a.published, reverse=True):
        if article.members_only or (month and f"{article.published:%Y-%m}" != month):
            continue
        outlet = network.outlets[article.outlet]
        language = "zh-cn" if article.lang == "zh-Hans" else "zh-tw" if article.lang == "zh-Hant" else "en"
        urls.append(
            f"<url><loc>{xml_escape(base + article.path)}</loc><news:news><news:publication>"
            f"<news:name>{xml_escape(outlet.name)}</news:name><news:language>{language}</news:language>"
            f"</news:publication><news:publication_date>{article.published.isoformat()}</news:publication_date>"
            f"<news:title>{xml_escape(article.title)}</news:title>"
            f"<news:keywords>{','.join(article.topics)}</news:keywords></news:news></url>"
        )
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + "".join(urls) + "</urlset>\n"
    )
    return document.encode("utf-8"), "application/xml; charset=utf-8"


def sitemap_index(network: Network, outlet: Outlet, base: str) -> tuple[bytes, str]:
    """An outlet's sitemap index: one child sitemap per month, newest first."""
    newest: dict[str, str] = {}
    for article in network.of_outlet(outlet.id):  # newest first
        newest.setdefault(f"{article.published:%Y-%m}", article.published.isoformat())
    children = "".join(
        f"<sitemap><loc>{base}/{outlet.id}/sitemap-{month}.xml</loc><lastmod>{lastmod}</lastmod></sitemap>"
        for month, lastmod in sorted(newest.items(), reverse=True)
    )
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{children}</sitemapindex>\n'
    )
    return document.encode("utf-8"), "application/xml; charset=utf-8"


def search_link(base: str, article_url: str) -> str:
    """A search-result link in the older Google News shape: the publisher's URL inside a base64 protobuf."""
    url = article_url.encode()
    payload = b"\x08\x13\x22" + _varint(len(url)) + url
    return f"{base}{SEARCH_PATH}/articles/{base64.urlsafe_b64encode(payload).decode().rstrip('=')}?oc=5"


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def search_feed(network: Network, base: str) -> tuple[bytes, str]:
    """Shaped like a Google News search RSS: results from the outlets that have no feed of their own,
    'Title - Publisher' titles, <source url=...> and links that go through the search engine."""
    outlets = [o for o in network.outlets.values() if o.feed == "search"]
    results = sorted(
        (a for o in outlets for a in network.of_outlet(o.id) if not a.members_only),
        key=lambda a: a.published,
        reverse=True,
    )
    items = []
    for article in results:
        outlet = network.outlets[article.outlet]
        link = search_link(base, base + article.path)
        description = (
            f'<a href="{escape(link)}" target="_blank">{escape(article.title)}</a>&nbsp;&nbsp;'
            f'<font color="#6f6f6f">{escape(outlet.name)}</font>'
        )
        items.append(
            f"<item><title>{xml_escape(article.title)} - {xml_escape(outlet.name)}</title>"
            f'<link>{xml_escape(link)}</link><guid isPermaLink="false">search-{article.number}</guid>'
            f"<pubDate>{article.published.astimezone(UTC):%a, %d %b %Y %H:%M:%S GMT}</pubDate>"
            f"<description>{xml_escape(description)}</description>"
            f'<source url="{base}/{outlet.id}/">{xml_escape(outlet.name)}</source></item>'
        )
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><rss version="2.0" '
        'xmlns:media="http://search.yahoo.com/mrss/"><channel><generator>NFE/5.0</generator>'
        f'<title>"H200" - Demo News Search</title><link>{base}{SEARCH_PATH}</link><language>en-US</language>'
        f"<description>{xml_escape(FICTION_NOTICE)}</description>" + "".join(items) + "</channel></rss>"
    )
    return document.encode("utf-8"), "application/rss+xml; charset=utf-8"


def documents_api(network: Network, base: str, query: str) -> tuple[bytes, str]:
    """Shaped like the Federal Register's /api/v1/documents.json: count, total_pages, next_page_url, results."""
    params = parse_qs(query)
    page = max(1, int((params.get("page") or ["1"])[0] or 1))
    per_page = min(100, max(1, int((params.get("per_page") or [str(PAGE_SIZE)])[0] or PAGE_SIZE)))
    documents = network.of_outlet(API_OUTLET)
    total_pages = max(1, -(-len(documents) // per_page))
    chosen = documents[(page - 1) * per_page : page * per_page]
    results = [
        {
            "title": a.title,
            "type": a.document.get("type", "Rule"),
            "abstract": _summary(a),
            "document_number": f"2025-{20000 + a.number}",
            "html_url": base + a.path,
            "publication_date": a.published.date().isoformat(),
            "agencies": [{"name": "Industry and Security Bureau", "slug": "industry-and-security-bureau"}],
            "citation": a.document.get("citation"),
            "effective_on": a.document.get("effective_on"),
            "comments_close_on": a.document.get("comments_close_on"),
            "regulation_id_numbers": [a.document["rin"]] if a.document.get("rin") else [],
            "cfr_references": [
                {"title": int(part.split(" CFR ")[0]), "part": part.split(" CFR ")[1]}
                for part in a.document.get("cfr_parts", [])
            ],
        }
        for a in chosen
    ]
    body = {
        "count": len(documents),
        "description": FICTION_NOTICE,
        "total_pages": total_pages,
        "results": results,
    }
    if page < total_pages:
        body["next_page_url"] = f"{base}/api/v1/documents.json?page={page + 1}&per_page={per_page}"
    return json.dumps(body, indent=1).encode("utf-8"), "application/json; charset=utf-8"


def listing(network: Network, base: str, page: int, outlet_id: str = LISTING_OUTLET) -> tuple[bytes, str]:
    """A press-release listing page with no feed semantics: the kind of page a CSS selector config reads."""
    documents = network.of_outlet(outlet_id)
    total_pages = max(1, -(-len(documents) // PAGE_SIZE))
    chosen = documents[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    rows = "".join(
        f'<li class="release"><span class="release-date">{a.published:%B %d, %Y}</span> '
        f'<a class="release-link" href="{escape(a.path)}">{escape(a.title)}</a></li>'
        for a in chosen
    )
    pager = f'<a class="next" href="/{outlet_id}/press?page={page + 1}">Next</a>' if page < total_pages else ""
    html = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Press releases</title></head><body>'
        f'<h1>Press releases</h1><p>{FICTION_NOTICE}</p><ul class="releases">{rows}</ul>{pager}</body></html>'
    )
    return html.encode("utf-8"), "text/html; charset=utf-8"


def index_page(network: Network, base: str) -> tuple[bytes, str]:
    items = []
    for outlet in network.outlets.values():
        feed = discovery_path(outlet)
        count = len(network.of_outlet(outlet.id))
        items.append(f'<li>{escape(outlet.name)} ({count} articles) — <a href="{feed}">{outlet.feed}</a></li>')
    html = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>chipwatch demo news network</title>'
        f"</head><body><h1>chipwatch demo news network</h1><p>{FICTION_NOTICE}</p><ul>{''.join(items)}</ul>"
        '<p><a href="/sitemap-news.xml">News sitemap</a> · <a href="/api/v1/documents.json">Documents API</a> · '
        f'<a href="/{LISTING_OUTLET}/press">Press listing</a> · <a href="/manifest.json">Manifest</a></p>'
        "</body></html>"
    )
    return html.encode("utf-8"), "text/html; charset=utf-8"


def discovery_path(outlet: Outlet) -> str:
    """Where a crawler finds the outlet's articles, by the kind of source it is."""
    return {
        "rss": f"/{outlet.id}/feed.xml",
        "atom": f"/{outlet.id}/atom.xml",
        "listing": f"/{outlet.id}/press",
        "sitemap": f"/{outlet.id}/sitemap.xml",
        "api": "/api/v1/documents.json",
        "search": SEARCH_PATH + "?q=H200",
    }[outlet.feed]
