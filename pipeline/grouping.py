"""Putting an article in its place: is it a copy of a stored article, and which story does it continue?

Used by the crawl's pipeline stages and by `chipwatch cluster`, so both group articles the same way.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime

import numpy
import sqlite_utils

from pipeline.dates import to_utc_iso
from pipeline.minhash import band_hashes, from_blob, signature, similarity, to_blob
from pipeline.stories import DEFAULT_IDF, MAX_GAP, SPECIFIC_IDF, ArticleProfile, keywords, links
from pipeline.when import EARLIEST, LATEST, When
from storage.database import transaction
from storage.near_duplicates import candidates
from storage.stories import (
    ProfileRow,
    create_story,
    join_story,
    merge_stories,
    profile_details,
    profiles_naming,
    recent_profiles,
    save_profile,
)

NEAR_DUPLICATE = 0.6  # estimated Jaccard of 5-shingles: syndicated copies with edits score 0.75 and up
SAME_SOURCE_DUPLICATE = 0.95  # within one source, only a near-exact repeat is a copy (shared templates are not)


@dataclass
class CopyCheck:
    duplicate_of: int | None
    fingerprint: numpy.ndarray | None
    similarity: float = 0.0


def find_copy(db: sqlite_utils.Database, text: str | None, outlet: str) -> CopyCheck:
    """The stored article this text copies, if any, and the text's fingerprint. Within one outlet (the publisher,
    else the source) only a near-exact repeat counts."""
    values = signature(text)
    if values is None:
        return CopyCheck(None, None)
    best: tuple[int | None, float] = (None, 0.0)
    for article_id, other_outlet, blob in candidates(db, band_hashes(values)):
        score = similarity(values, from_blob(blob))
        needed = NEAR_DUPLICATE if other_outlet != outlet else SAME_SOURCE_DUPLICATE
        if score >= needed and score > best[1]:
            best = (article_id, score)
    return CopyCheck(best[0], values, best[1])


def fingerprint_record(values: numpy.ndarray) -> tuple[bytes, list[int]]:
    """A fingerprint the way storage keeps it: the signature's bytes and its band hashes."""
    return to_blob(values), band_hashes(values)


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class ProfileCache:
    """Stored profiles as ArticleProfiles, built once per process: every new article is compared with the
    few hundred around it, and each of those is compared again with the next new article. A profile is
    read again when its revision or dates changed (storage/stories.py); the oldest go beyond `size`."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._profiles: dict[int, tuple[tuple[object, ...], ArticleProfile]] = {}

    def profiles(self, db: sqlite_utils.Database, rows: list[ProfileRow]) -> dict[int, ArticleProfile]:
        found: dict[int, ArticleProfile] = {}
        missing = []
        where = _database_identity(db)  # one process may group in more than one database
        for row in rows:
            cached = self._profiles.get(row.article_id)
            if cached is not None and cached[0] == (where, row.revision, row.earliest, row.latest):
                found[row.article_id] = cached[1]
            else:
                missing.append(row)
        if missing:
            details = profile_details(db, [row.article_id for row in missing])
            for row in missing:
                if row.article_id not in details:
                    continue  # gone since it was listed
                keywords_, topics, entities = details[row.article_id]
                profile = ArticleProfile(
                    entities,
                    json.loads(keywords_),
                    json.loads(topics),
                    When(_moment(row.earliest), _moment(row.latest)),
                )
                self._remember(row.article_id, (where, row.revision, row.earliest, row.latest), profile)
                found[row.article_id] = profile
        return found

    def _remember(self, article_id: int, key: tuple[object, ...], profile: ArticleProfile) -> None:
        self._profiles.pop(article_id, None)
        self._profiles[article_id] = (key, profile)
        while len(self._profiles) > self.size:
            del self._profiles[next(iter(self._profiles))]  # dicts keep insertion order: the oldest first


PROFILES = ProfileCache()


def _database_identity(db: sqlite_utils.Database) -> tuple[object, ...]:
    path = next((row[2] for row in db.execute("PRAGMA database_list") if row[1] == "main"), "")
    try:
        stat = os.stat(path) if path else None
    except OSError:
        stat = None
    return (path, stat.st_dev, stat.st_ino) if stat is not None else (path, id(db.conn))


def _candidates(db: sqlite_utils.Database, profile: ArticleProfile, entity_idf: dict[str, float]) -> list[ProfileRow]:
    """The stored profiles the new one could link to. A certain date looks at the certain ones around it
    and at estimated ones naming one of its rare entities (the only ones it could link to); an estimate
    looks only at those naming one of its rare entities, within its interval."""
    when = profile.when
    rare = sorted(e for e in profile.entities if entity_idf.get(e, DEFAULT_IDF) >= SPECIFIC_IDF)
    reach = (to_utc_iso(max(when.earliest - MAX_GAP, EARLIEST)), to_utc_iso(min(when.latest + MAX_GAP, LATEST)))
    if when.certain:
        rows = recent_profiles(db, *reach)
        return rows + profiles_naming(db, rare, *reach, uncertain_only=True)
    return profiles_naming(db, rare, *reach, uncertain_only=False)


def _stories_to_join(
    profile: ArticleProfile, found: dict[int, float], recent: dict[int, ArticleProfile], story_of: dict[int, int]
) -> list[int]:
    """The stories the article joins, oldest first (more than one: they were one development and merge).
    Only links between dated articles merge stories: an estimate, linked to two stories, would otherwise
    chain developments together; it joins the one it is most like, and so does a dated article whose only
    links are to estimates."""
    dated = {other for other in found if profile.when.certain and recent[other].when.certain}
    if dated:
        return sorted({story_of[other] for other in dated})
    if not found:
        return []
    # A dated partner places the article better than another estimate does.
    best = max(found, key=lambda other: (recent[other].when.certain, found[other], -other))
    return [story_of[best]]


@dataclass
class StoryAssignment:
    story_id: int
    follow_up: bool
    links: dict[int, float]


def assign_story(
    db: sqlite_utils.Database,
    article_id: int,
    title: str,
    text: str,
    entities: list[str],
    topics: list[str],
    when: When,
    idf: dict[str, float],
    entity_idf: dict[str, float],
    now: str,
) -> StoryAssignment:
    """Link the article to coverage of the same development close to it in time: join that story (merging
    stories the article shows to be one), or start a new one."""
    profile = ArticleProfile(entities, keywords(title, text, idf), topics, when)
    rows = [row for row in _candidates(db, profile, entity_idf) if row.article_id != article_id]
    recent = PROFILES.profiles(db, rows)
    story_of = {row.article_id: row.story_id for row in rows}
    found = links(profile, recent, entity_idf)
    stories = _stories_to_join(profile, found, recent, story_of)
    moment_text = to_utc_iso(when.anchor)
    interval = (to_utc_iso(max(when.earliest, EARLIEST)), to_utc_iso(min(when.latest, LATEST)), when.certain)
    with transaction(db) as conn:
        save_profile(conn, article_id, moment_text, profile.keywords, topics, interval)
        if stories:
            story_id = stories[0]  # the oldest story keeps its id; the others were the same development
            for other in stories[1:]:
                merge_stories(conn, story_id, other)
        else:
            story_id = create_story(conn, title, article_id, moment_text, now)
        join_story(conn, story_id, article_id, found, now)
    return StoryAssignment(story_id, bool(stories), found)
