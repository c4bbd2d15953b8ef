"""Migration 0022_text_last: the articles table rebuilt with `text` as its last column.

SQLite keeps a row's columns in order, and a value too long for the page spills into a chain of overflow
pages. `text` came sixth, so reading any column after it (lang, content_hash, relevance, story_id,
publisher, the dates) walked the whole text's chain first. Real articles run to several kilobytes: grouping
lists the few hundred articles around each new one, search lists its results and the digest its items,
and each of those rows read pages of text nobody asked for (grouping, with texts of 8 KB: 2.0 ms to list
the articles around a new one, against 0.8 ms with short texts). Last, the text is read only by what
asks for it.

The table is rebuilt as SQLite documents for changes ALTER TABLE cannot make, in the migration's one
transaction, with foreign keys off (migrations.WITHOUT_FOREIGN_KEYS): a new table with the same columns,
`text` last; every row copied with its id; the old table dropped and the new one renamed; its indexes, and
the views and triggers (dropped first: a rename checks them), made again from their own SQL. The tables
that refer to articles refer by id, and the full-text index holds its own copy of the text: both keep
every row.
"""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    conn = db.conn
    columns = list(conn.execute("PRAGMA table_info(articles)"))  # cid, name, type, notnull, default, pk
    if not columns or columns[-1][1] == "text":
        return
    ordered = [column for column in columns if column[1] != "text"] + [c for c in columns if c[1] == "text"]
    indexes = [
        sql
        for (sql,) in conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'articles' AND sql IS NOT NULL"
        )
    ]
    others = list(conn.execute("SELECT type, name, sql FROM sqlite_master WHERE type IN ('view', 'trigger')"))
    for kind, name, _ in others:
        conn.execute(f'DROP {kind.upper()} "{name}"')
    conn.execute(f"CREATE TABLE articles_rebuilt ({', '.join(_definition(column) for column in ordered)})")
    names = ", ".join(f'"{column[1]}"' for column in ordered)
    conn.execute(f"INSERT INTO articles_rebuilt ({names}) SELECT {names} FROM articles")
    conn.execute("DROP TABLE articles")
    conn.execute("ALTER TABLE articles_rebuilt RENAME TO articles")
    for sql in indexes:
        conn.execute(sql)
    for _, _, sql in sorted(others, key=lambda other: other[0] == "trigger"):  # views first
        conn.execute(sql)


def _definition(column: tuple[int, str, str, int, str | None, int]) -> str:
    _, name, type_, not_null, default, primary_key = column
    parts = [f'"{name}"', type_]
    if primary_key:
        parts.append("PRIMARY KEY")
    if not_null:
        parts.append("NOT NULL")
    if default is not None:
        parts.append(f"DEFAULT {default}")
    return " ".join(part for part in parts if part)
