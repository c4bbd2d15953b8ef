"""Rendering the demo network's article pages, each outlet with its own page chrome, dates and charset."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from demo.network import Article, Network, Outlet

FICTION_NOTICE = "Fictional sample data written for the chipwatch demo. Not real news."
FICTION_NOTICE_ZH = "本页为 chipwatch 演示用的虚构样本数据，并非真实新闻。"
COMMENTS = {
    "en": [
        ("harbor_lurker", "Same story every year. Wait for the actual rule text."),
        ("chipfan77", "Anyone know what this means for prices of used cards?"),
        ("k.m.", "Great reporting, thanks for the timeline."),
    ],
    "zh": [
        ("网友甲", "说到底还是要靠自己。"),
        ("科技观察者", "期待后续报道，谢谢小编。"),
        ("路人乙", "这个价格谁买得起？"),
    ],
}
NAV = {
    "en": ["Home", "World", "Business", "Tech", "Policy", "Markets", "Opinion"],
    "zh": ["首页", "国际", "财经", "科技", "评论", "视频", "专题"],
}

_environment = Environment(
    loader=PackageLoader("demo", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def visible_date(moment: datetime, outlet: Outlet, style: str | None = None) -> str:
    """The date as the outlet prints it on the page (or in an article's own style), in its own timezone."""
    local = moment.astimezone(ZoneInfo(outlet.timezone))
    style = style or outlet.date_style
    if style == "us":
        return f"{local:%b}. {local.day}, {local:%Y} {local.strftime('%I:%M %p').lstrip('0')} ET"
    if style == "uk":
        return f"{local.day} {local:%B %Y %H:%M} {local.tzname()}"
    if style == "cn":
        return f"{local:%Y年%m月%d日 %H:%M}"
    if style == "tw":
        return f"{local:%Y/%m/%d %H:%M}"
    if style == "date-only":
        return f"{local:%m/%d/%Y}"
    if style == "uk-numeric":  # day first, as British sites print it: 04/12/2025 is 4 December
        return f"{local:%d/%m/%Y %H:%M} {local.tzname()}"
    if style == "cn-date-only":
        return f"{local:%Y年%m月%d日}"
    return f"{local:%Y-%m-%d %H:%M}"


def feed_date(moment: datetime, outlet: Outlet) -> str:
    """The date as the outlet's feed writes it."""
    local = moment.astimezone(ZoneInfo(outlet.timezone))
    if outlet.feed_date_style == "local":
        return f"{local:%Y-%m-%d %H:%M:%S}"
    if outlet.feed == "atom":
        return local.isoformat()
    return local.strftime("%a, %d %b %Y %H:%M:%S %z")


def render_article(network: Network, article: Article, base: str) -> tuple[bytes, str]:
    """The page's bytes and its Content-Type header."""
    outlet = network.outlets[article.outlet]
    url = base + article.path
    zh = article.lang.startswith("zh")
    related = [a for a in network.of_outlet(outlet.id) if a.id != article.id and not a.members_only][:4]
    context = {
        "outlet": outlet,
        "article": article,
        "url": url,
        "html_lang": article.overrides.get("html_lang")
        or {"zh-Hans": "zh-CN", "zh-Hant": "zh-TW"}.get(article.lang, article.lang),
        "charset": article.setting(outlet, "declared_charset"),
        "date_text": visible_date(article.published, outlet, article.setting(outlet, "date_style")),
        "iso_date": _meta_date(article),
        "og_title": _og_title(article, outlet),
        "site_name": outlet.name if article.overrides.get("title_trap") else None,
        "widgets": _widgets(network, article) if article.overrides.get("widgets") else None,
        "time_tag": article.setting(outlet, "time_tag"),
        "opengraph": article.setting(outlet, "opengraph"),
        "jsonld": _json_ld(article, outlet, url) if article.setting(outlet, "jsonld") else None,
        "related": [(a.title, base + a.path) for a in related],
        "comments": COMMENTS["zh" if zh else "en"],
        "nav": NAV["zh" if zh else "en"],
        "notice": FICTION_NOTICE_ZH if zh else FICTION_NOTICE,
    }
    html = _environment.get_template(f"{outlet.chrome}.html").render(**context)
    encoding = article.setting(outlet, "encoding")
    body = html.encode(encoding, errors="xmlcharrefreplace")
    content_type = "text/html"
    if article.setting(outlet, "charset_header"):
        content_type += f"; charset={encoding}"
    return body, content_type


def _meta_date(article: Article) -> str:
    """The machine-readable date: the moment with its offset, or a trap's form of it (compact ISO; UTC,
    as many sites write it while printing their own local time)."""
    style = article.overrides.get("meta_date")
    if style == "compact":
        return article.published.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    if style == "utc":
        return article.published.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return article.published.isoformat()


def _og_title(article: Article, outlet: Outlet) -> str:
    """og:title as the page writes it; with title_trap, punctuation as numeric entities (escaped once
    more when the template writes it, as careless sites do) and the site's name after a separator."""
    if not article.overrides.get("title_trap"):
        return f"{article.title} | {outlet.name}" if outlet.title_suffix else article.title
    entities = "".join(f"&#{ord(c)};" if c in ":?!'’,&" else c for c in article.title)
    return Markup(escape(entities) + " | " + escape(outlet.name))


def _widgets(network: Network, article: Article) -> dict[str, list[tuple[str, str]]]:
    """A portal's blocks around an article: many recommended headlines and many comments (fiction)."""
    others = [a for a in network.articles if a.lang == article.lang and a.id != article.id and not a.members_only]
    recommended = [(f"为您推荐：{a.title}", a.path) for a in others[:30]] * 2
    comments = [(f"网友{n:03d}", f"这是一条虚构的评论，第{n}条，说说对这件事的看法。") for n in range(40)]
    return {"recommended": recommended, "comments": comments}


def _json_ld(article: Article, outlet: Outlet, url: str) -> str:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "datePublished": _meta_date(article),
        "inLanguage": article.lang,
        "mainEntityOfPage": url,
        "publisher": {"@type": "Organization", "name": outlet.name},
    }
    if article.byline:
        data["author"] = [{"@type": "Person", "name": name.strip()} for name in article.byline.split(" and ")]
    # </ inside JSON would end the script element early.
    return json.dumps(data, ensure_ascii=False, indent=2).replace("</", "<\\/")
