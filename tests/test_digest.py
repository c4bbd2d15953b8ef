"""The daily digest against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import email
import json
import shutil
import socket
import sqlite3
import subprocess
from datetime import date, datetime
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from chipwatch.config import Reader, load_options
from chipwatch.digest.run import send_digests
from tests.helpers import clean_env, run_chipwatch

HOSTILE = [
    "<script>alert('x')</script> Nvidia H200 export licence approved for China",
    '<img src=x onerror="alert(1)"> Commerce licence rule for H200 exports to China',
]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.refuse: set[str] = set()
        self.drop_after_data = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.drop_after_data:
            session.transport.close()
            return "451 dropped"
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


@pytest.fixture
def smtp():
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory, demo_crawl):
    """A copy of the crawled demo database whose articles look first stored on 9 December 2025, 20:00 UTC."""
    directory = tmp_path_factory.mktemp("digest")
    db = directory / "db.sqlite"
    shutil.copy(demo_crawl[0], db)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE articles SET first_seen_at = '2025-12-09T20:00:00Z'")
    for title, article_id in zip(HOSTILE, (1, 2), strict=True):
        conn.execute("UPDATE articles SET title = ?, relevant = 1, relevance = 0.99 WHERE id = ?", [title, article_id])
        # Whatever these two articles were about, they are now shown under enforcement alone: a section
        # with fewer items than the per-topic cap, so they are shown whichever order the crawl stored them in.
        conn.execute("DELETE FROM article_topics WHERE article_id = ?", [article_id])
        conn.execute(
            "INSERT INTO article_topics (article_id, topic, score, evidence) VALUES (?, 'enforcement', 0.9, '[]')",
            [article_id],
        )
    conn.execute("UPDATE articles SET canonical_url = 'javascript:alert(1)' WHERE id = 2")
    conn.commit()
    conn.close()
    return db


def options_for(db: Path, tmp_path: Path, port: int | None, readers: list[Reader], **digest) -> object:
    env = {
        "CHIPWATCH_DB": str(db),
        "CHIPWATCH_DAEMON_TIMEZONE": "UTC",
        "CHIPWATCH_DAEMON_DIGEST_TIME": "07:00",
        "CHIPWATCH_DIGEST_OUTBOX": str(tmp_path / "outbox"),
        "CHIPWATCH_DIGEST_RETRY_DELAY": "0.05",
    }
    if port:
        env.update(
            {"CHIPWATCH_SMTP_HOST": "127.0.0.1", "CHIPWATCH_SMTP_PORT": str(port), "CHIPWATCH_SMTP_SECURITY": "none"}
        )
    options = load_options(env=env)

    return options.replace("digest", readers=tuple(readers), **digest) if readers else options


def fresh_copy(db: Path, tmp_path: Path) -> Path:
    target = tmp_path / "db.sqlite"
    shutil.copy(db, target)
    return target


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)


ALL = Reader("analyst@example.org", "Analyst")
DAY = date(2025, 12, 10)
NOW = datetime.fromisoformat("2025-12-10T08:00:00+00:00")


def test_a_digest_is_multipart_with_proper_headers_and_chinese_intact(demo_db, tmp_path, smtp):
    inbox, port = smtp
    options = options_for(fresh_copy(demo_db, tmp_path), tmp_path, port, [ALL])
    [outcome] = send_digests(options, DAY, [ALL], now=NOW)
    assert outcome.status == "sent" and outcome.items > 20
    [(recipients, raw)] = inbox.messages
    assert recipients == ["analyst@example.org"]
    mail = parse(raw)
    assert mail.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in mail.iter_parts()] == ["text/plain", "text/html"]
    assert mail["Message-ID"] and mail["Date"] and mail["List-Unsubscribe"].startswith("<mailto:")
    assert mail["Subject"].startswith(f"chipwatch — 2025-12-10: {outcome.items} new items in ")
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert len(html.encode()) < 100_000
    for body in (text, html):
        assert "英伟达" in body and "輝達" in body
        assert "also carried by 4 outlets" in body
        assert "follow-up to:" not in body and ("(follow-up)" in body or "FOLLOW-UP" in body)
        assert "Top stories today".lower() in body.lower()
    assert "<table" in html and 'style="' in html


def test_hostile_titles_arrive_as_inert_text(demo_db, tmp_path, smtp):
    inbox, port = smtp
    options = options_for(fresh_copy(demo_db, tmp_path), tmp_path, port, [ALL])
    send_digests(options, DAY, [ALL], now=NOW)
    html = parse(inbox.messages[0][1]).get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "&lt;img" in html
    assert "javascript:" not in html.split("</style>")[-1].replace("&lt;", "")
    assert 'href="javascript' not in html


def test_subscriptions_and_minimum_relevance_are_honoured(demo_db, tmp_path, smtp):
    inbox, port = smtp
    narrow = Reader("legal@example.org", "", ("legislation",), 0.5)
    options = options_for(fresh_copy(demo_db, tmp_path), tmp_path, port, [narrow])
    [outcome] = send_digests(options, DAY, [narrow], now=NOW)
    text = parse(inbox.messages[0][1]).get_body(("plain",)).get_content()
    assert "== Congress and legislation ==" in text
    assert "== Market ==" not in text and "== Enforcement ==" not in text
    conn = sqlite3.connect(options.storage.db)
    expected = conn.execute(
        "SELECT count(DISTINCT a.id) FROM articles a JOIN article_topics t ON t.article_id = a.id "
        "WHERE a.relevant = 1 AND a.relevance >= 0.5 AND t.topic = 'legislation'"
    ).fetchone()[0]
    conn.close()
    assert outcome.items == expected


def test_exactly_once_per_reader_per_day(demo_db, tmp_path, smtp):
    inbox, port = smtp
    options = options_for(fresh_copy(demo_db, tmp_path), tmp_path, port, [ALL])
    first = send_digests(options, DAY, [ALL], now=NOW)
    second = send_digests(options, DAY, [ALL], now=NOW)
    assert [o.status for o in first + second] == ["sent", "already-sent"]
    assert len(inbox.messages) == 1


def test_a_failed_send_is_retried_on_the_next_run_and_sent_once(demo_db, tmp_path, smtp):
    inbox, port = smtp
    db = fresh_copy(demo_db, tmp_path)
    down = options_for(db, tmp_path, 1, [ALL])  # nothing listens on port 1
    [failed] = send_digests(down, DAY, [ALL], now=NOW)
    assert failed.status == "failed"
    inbox.drop_after_data = True
    up = options_for(db, tmp_path, port, [ALL])
    assert send_digests(up, DAY, [ALL], now=NOW)[0].status == "failed"
    inbox.drop_after_data = False
    assert send_digests(up, DAY, [ALL], now=NOW)[0].status == "sent"
    assert send_digests(up, DAY, [ALL], now=NOW)[0].status == "already-sent"
    assert len(inbox.messages) == 1
    row = sqlite3.connect(db).execute("SELECT status, attempts FROM digests").fetchone()
    assert row == ("sent", 3)


def test_a_refused_recipient_is_a_clear_failure_kept_for_later(demo_db, tmp_path, smtp):
    inbox, port = smtp
    inbox.refuse.add("gone@example.org")
    gone = Reader("gone@example.org")
    options = options_for(fresh_copy(demo_db, tmp_path), tmp_path, port, [gone, ALL])
    outcomes = send_digests(options, DAY, [gone, ALL], now=NOW)
    assert outcomes[0].status == "failed" and "refused gone@example.org" in outcomes[0].detail
    assert outcomes[1].status == "sent"


def test_catch_up_after_missed_days_and_nothing_twice(demo_db, tmp_path, smtp):
    _inbox, port = smtp
    db = fresh_copy(demo_db, tmp_path)
    options = options_for(db, tmp_path, port, [ALL])
    send_digests(options, DAY, [ALL], now=NOW)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE articles SET first_seen_at = '2025-12-12T10:00:00Z' WHERE id IN (3, 4, 5)")
    conn.execute("UPDATE articles SET first_seen_at = '2025-12-13T10:00:00Z' WHERE id IN (6, 7)")
    conn.commit()
    relevant_late = conn.execute("SELECT count(*) FROM articles WHERE id IN (3,4,5,6,7) AND relevant = 1").fetchone()[0]
    conn.close()
    # days 11, 12 and 13 were missed; the digest of the 14th covers all of them, once
    [outcome] = send_digests(
        options, date(2025, 12, 14), [ALL], now=datetime.fromisoformat("2025-12-14T08:00:00+00:00")
    )
    assert outcome.items == relevant_late
    covers = sqlite3.connect(db).execute("SELECT covers_from, covers_to FROM digests ORDER BY day").fetchall()
    assert covers[1][0] == covers[0][1]


def test_timezone_decides_where_a_day_ends(demo_db, tmp_path, smtp):
    _inbox, port = smtp
    db = fresh_copy(demo_db, tmp_path)
    tokyo = Reader("tokyo@example.org", timezone="Asia/Tokyo")
    new_york = Reader("ny@example.org", timezone="America/New_York")
    options = options_for(db, tmp_path, port, [tokyo, new_york])
    # Articles first stored at 20:00 UTC on the 9th: after 07:00 on the 10th in Tokyo (22:00 UTC on the
    # 9th) they are not; in New York (12:00 UTC on the 10th) they are.
    outcomes = send_digests(options, DAY, [tokyo, new_york], now=datetime.fromisoformat("2025-12-10T13:00:00+00:00"))
    assert outcomes[0].items > 0 and outcomes[1].items > 0
    conn = sqlite3.connect(db)
    ends = dict(conn.execute("SELECT reader, covers_to FROM digests").fetchall())
    assert ends == {"tokyo@example.org": "2025-12-09T22:00:00Z", "ny@example.org": "2025-12-10T12:00:00Z"}


def test_an_empty_day_sends_a_note_or_nothing(demo_db, tmp_path, smtp):
    inbox, port = smtp
    quiet = Reader("quiet@example.org", send_empty=False)
    noted = Reader("noted@example.org", send_empty=True)
    options = options_for(fresh_copy(demo_db, tmp_path), tmp_path, port, [quiet, noted])
    later = date(2026, 1, 5)
    outcomes = send_digests(options, later, [quiet, noted], now=datetime.fromisoformat("2026-01-05T09:00:00+00:00"))
    assert [o.status for o in outcomes] == ["empty", "sent"]
    [(recipients, raw)] = inbox.messages
    assert recipients == ["noted@example.org"] and "nothing new" in parse(raw)["Subject"]


def test_a_day_of_two_thousand_items_is_capped_under_the_size_limit(demo_db, tmp_path, smtp):
    inbox, port = smtp
    db = fresh_copy(demo_db, tmp_path)
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT * FROM articles WHERE relevant = 1").fetchall()
    columns = [c[1] for c in conn.execute("PRAGMA table_info(articles)")]
    topics = conn.execute("SELECT article_id, topic, score, evidence FROM article_topics").fetchall()
    for n in range(2000):
        base = dict(zip(columns, rows[n % len(rows)], strict=True))
        base.update(id=None, canonical_url=f"https://x.test/{n}", url=f"https://x.test/{n}", story_id=None)
        cursor = conn.execute(
            f"INSERT INTO articles ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", list(base.values())
        )
        conn.executemany(
            "INSERT INTO article_topics VALUES (?, ?, ?, ?)",
            [(cursor.lastrowid, t[1], t[2], t[3]) for t in topics if t[0] == rows[n % len(rows)][0]],
        )
    conn.commit()
    conn.close()
    options = options_for(db, tmp_path, port, [ALL])
    [outcome] = send_digests(options, DAY, [ALL], now=NOW)
    assert outcome.status == "sent" and outcome.items > 2000
    mail = parse(inbox.messages[0][1])
    html = mail.get_body(("html",)).get_content()
    # The whole message as it travelled, headers and transfer encoding included, fits the limit.
    assert len(inbox.messages[0][1]) <= 95_000
    assert " more" in html and "chipwatch search" not in html and "in the reading room" in html
    assert html.count("<a href=") > 50  # the rest listed compactly, linked, before the count


def test_without_smtp_digests_go_to_the_outbox(demo_db, tmp_path):
    options = options_for(fresh_copy(demo_db, tmp_path), tmp_path, None, [ALL])
    [outcome] = send_digests(options, DAY, [ALL], now=NOW)
    assert outcome.status == "outbox"
    files = sorted(p.suffix for p in (tmp_path / "outbox").iterdir())
    assert files == [".eml", ".html"]


def test_cli_preview_and_ad_hoc_reader(demo_db, tmp_path):
    db = fresh_copy(demo_db, tmp_path)
    env = clean_env(CHIPWATCH_DB=str(db), CHIPWATCH_DIGEST_OUTBOX=str(tmp_path / "box"))
    result = run_chipwatch("digest", "--to", "me@example.org", "--date", "2025-12-10", "--preview", env=env)
    assert result.returncode == 0, result.stderr.decode()
    page = Path(result.stdout.decode().strip())
    assert page.exists() and page.suffix == ".html" and "<table" in page.read_text()
    assert sqlite3.connect(db).execute("SELECT count(*) FROM digests").fetchone()[0] == 0
    sent = run_chipwatch("digest", "--to", "me@example.org", "--date", "2025-12-10", "--send", env=env)
    assert "me@example.org: outbox" in sent.stdout.decode()
    bad = run_chipwatch("digest", "--to", "not-an-address", "--send", env=env)
    assert bad.returncode == 1 and "not an email address" in bad.stderr.decode()


def test_the_password_never_reaches_a_file_or_a_log(tmp_path, demo_db):
    config = tmp_path / "c.toml"
    config.write_text('[digest]\nsmtp_password = "hunter2"\n')
    result = run_chipwatch("--config", str(config), "status")
    assert result.returncode == 1 and "CHIPWATCH_SMTP_PASSWORD" in result.stderr.decode()
    options = load_options(env={"CHIPWATCH_SMTP_PASSWORD": "hunter2"})
    assert options.digest.smtp_password == "hunter2" and "hunter2" not in repr(options)
    env = clean_env(
        CHIPWATCH_DB=str(fresh_copy(demo_db, tmp_path)),
        CHIPWATCH_SMTP_HOST="127.0.0.1",
        CHIPWATCH_SMTP_PORT="1",
        CHIPWATCH_SMTP_SECURITY="none",
        CHIPWATCH_SMTP_USER="me",
        CHIPWATCH_SMTP_PASSWORD="hunter2",
        CHIPWATCH_DIGEST_RETRY_DELAY="0.01",
    )
    result = run_chipwatch("digest", "--to", "me@example.org", "--date", "2025-12-10", "--send", env=env)
    assert result.returncode == 1
    assert "hunter2" not in result.stdout.decode() + result.stderr.decode()


@pytest.mark.parametrize(
    "reader, message",
    [
        ('address = "not an address"', "field 'address'"),
        ('address = "a@example.org"\ntopics = ["potatoes"]', "field 'topics'"),
        ('address = "a@example.org"\ntimezone = "Nowhere/City"', "field 'timezone'"),
    ],
)
def test_bad_readers_in_the_config_are_named(tmp_path, reader, message):
    config = tmp_path / "c.toml"
    config.write_text(f"[[digest.readers]]\n{reader}\n")
    result = run_chipwatch("--config", str(config), "digest", "--send")
    assert (
        result.returncode == 1
        and message in result.stderr.decode()
        and "[[digest.readers]] #1" in result.stderr.decode()
    )


def test_the_html_renders_to_a_non_blank_page_in_chromium(demo_db, tmp_path):
    import os

    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not browser:
        if os.environ.get("CHIPWATCH_REQUIRE_BROWSER"):
            pytest.fail("Chromium is missing: .ci/run installs it (apt-get install chromium fonts-noto-cjk)")
        pytest.skip("no Chromium on this machine")
    db = fresh_copy(demo_db, tmp_path)
    env = clean_env(CHIPWATCH_DB=str(db), CHIPWATCH_DIGEST_OUTBOX=str(tmp_path / "box"))
    page = Path(
        run_chipwatch("digest", "--to", "me@example.org", "--date", "2025-12-10", "--preview", env=env)
        .stdout.decode()
        .strip()
    )
    artifacts = Path(__file__).parent / "artifacts"
    artifacts.mkdir(exist_ok=True)
    shot = artifacts / "digest.png"  # kept for people to look at
    shot.unlink(missing_ok=True)
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=800,1200",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=60,
    )
    # A blank 800x1200 page compresses to a few kilobytes; text, rules and links take far more.
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000


@pytest.mark.slow  # long: in `make test-slow` (and CI)
def test_the_daemon_sends_the_daily_digest_once(demo_db, tmp_path, smtp):
    import signal
    import time
    from datetime import UTC, timedelta

    from tests.helpers import start_daemon, wait_for

    inbox, port = smtp
    db = fresh_copy(demo_db, tmp_path)
    conn = sqlite3.connect(db)
    # stored an hour before today's digest time (00:00 UTC), so today's digest carries them
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    stored = (midnight - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    conn.execute("UPDATE articles SET first_seen_at = ?", [stored])
    conn.commit()
    conn.close()
    (tmp_path / "sources.toml").write_text(
        '[[source]]\nname = "x"\nkind = "feed"\nurl = "http://127.0.0.1:1/feed.xml"\nschedule = "0 0 1 1 *"\n'
    )
    earlier = "00:00"  # already past, whenever the test runs
    config = tmp_path / "c.toml"
    config.write_text(
        f'[storage]\ndb = "{db}"\n[crawl]\nsources = "{tmp_path / "sources.toml"}"\n'
        f'[daemon]\ntimezone = "UTC"\ndigest_time = "{earlier}"\nlog_file = "{tmp_path / "d.log"}"\n'
        f'[digest]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nsmtp_security = "none"\n'
        '[[digest.readers]]\naddress = "analyst@example.org"\n'
    )
    daemon = start_daemon(config)
    try:
        assert wait_for(lambda: len(inbox.messages) == 1, 60), (tmp_path / "d.log").read_text()
        time.sleep(2)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.communicate(timeout=30)
    assert daemon.returncode == 0
    assert len(inbox.messages) == 1
    assert sqlite3.connect(db).execute("SELECT status FROM digests").fetchall() == [("sent",)]


def test_a_reader_sees_stories_titled_in_their_language_and_one_title_everywhere(demo_db, tmp_path):
    """The digest titles each story as `chipwatch stories` and Datasette do (its most central article); a
    reader with lang = "zh-Hans" sees a story that has a Simplified Chinese article under that headline."""
    import sqlite3

    from chipwatch.digest.run import build
    from storage import opened

    db = fresh_copy(demo_db, tmp_path)
    chinese = Reader("zh@example.org", lang="zh-Hans")
    options = options_for(db, tmp_path, 25, [ALL, chinese])
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT id, title, titles FROM stories WHERE languages LIKE '%zh-Hans%'").fetchall()
    conn.close()
    assert rows
    window = ("2025-12-01T00:00:00Z", "2026-01-01T00:00:00Z")
    with opened(db) as handle:
        english = build(options, handle, ALL, DAY, window)
        localised = build(options, handle, chinese, DAY, window)
    own = {story: title for story, title, _ in rows}
    in_chinese = {story: json.loads(titles)["zh-Hans"] for story, _, titles in rows}
    groups_en = {g.story_id: g.title for s in english.sections for g in s.stories if g.story_id in own}
    groups_zh = {g.story_id: g.title for s in localised.sections for g in s.stories if g.story_id in own}
    assert groups_en and all(title == own[story] for story, title in groups_en.items())
    assert groups_zh and all(title == in_chinese[story] for story, title in groups_zh.items())
    assert any(any("\u4e00" <= char <= "\u9fff" for char in title) for title in groups_zh.values())
