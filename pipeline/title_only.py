"""News-search results stored from their feed entry alone ("title-only": the link could not be followed)
and the publisher's own article with the same headline: the full article is the article, the search result
its copy, whichever was stored first (storage/title_only.py)."""

from __future__ import annotations

from datetime import timedelta

from sqlite_utils import Database

from pipeline.dates import parse_date, to_utc_iso
from pipeline.items import ArticleItem
from storage.fts import fold_script
from storage.title_only import absorb_title_only, full_article_titled

# A search result and the article it points at appear within this much of each other.
WITHIN = timedelta(days=3)
# Shorter keys ("Live updates", "Briefing") are shared by unrelated articles.
MIN_KEY_CHARS = 16


def title_key(title: str | None) -> str | None:
    """A headline as matching sees it: one script, lowercase, letters and digits only."""
    key = "".join(char for char in fold_script(title or "").lower() if char.isalnum())[:200]
    return key or None


def is_title_only(item: ArticleItem) -> bool:
    # A screening list's change item is made from data, not a headline waiting for its article.
    return not item.page_fetched and not item.body_extracted and not item.list_changes


def _window(item: ArticleItem) -> tuple[str, str] | None:
    moment = parse_date(item.published_at or item.fetched_at)
    return (to_utc_iso(moment - WITHIN), to_utc_iso(moment + WITHIN)) if moment else None


def full_article_for(db: Database, item: ArticleItem) -> int | None:
    """For a title-only item: the stored full article with its headline, close in time; else None."""
    key, window = title_key(item.title), _window(item)
    if not is_title_only(item) or key is None or len(key) < MIN_KEY_CHARS or window is None:
        return None
    return full_article_titled(db, key, *window, item.canonical_url or item.url)


def absorb_title_only_copies(db: Database, item: ArticleItem) -> ArticleItem:
    """For a new full article: title-only items with its headline, close in time, become its copies."""
    key, window = title_key(item.title), _window(item)
    if item.store_status != "new" or item.article_id is None or is_title_only(item):
        return item
    if key is not None and len(key) >= MIN_KEY_CHARS and window is not None:
        absorb_title_only(db, item.article_id, key, *window)
    return item
