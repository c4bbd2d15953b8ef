"""Migration 0021_story_leads: each story remembers its lead article (the earliest: the one article of the
story that is not a follow-up) and the article whose headline titles it in each language, so that an
article joining the story updates its summary from those few articles instead of reading the whole story
again. Stories stored before have neither: the next article to join one reads it whole, once."""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    db.conn.execute("ALTER TABLE stories ADD COLUMN lead_article_id INTEGER")
    db.conn.execute("ALTER TABLE stories ADD COLUMN title_ids TEXT")
