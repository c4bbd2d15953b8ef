"""Migration 0017_lists_and_rules: screening lists as data, and rules as structured documents.

screening_entries is the stored snapshot of each screening-list source: one row per entry, keyed by the
list's own id, the entry's fields as JSON. screening_changes records every addition, removal and revision
found between two readings, once (change_key), beside the item that reported it. rule_documents keeps a
Federal Register document's number, type, RIN, CFR parts and dates beside its article.
"""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    conn = db.conn
    conn.execute(
        "CREATE TABLE screening_entries (source TEXT NOT NULL, list_code TEXT NOT NULL, entry_id TEXT NOT NULL, "
        "name TEXT NOT NULL, fingerprint TEXT NOT NULL, data TEXT NOT NULL, first_seen_at TEXT NOT NULL, "
        "updated_at TEXT NOT NULL, PRIMARY KEY (source, list_code, entry_id)) WITHOUT ROWID"
    )
    conn.execute(
        "CREATE TABLE screening_changes (id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, "
        "change_key TEXT NOT NULL, article_id INTEGER, kind TEXT NOT NULL, list_code TEXT NOT NULL, "
        "list_name TEXT NOT NULL, entry_id TEXT NOT NULL, previous_id TEXT, name TEXT NOT NULL, "
        "original_name TEXT, alt_names TEXT NOT NULL DEFAULT '[]', countries TEXT NOT NULL DEFAULT '[]', "
        "addresses TEXT NOT NULL DEFAULT '[]', citation TEXT, start_date TEXT, fields TEXT NOT NULL DEFAULT '[]', "
        "before TEXT NOT NULL DEFAULT '{}', observed_at TEXT NOT NULL, UNIQUE (source, change_key))"
    )
    conn.execute("CREATE INDEX screening_changes_observed ON screening_changes (observed_at)")
    conn.execute("CREATE INDEX screening_changes_article ON screening_changes (article_id)")
    conn.execute(
        "CREATE TABLE rule_documents (article_id INTEGER PRIMARY KEY, document_number TEXT NOT NULL, "
        "doc_type TEXT, rin TEXT, cfr_parts TEXT NOT NULL DEFAULT '[]', citation TEXT, publication_date TEXT, "
        "effective_on TEXT, comments_close_on TEXT, agencies TEXT NOT NULL DEFAULT '[]')"
    )
    conn.execute("CREATE INDEX rule_documents_effective ON rule_documents (effective_on)")
    conn.execute("CREATE INDEX rule_documents_comments ON rule_documents (comments_close_on)")
