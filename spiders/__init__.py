"""Spiders discover and fetch: one per kind of source, each yielding one ArticleItem per article page."""
