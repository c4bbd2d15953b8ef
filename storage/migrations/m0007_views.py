"""Migration 0007_views."""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    # Searches filed by date walk this index newest first (storage/search.py).
    db.execute("CREATE INDEX articles_moment ON articles (COALESCE(published_at, first_seen_at))")
    db.execute("CREATE INDEX articles_relevance ON articles (relevance)")
    # For people who bring their own SQL tool (and for Datasette): one row per article with its topics
    # flattened, stories with their counts, sources with their health, coverage per day and language.
    db.execute(
        """CREATE VIEW articles_flat AS
        SELECT a.id, a.title, a.canonical_url AS url, a.source, COALESCE(a.publisher, a.source) AS outlet,
               a.lang, COALESCE(a.published_at, a.first_seen_at) AS moment, a.published_at, a.first_seen_at,
               a.relevant, a.relevance,
               (SELECT t.topic FROM article_topics t WHERE t.article_id = a.id ORDER BY t.score DESC LIMIT 1)
                   AS primary_topic,
               (SELECT json_group_array(topic) FROM (SELECT t.topic FROM article_topics t
                    WHERE t.article_id = a.id ORDER BY t.score DESC)) AS topics,
               a.story_id, s.title AS story_title, a.is_follow_up,
               (SELECT count(*) FROM copies c WHERE c.article_id = a.id) AS copies,
               a.summary
        FROM articles a LEFT JOIN stories s ON s.id = a.story_id"""
    )
    db.execute(
        """CREATE VIEW stories_overview AS
        SELECT s.id, s.title, s.first_seen, s.last_seen, s.article_count,
               (SELECT count(*) FROM copies c JOIN articles a ON a.id = c.article_id WHERE a.story_id = s.id)
                   AS copy_count,
               (SELECT count(*) FROM articles a WHERE a.story_id = s.id AND a.is_follow_up = 1) AS follow_ups,
               json_array_length(s.outlets) AS outlet_count, s.outlets, s.languages, s.topics
        FROM stories s"""
    )
    db.execute(
        """CREATE VIEW source_health AS
        SELECT s.name, s.kind, s.enabled, s.schedule, s.last_success_at, s.consecutive_failures,
               s.last_failure_at, s.last_error,
               (SELECT count(*) FROM crawl_runs r WHERE r.source = s.name) AS runs,
               (SELECT max(r.started_at) FROM crawl_runs r WHERE r.source = s.name) AS last_run_at,
               (SELECT max(r.started_at) FROM crawl_runs r WHERE r.source = s.name AND r.items_new > 0)
                   AS last_new_item_at,
               (SELECT round(avg(items_new), 1) FROM (SELECT r.items_new FROM crawl_runs r
                    WHERE r.source = s.name ORDER BY r.id DESC LIMIT 10)) AS items_per_run
        FROM sources s"""
    )
    db.execute(
        """CREATE VIEW coverage_by_day AS
        SELECT substr(COALESCE(published_at, first_seen_at), 1, 10) AS day, lang,
               count(*) AS articles, sum(relevant) AS relevant
        FROM articles GROUP BY day, lang"""
    )
