"""A story's summary in the stories table (span, title and titles, counts, outlets, languages, topics, lead)
and its follow-up flags: worked out from the whole story (refresh_summary), or, when one article joins it,
from that article and the few it changes (add_to_summary), which writes the same."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

# One article of a story as its summary weighs it (see refresh_summary).
SUMMARY_COLUMNS = (
    "a.id, COALESCE(a.publisher, a.source), a.lang, COALESCE(p.moment, a.published_at, a.first_seen_at), "
    "a.title, COALESCE(c.centrality, 0), COALESCE(p.certain, 1)"
)
# The tables SUMMARY_COLUMNS reads, joined to the articles a.
SUMMARY_JOINS = (
    "LEFT JOIN article_profiles p ON p.article_id = a.id LEFT JOIN article_centrality c ON c.article_id = a.id"
)


class _Member(NamedTuple):
    id: int
    outlet: str
    lang: str | None
    moment: str
    title: str | None
    centrality: float
    certain: int


def _lead_order(row: _Member) -> tuple[int, str, int]:
    """Dated articles by their moment, then estimates (an undated item is no original); the first leads."""
    return (-row.certain, row.moment, row.id)


def _centre_order(row: _Member) -> tuple[float, int]:
    """The most central article, the older on a tie: its headline titles the story."""
    return (row.centrality, -row.id)


def refresh_summary(conn: Any, story_id: int) -> None:
    """Recompute the story's span, title, counts, outlets, languages and topics, and its follow-ups."""
    # Ordered by what the evidence says of each article's time: dated ones by their moment, estimates after
    # them (an undated item is no original), so the span and the follow-ups do not follow arrival order.
    rows = [
        _Member(*row)
        for row in conn.execute(
            f"SELECT {SUMMARY_COLUMNS} FROM articles a {SUMMARY_JOINS} WHERE a.story_id = ? ORDER BY 7 DESC, 4, a.id",
            [story_id],
        )
    ]
    if not rows:
        conn.execute("DELETE FROM stories WHERE id = ?", [story_id])
        return
    copies = conn.execute(
        "SELECT DISTINCT COALESCE(c.publisher, c.source) FROM copies c JOIN articles a ON a.id = c.article_id "
        "WHERE a.story_id = ?",
        [story_id],
    ).fetchall()
    outlets = {row.outlet for row in rows} | {row[0] for row in copies}
    languages = {row.lang for row in rows if row.lang}
    dated = [row for row in rows if row.certain] or rows
    # The most central article in each language titles the story for readers of that language.
    by_language: dict[str, _Member] = {}
    for row in sorted(rows, key=lambda row: (-row.centrality, row.id)):
        if row.lang and row.title:
            by_language.setdefault(row.lang, row)
    _write_summary(
        conn,
        story_id,
        lead=rows[0],
        central=max(rows, key=_centre_order),
        span=(min(row.moment for row in dated), max(row.moment for row in dated)),
        count=len(rows),
        outlets=outlets,
        languages=languages,
        by_language=by_language,
    )
    # Only the rows whose flag changes are written: a long story is refreshed with every article it gains.
    conn.execute(
        "UPDATE articles SET is_follow_up = (id != ?) WHERE story_id = ? AND is_follow_up IS NOT (id != ?)",
        [rows[0].id, story_id, rows[0].id],
    )


def add_to_summary(conn: Any, story_id: int, article_id: int, links: dict[int, float]) -> bool:
    """The summary refresh_summary would write, worked out from the article that joined and the few it
    changes, instead of from the whole story: only the new article and its partners can change the lead,
    the span, the outlets and languages, or (their centrality having grown) the most central article of the
    story and of a language. False when the story has no such summary yet (new, merged, changed through
    another story's links, or stored by an older chipwatch), or one of the articles it names has left it:
    refresh_summary then reads it whole.
    """
    state = conn.execute(
        "SELECT lead_article_id, title_article_id, title_ids, first_seen, last_seen, outlets, languages "
        "FROM stories WHERE id = ?",
        [story_id],
    ).fetchone()
    if state is None or state[0] is None or state[2] is None:
        return False
    lead_id, central_id, title_ids_json, first_seen, last_seen, outlets_json, languages_json = state
    title_ids: dict[str, int] = json.loads(title_ids_json)
    named = {article_id, lead_id, central_id, *title_ids.values()}
    wanted = named | _rising(conn, {central_id, *title_ids.values()}, links.keys() - named)
    members: dict[int, _Member] = {}
    for start in range(0, len(wanted), 500):
        chunk = sorted(wanted)[start : start + 500]
        for story, *row in conn.execute(
            f"SELECT a.story_id, {SUMMARY_COLUMNS} FROM articles a {SUMMARY_JOINS} "
            f"WHERE a.id IN ({', '.join('?' for _ in chunk)})",
            chunk,
        ):
            if story == story_id:
                members[row[0]] = _Member(*row)
    if not {article_id, lead_id, central_id, *title_ids.values()} <= members.keys():
        return False
    new = members[article_id]
    changed = [new, *(members[other] for other in links if other in members)]
    lead = min(members[lead_id], new, key=_lead_order)
    had_dated = bool(members[lead_id].certain)
    if new.certain and not had_dated:
        span = (new.moment, new.moment)  # the story's first dated article: the estimates no longer span it
    elif new.certain or not had_dated:
        span = (min(first_seen, new.moment), max(last_seen, new.moment))
    else:
        span = (first_seen, last_seen)
    by_language = {language: members[member] for language, member in title_ids.items()}
    for row in changed:
        if row.lang and row.title:
            best = by_language.get(row.lang)
            if best is None or (-row.centrality, row.id) < (-best.centrality, best.id):
                by_language[row.lang] = row
    copies = conn.execute(
        "SELECT DISTINCT COALESCE(publisher, source) FROM copies WHERE article_id = ?", [article_id]
    ).fetchall()
    count = conn.execute("SELECT count(*) FROM articles WHERE story_id = ?", [story_id]).fetchone()[0]
    _write_summary(
        conn,
        story_id,
        lead=lead,
        central=max([members[central_id], *changed], key=_centre_order),
        span=span,
        count=count,
        outlets={*json.loads(outlets_json), new.outlet, *(row[0] for row in copies)},
        languages={*json.loads(languages_json), *([new.lang] if new.lang else [])},
        by_language=by_language,
    )
    for member, follows in ((members[lead_id], lead.id != lead_id), (new, new.id != lead.id)):
        conn.execute("UPDATE articles SET is_follow_up = ? WHERE id = ?", [int(follows), member.id])
    return True


def _rising(conn: Any, holders: set[int], partners: set[int]) -> set[int]:
    """The partners whose centrality (grown by the new article's links) now passes the least central of the
    articles that title the story or a language of it: only they can take a title. The others, often a
    hundred, need not be read whole; a partner in another story is sorted out by the caller."""
    if not partners:
        return set()
    ids = sorted(holders | partners)
    centrality = dict.fromkeys(ids, 0.0)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        centrality.update(
            conn.execute(f"SELECT article_id, centrality FROM article_centrality WHERE article_id IN ({marks})", chunk)
        )
    weakest = min(((centrality[holder], -holder) for holder in holders), default=None)
    return {partner for partner in partners if weakest is None or (centrality[partner], -partner) > weakest}


def _write_summary(
    conn: Any,
    story_id: int,
    *,
    lead: _Member,
    central: _Member,
    span: tuple[str, str],
    count: int,
    outlets: set[str],
    languages: set[str],
    by_language: dict[str, _Member],
) -> None:
    topics = [
        row[0]
        for row in conn.execute(
            "SELECT t.topic FROM article_topics t JOIN articles a ON a.id = t.article_id WHERE a.story_id = ? "
            "GROUP BY t.topic ORDER BY count(*) DESC, t.topic",
            [story_id],
        )
    ]
    # Languages in the order of their titles' articles, most central first.
    titled = sorted(by_language.items(), key=lambda pair: (-pair[1].centrality, pair[1].id))
    conn.execute(
        "UPDATE stories SET title = ?, title_article_id = ?, first_seen = ?, last_seen = ?, article_count = ?, "
        "outlets = ?, languages = ?, topics = ?, titles = ?, lead_article_id = ?, title_ids = ? WHERE id = ?",
        [
            central.title,
            central.id,
            span[0],
            span[1],
            count,
            json.dumps(sorted(outlets)),
            json.dumps(sorted(languages)),
            json.dumps(topics),
            json.dumps({language: row.title for language, row in titled}, ensure_ascii=False),
            lead.id,
            json.dumps({language: row.id for language, row in titled}),
            story_id,
        ],
    )
