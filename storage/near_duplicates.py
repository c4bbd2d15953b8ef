"""minhash_signatures and minhash_bands: finding stored articles whose text a new page copies."""

from __future__ import annotations

from typing import Any

import sqlite_utils


def store_fingerprint(conn: Any, article_id: int, signature: bytes, bands: list[int]) -> None:
    """Record an article's signature and LSH band hashes (inside the caller's transaction)."""
    conn.execute(
        "INSERT OR REPLACE INTO minhash_signatures (article_id, signature) VALUES (?, ?)", [article_id, signature]
    )
    conn.execute("DELETE FROM minhash_bands WHERE article_id = ?", [article_id])
    conn.executemany(
        "INSERT OR IGNORE INTO minhash_bands (band, hash, article_id) VALUES (?, ?, ?)",
        [(band, value, article_id) for band, value in enumerate(bands)],
    )


def candidates(db: sqlite_utils.Database, bands: list[int], limit: int = 50) -> list[tuple[int, str, bytes]]:
    """(article_id, outlet, signature) of stored articles sharing at least one band hash."""
    clauses = " OR ".join("(band = ? AND hash = ?)" for _ in bands)
    params: list[int] = [item for pair in enumerate(bands) for item in pair]
    rows = db.execute(
        f"SELECT DISTINCT b.article_id, COALESCE(a.publisher, a.source), s.signature FROM minhash_bands b "
        f"JOIN articles a ON a.id = b.article_id JOIN minhash_signatures s ON s.article_id = b.article_id "
        f"WHERE {clauses} LIMIT ?",
        [*params, limit],
    ).fetchall()
    return [(row[0], row[1], row[2]) for row in rows]
