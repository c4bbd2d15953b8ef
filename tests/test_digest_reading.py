"""The digest laid out for reading: each story once under its main topic, in time order; top stories as
links with what is new; a week of coverage in table cells; an English line for readers who do not read
Chinese; whole-sentence snippets; Chinese text in base64; a preview right after a crawl shows it."""

from __future__ import annotations

import email
import shutil
import sqlite3
from datetime import date
from email import policy
from pathlib import Path

from chipwatch.config import Reader, load_options
from tests.helpers import clean_env, run_chipwatch

ALL = Reader("analyst@example.org", "Analyst")
DAY = date(2025, 12, 10)
EVERYTHING = ("2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z")


def options_for(db: Path, tmp_path: Path, readers: list[Reader]):
    env = {"CHIPWATCH_DB": str(db), "CHIPWATCH_DIGEST_OUTBOX": str(tmp_path / "outbox")}
    return load_options(env=env).replace("digest", readers=tuple(readers))


def fresh_copy(db: Path, tmp_path: Path, sql: str | None = None) -> Path:
    """A copy of the database to change, with sql applied to it first."""
    target = tmp_path / "db.sqlite"
    shutil.copy(db, target)
    if sql:
        conn = sqlite3.connect(target)
        conn.execute(sql)
        conn.commit()
        conn.close()
    return target


def _digest(db: Path, tmp_path: Path, reader: Reader = ALL, **serve):
    from chipwatch.digest.run import build
    from storage import opened

    options = options_for(db, tmp_path, [reader])
    if serve:
        options = options.replace("serve", **serve)
    with opened(db) as handle:
        return build(options, handle, reader, DAY, EVERYTHING)


def test_each_story_once_under_its_main_topic_its_articles_in_time_order(demo_db, tmp_path):
    from storage import opened
    from storage.digests import earliest_in_story

    db = fresh_copy(demo_db, tmp_path)
    digest = _digest(db, tmp_path)
    groups = [(section, group) for section in digest.sections for group in section.stories]
    with opened(db, readonly=True) as handle:
        originals = earliest_in_story(handle, [g.story_id for _, g in groups if g.story_id is not None])
    seen: dict[int, str] = {}
    checked_originals = 0
    for section, group in groups:
        assert section.id not in group.tags
        if group.story_id is None:
            continue
        assert group.story_id not in seen, f"story {group.story_id} under {seen[group.story_id]} too"
        seen[group.story_id] = section.id
        original = originals[group.story_id]["id"]
        if any(item.id == original for item in group.items):
            # The original first, then the follow-ups in time order; no "follows" line repeats it.
            assert group.items[0].id == original and group.follows is None
            checked_originals += 1
        else:
            assert group.follows, "a story whose original came earlier says what it follows"
        rest = [item.moment for item in group.items[1:]]
        assert rest == sorted(rest)
    assert len(seen) > 5 and checked_originals > 3
    for item in (item for _, g in groups for item in g.items):
        assert item.snippet == "" or item.snippet[-1] in ".!?。！？”\"…)’'", item.snippet


def test_top_stories_link_with_what_is_new_and_a_week_of_coverage(demo_db, tmp_path):
    db = fresh_copy(demo_db, tmp_path)
    plain = _digest(db, tmp_path)
    assert plain.top_stories and all(story.url and story.url.startswith("http") for story in plain.top_stories)
    assert all(story.lead for story in plain.top_stories)
    served = _digest(db, tmp_path, public_url="https://chipwatch.example.org")
    assert all(story.url.startswith("https://chipwatch.example.org/stories/") for story in served.top_stories)
    assert len(served.chart_days) == 7 and served.chart and all(len(row.cells) == 7 for row in served.chart)
    from chipwatch.digest.render import render

    options = options_for(db, tmp_path, [ALL]).replace("serve", public_url="https://chipwatch.example.org")
    html, text = render(served, options.digest)
    assert "The last 7 days by topic" in html and "bgcolor=" in html and "<img" not in html
    assert "THE LAST 7 DAYS" in text


def test_a_reader_who_does_not_read_chinese_gets_an_english_line(demo_db, tmp_path):
    db = fresh_copy(demo_db, tmp_path)
    english_only = Reader("en@example.org", languages=("en",))
    digest = _digest(db, tmp_path, english_only)
    items = [item for s in digest.sections for g in s.stories for item in g.items]
    chinese = [item for item in items if item.lang.startswith("中文")]
    assert chinese and all(item.gloss for item in chinese)
    assert all(item.gloss is None for item in items if item.lang == "English")
    assert any("Nvidia" in item.gloss for item in chinese if item.gloss)
    everyone = _digest(db, tmp_path)
    assert all(item.gloss is None for s in everyone.sections for g in s.stories for item in g.items)


def test_chinese_text_travels_in_base64_not_quoted_printable(demo_db, tmp_path):
    from chipwatch.digest.render import message, render

    db = fresh_copy(demo_db, tmp_path, "UPDATE articles SET relevant = 0 WHERE lang = 'en'")
    digest = _digest(db, tmp_path)
    options = options_for(db, tmp_path, [ALL])
    html, text = render(digest, options.digest)
    mail = email.message_from_bytes(message(digest, html, text, options.digest).as_bytes(), policy=policy.default)
    encodings = {part.get_content_type(): part["Content-Transfer-Encoding"] for part in mail.iter_parts()}
    assert encodings == {"text/plain": "base64", "text/html": "base64"}
    assert "英伟达" in mail.get_body(("plain",)).get_content() or "輝達" in mail.get_body(("plain",)).get_content()


def test_preview_right_after_a_crawl_shows_what_was_just_stored(demo_db, tmp_path):
    db = fresh_copy(
        demo_db, tmp_path, "UPDATE articles SET first_seen_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-5 minutes')"
    )
    env = clean_env(
        CHIPWATCH_DB=str(db), CHIPWATCH_DIGEST_OUTBOX=str(tmp_path / "box"), CHIPWATCH_DAEMON_DIGEST_TIME="00:00"
    )
    page = Path(run_chipwatch("digest", "--to", "me@example.org", "--preview", env=env).stdout.decode().strip())
    html = page.read_text(encoding="utf-8")
    assert "nothing new" not in html and "new items in" in html


def test_sentences_do_not_end_at_abbreviations_or_initials():
    from chipwatch.digest.text import lead, sentences, snippet

    text = (
        "WASHINGTON, D.C. — The U.S. Commerce Dept. said on Jan. 14 that Nvidia Corp. may ship the chip. "
        "Sen. Smith said no. Shares rose 3%. ST. LOUIS was quiet."
    )
    assert sentences(text) == [
        "WASHINGTON, D.C. — The U.S. Commerce Dept. said on Jan. 14 that Nvidia Corp. may ship the chip.",
        "Sen. Smith said no.",
        "Shares rose 3%.",
        "ST. LOUIS was quiet.",
    ]
    assert lead(text).endswith("may ship the chip.")
    chinese = "商务部周二发布新规。“这是重要一步。”他说。"
    assert sentences(chinese) == ["商务部周二发布新规。", "“这是重要一步。”", "他说。"]
    long = "word " * 120
    assert snippet(long, None).endswith("…") and not snippet(long, None)[:-1].endswith("wor")
