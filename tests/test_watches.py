"""Watches against real parts: a copy of the crawled demo database, a real HTTP receiver on loopback for the
webhooks (down, slow, 500, 429 with Retry-After, redirects, garbage, then healthy), aiosmtpd for email, a
real `chipwatch watch run` killed with SIGKILL between the send and its record."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from chipwatch.config import load_options
from chipwatch.watches.delivery import deliver_due
from chipwatch.watches.run import watch_pass
from storage import opened
from storage.articles import store_article
from storage.deliveries import delivered_article_ids
from storage.search import search
from storage.watches import get_watch
from tests.helpers import WebhookSink, clean_env, free_port, query, run_chipwatch, start_chipwatch

SECRET = "test-webhook-secret"


@pytest.fixture
def db(tmp_path, demo_db) -> Path:
    copy = tmp_path / "watch.db"
    shutil.copy(demo_db, copy)
    return copy


@pytest.fixture
def sink():
    receiver = WebhookSink()
    yield receiver
    receiver.stop()


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


@pytest.fixture
def smtp():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def env_for(db: Path, **extra: str) -> dict[str, str]:
    settings = {
        "CHIPWATCH_DB": str(db),
        "CHIPWATCH_WATCHES_WEBHOOK_ATTEMPTS": "2",
        "CHIPWATCH_WATCHES_RETRY_DELAY": "0.05",
        "CHIPWATCH_WATCHES_WEBHOOK_TIMEOUT": "0.5",
        "CHIPWATCH_WATCHES_MAX_ITEMS": "500",
        "CHIPWATCH_WEBHOOK_SECRET": SECRET,
    }
    return clean_env(**{**settings, **extra})


def cli(env: dict[str, str], *args: str):
    return run_chipwatch(*args, env=env)


def options_for(env: dict[str, str]):
    return load_options(None, env)


def search_ids(db: Path, text: str) -> list[int]:
    from chipwatch.queries import search_request

    with opened(db, readonly=True) as conn:
        return sorted(row["id"] for row in search(conn, search_request(text, None)))


def store_copy_of(db: Path, article_id: int, suffix: str) -> int:
    """A new article stored through storage's own path: another outlet's page about the same thing."""
    with opened(db) as conn:
        row = next(conn.query("SELECT * FROM articles WHERE id = ?", [article_id]))
        record = {**row, "canonical_url": row["canonical_url"] + suffix, "url": row["url"] + suffix}
        record["text"] = (row["text"] or "") + f" Follow-up {suffix}."
        record["content_hash"] = hashlib.sha1(record["text"].encode()).hexdigest()
        result = store_article(conn, record, [], "2026-01-01T00:00:00Z")
        return result.article_id


def later(hours: float):
    return lambda: datetime.now(UTC) + timedelta(hours=hours)


def items_of(record: dict) -> list[int]:
    return [item["id"] for item in json.loads(record["body"])["items"]]


# -- the watch's definition --------------------------------------------------------------------------------------


def test_bad_watches_are_refused_in_one_line_and_nothing_is_saved(tmp_path):
    env = env_for(tmp_path / "new.db")
    cases = [
        (("watch", "add", "w", '"unbalanced'), "unbalanced quotes"),
        (("watch", "add", "w", "x", "--topic", "nope"), "unknown topic 'nope'"),
        (("watch", "add", "w", "x", "--webhook", "ftp://example.org/hook"), "http:// or https://"),
        (("watch", "add", "w", "x", "--webhook", "https://user:pw@example.org/"), "credentials"),
        (("watch", "add", "w", "x", "--email", "not-an-address"), "not an email address"),
        (("watch", "add", "bad name", "x"), "a watch's name"),
        (("watch", "add", "w", "AND OR"), "nothing to search for"),
        (("watch", "add", "w", "x", "--lang", "cn"), "is a country"),
        (("watch", "add", "w"), "give words to search for"),
    ]
    for args, expected in cases:
        result = cli(env, *args)
        err = result.stderr.decode()
        assert result.returncode == 1, (args, err)
        assert expected in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, (args, err)
    # The database was created (watch add makes it), and holds no watch.
    assert query(tmp_path / "new.db", "SELECT count(*) FROM watches") == [(0,)]
    result = cli(env, "watch", "add", "w", "3A090", "--email", "A@Example.org")
    assert result.returncode == 0, result.stderr
    assert get_watch_row(tmp_path / "new.db", "w")["emails"] == '["a@example.org"]'
    again = cli(env, "watch", "add", "w", "3A090")
    assert again.returncode == 1 and "--replace" in again.stderr.decode()


def get_watch_row(db: Path, name: str) -> dict:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return dict(conn.execute("SELECT * FROM watches WHERE name = ?", [name]).fetchone())
    finally:
        conn.close()


def test_config_file_watches_win_over_the_command_line(db, tmp_path):
    config = tmp_path / "chipwatch.toml"
    config.write_text('[[watch]]\nname = "samr"\nquery = "SAMR"\nemails = ["team@example.org"]\n', encoding="utf-8")
    env = env_for(db)
    assert cli(env, "watch", "add", "samr", "antitrust").returncode == 0  # made before the file named it
    refused = cli(env, "--config", str(config), "watch", "add", "samr", "other")
    assert refused.returncode == 1 and "wins" in refused.stderr.decode()
    result = cli(env, "--config", str(config), "watch", "run")
    assert "replaces the one made with `watch add`" in result.stdout.decode()
    row = get_watch_row(db, "samr")
    assert (row["query"], row["origin"]) == ("SAMR", "config")
    listed = json.loads(cli(env, "--config", str(config), "watch", "list", "--format", "json").stdout)
    assert listed[0]["defined_in"] == "config" and listed[0]["matches"] == len(search_ids(db, "SAMR"))
    assert cli(env, "--config", str(config), "watch", "rm", "samr").returncode == 1
    broken = tmp_path / "broken.toml"
    broken.write_text('[[watch]]\nname = "x"\nquery = "y"\ntopic = "nope"\n', encoding="utf-8")
    result = cli(env, "--config", str(broken), "watch", "list")
    assert (
        result.returncode == 1
        and "[[watch]] #1" in result.stderr.decode()
        and "unknown topic" in result.stderr.decode()
    )
    # Taken out of the file, it is removed.
    config.write_text("", encoding="utf-8")
    result = cli(env, "--config", str(config), "watch", "run")
    assert "removed" in result.stdout.decode() and query(db, "SELECT count(*) FROM watches") == [(0,)]


# -- webhooks ----------------------------------------------------------------------------------------------------


def test_webhook_failures_then_every_article_exactly_once_in_order(db, sink):
    down = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens here
    env = env_for(db)
    assert cli(env, "watch", "add", "h200", "H200", "--webhook", down).returncode == 0
    options = options_for(env)

    # 1. The endpoint is down: matched, kept pending, shown in status.
    first = watch_pass(options)
    assert first.matched[0].new == len(search_ids(db, "H200")) > 5
    assert first.delivered and first.delivered.failed == 1 and first.delivered.sent == 0
    status = json.loads(cli(env, "status", "--format", "json").stdout)
    failing = status["deliveries_failing"]
    assert failing and failing[0]["target"] == down and "no usable answer" in failing[0]["last_error"]
    assert "watch deliveries failing" in cli(env, "status").stdout.decode()

    # The endpoint moves to the sink (a config change keeps the watch's matches and pending messages).
    with opened(db) as conn:
        conn.execute("UPDATE watch_deliveries SET target = ?", [sink.url])
        conn.execute("UPDATE watches SET webhooks = ?", [json.dumps([sink.url])])

    # 2. A later run stores two more matching articles: a second message, queued behind the first.
    originals = search_ids(db, "H200")
    new_ids = [store_copy_of(db, originals[0], "?later=1"), store_copy_of(db, originals[1], "?later=2")]
    second = watch_pass(options)
    assert second.matched[0].new == 2
    assert second.delivered and second.delivered.sent == 0 and not sink.received  # the first is not due yet

    # 3. Due again, the endpoint fails with 500 twice: nothing acknowledged, the second message not tried.
    sink.script = [("status", 500), ("status", 500)]
    report = deliver_due(options, now=later(1))
    assert (report.sent, report.failed, report.waiting) == (0, 1, 1)
    assert len(sink.received) == 2 and len({r["delivery"] for r in sink.received}) == 1

    # 4. 429 with Retry-After: 1, then healthy: both messages, in order, the wait honoured.
    sink.script = [("status", 429, {"Retry-After": "1"})]
    started = time.monotonic()
    report = deliver_due(options, now=later(3))
    assert report.sent == 2 and time.monotonic() - started >= 1.0

    # 5. Slow (answers after the timeout), then healthy: the slow request was never acknowledged.
    newest = store_copy_of(db, originals[2], "?later=3")
    sink.script = ["slow"]
    third = watch_pass(options)
    assert third.delivered and third.delivered.sent == 1

    # Nothing more to send, ever.
    assert watch_pass(options).delivered is None
    assert deliver_due(options, now=later(48)).sent == 0

    acknowledged = sink.acknowledged()
    delivered = [article for record in acknowledged for article in items_of(record)]
    expected = originals + new_ids + [newest]
    assert delivered == sorted(delivered) == sorted(expected)  # every one, once, in order
    assert len({r["delivery"] for r in acknowledged}) == len(acknowledged) == 3
    for record in sink.received:
        wanted = "sha256=" + hmac.new(SECRET.encode(), record["body"], hashlib.sha256).hexdigest()
        assert record["signature"] == wanted
    body = json.loads(acknowledged[0]["body"])
    assert body["watch"] == "h200" and "H200" in body["text"]
    assert set(body["items"][0]) >= {"id", "url", "title", "outlet", "lang", "published_at", "topics", "story_id"}
    assert json.loads(cli(env, "status", "--format", "json").stdout)["deliveries_failing"] == []


def test_redirects_and_garbage_are_recorded_and_retried_later(db, sink):
    env = env_for(db)
    assert cli(env, "watch", "add", "samr", "SAMR", "--webhook", sink.url).returncode == 0
    options = options_for(env)
    sink.script = [("status", 307, {"Location": sink.url})]
    first = watch_pass(options)
    assert first.delivered and first.delivered.failed == 1
    error = query(db, "SELECT last_error FROM watch_deliveries")[0][0]
    assert "redirect" in error and "final URL" in error
    sink.script = ["garbage", "garbage"]
    assert deliver_due(options, now=later(1)).failed == 1
    assert "no usable answer" in query(db, "SELECT last_error FROM watch_deliveries")[0][0]
    assert deliver_due(options, now=later(3)).sent == 1
    assert [items_of(r) for r in sink.acknowledged()] == [search_ids(db, "SAMR")]
    assert query(db, "SELECT status, how FROM watch_deliveries") == [("sent", "http 200")]


def test_sigkill_between_the_send_and_its_record_loses_nothing_and_sends_nothing_new_twice(db, sink):
    env = env_for(db)
    assert cli(env, "watch", "add", "h200", "H200", "--webhook", sink.url).returncode == 0
    sink.script = ["ok-then-kill"]
    process = start_chipwatch("watch", "run", env=env)
    sink.kill_pid = process.pid
    process.wait(timeout=60)
    assert process.returncode == -9
    # Pending still (the record never happened) or sent (it happened first): never lost either way.
    assert query(db, "SELECT status FROM watch_deliveries")[0][0] in ("pending", "sent")
    result = run_chipwatch("watch", "run", env=env)
    assert result.returncode == 0, result.stderr
    assert query(db, "SELECT status FROM watch_deliveries") == [("sent",)]
    acknowledged = sink.acknowledged()
    # A retry carries the same delivery id: a receiver that keeps the ids it has seen gets each article once.
    assert len({r["delivery"] for r in acknowledged}) == 1
    assert items_of(acknowledged[-1]) == search_ids(db, "H200")


# -- email, the cap, the digest ----------------------------------------------------------------------------------


def test_email_is_escaped_and_a_broad_first_run_is_capped(db, smtp, tmp_path):
    inbox, port = smtp
    hostile = '<script>alert("x")</script> H200 & <b>bold</b>'
    with opened(db) as conn:
        newest = conn.execute("SELECT max(id) FROM articles WHERE lang = 'en'").fetchone()[0]
        conn.execute("UPDATE articles SET title = ? WHERE id = ?", [hostile, newest])
    env = env_for(
        db,
        CHIPWATCH_SMTP_HOST="127.0.0.1",
        CHIPWATCH_SMTP_PORT=str(port),
        CHIPWATCH_SMTP_SECURITY="none",
        CHIPWATCH_WATCHES_MAX_ITEMS="5",
    )
    assert cli(env, "watch", "add", "english", "--lang", "en", "--email", "team@example.org").returncode == 0
    tested = cli(env, "watch", "test", "english")
    assert "and " in tested.stdout.decode() and "would go to: email team@example.org" in tested.stdout.decode()
    assert not inbox.messages  # test sends nothing
    result = cli(env, "watch", "run")
    assert result.returncode == 0, result.stderr
    total = len(json.loads(cli(env, "search", "--lang", "en", "--limit", "1000", "--format", "json").stdout))
    assert len(inbox.messages) == 1
    mail = message_from_bytes(inbox.messages[0][1], policy=default_policy)
    html = mail.get_body(("html",)).get_content()
    text = mail.get_body(("plain",)).get_content()
    assert f"and {total - 5} more" in text and f"{total} new articles" in text
    assert "<script" not in html and "&lt;script&gt;" in html and "<b>bold" not in html
    assert html.count("border-bottom:1px solid #eeeeee") == 5
    assert mail["Message-ID"].startswith("<watch-delivery.")
    # Every match is recorded (the capped ones too): none comes back in a later message.
    assert len(json.loads(cli(env, "watch", "show", "english", "--limit", "1000", "--format", "json").stdout)) == total
    assert cli(env, "watch", "run").returncode == 0 and len(inbox.messages) == 1


def test_a_daily_watch_goes_into_its_readers_digest_once(db, smtp, tmp_path):
    inbox, port = smtp
    config = tmp_path / "chipwatch.toml"
    config.write_text(
        '[[digest.readers]]\naddress = "reader@example.org"\n\n'
        '[[watch]]\nname = "bills"\nquery = "Congress OR 国会 OR 國會"\n'
        'emails = ["reader@example.org"]\nevery = "day"\n',
        encoding="utf-8",
    )
    env = env_for(db, CHIPWATCH_SMTP_HOST="127.0.0.1", CHIPWATCH_SMTP_PORT=str(port), CHIPWATCH_SMTP_SECURITY="none")
    assert cli(env, "--config", str(config), "watch", "run").returncode == 0
    assert not inbox.messages  # a daily watch waits for the digest
    day = datetime.now(UTC).date()
    sent = cli(env, "--config", str(config), "digest", "--date", day.isoformat(), "--send")
    assert sent.returncode == 0, sent.stderr
    assert len(inbox.messages) == 1
    text = message_from_bytes(inbox.messages[0][1], policy=default_policy).get_body(("plain",)).get_content()
    assert "== Your watches ==" in text and "-- bills:" in text
    assert query(db, "SELECT channel, status, how FROM watch_deliveries") == [("digest", "sent", "digest")]
    tomorrow = (day + timedelta(days=1)).isoformat()
    assert cli(env, "--config", str(config), "digest", "--date", tomorrow, "--send").returncode == 0
    if len(inbox.messages) > 1:
        later_text = message_from_bytes(inbox.messages[1][1], policy=default_policy).get_body(("plain",)).get_content()
        assert "Your watches" not in later_text


# -- the demo, end to end ----------------------------------------------------------------------------------------


@pytest.mark.slow  # two whole demo runs: in `make test-slow` (and CI)
def test_demo_watch_delivers_what_search_finds_and_a_second_demo_nothing(tmp_path, smtp):
    inbox, port = smtp
    db = tmp_path / "demo.db"
    env = env_for(
        db,
        CHIPWATCH_SMTP_HOST="127.0.0.1",
        CHIPWATCH_SMTP_PORT=str(port),
        CHIPWATCH_SMTP_SECURITY="none",
        CHIPWATCH_MIRROR_PORT=str(free_port()),
    )
    assert cli(env, "watch", "add", "h200", "H200", "--email", "desk@example.org").returncode == 0
    first = run_chipwatch("--db", str(db), "demo", env=env)
    assert first.returncode == 0, first.stderr.decode()[-2000:]
    assert "watches — h200:" in first.stderr.decode()
    assert len(inbox.messages) == 1 and inbox.messages[0][0] == ["desk@example.org"]
    found = search_ids(db, "H200")
    with opened(db, readonly=True) as conn:
        watch = get_watch(conn, "h200")
        assert watch is not None
        assert delivered_article_ids(conn, watch["id"]) == found
    second = run_chipwatch("--db", str(db), "demo", env=env)
    assert second.returncode == 0
    assert len(inbox.messages) == 1 and query(db, "SELECT count(*) FROM watch_deliveries") == [(1,)]


def test_matching_uses_the_search_parser_and_filters(db):
    env = env_for(db)
    assert cli(env, "watch", "add", "zh-nvidia", "英伟达", "--lang", "zh").returncode == 0
    assert cli(env, "watch", "add", "samr-entity", "--entity", "agency:samr").returncode == 0
    watch_pass(options_for(env))
    with opened(db, readonly=True) as conn:
        from chipwatch.queries import search_request

        for name, text, filters in (
            ("zh-nvidia", "英伟达", {"lang": "zh"}),
            ("samr-entity", None, {"entity": "agency:samr"}),
        ):
            expected = sorted(r["id"] for r in search(conn, search_request(text, None, **filters)))
            watch = get_watch(conn, name)
            assert watch is not None
            got = sorted(
                r[0] for r in conn.execute("SELECT article_id FROM watch_matches WHERE watch_id = ?", [watch["id"]])
            )
            assert got == expected and got
        # The cross-script rule holds: the Simplified word found Traditional articles too.
        langs = {
            r[0] for r in conn.execute("SELECT a.lang FROM watch_matches m JOIN articles a ON a.id = m.article_id")
        }
        assert {"zh-Hans", "zh-Hant"} <= langs


def test_two_processes_matching_at_once_record_each_match_once(db):
    env = env_for(db)
    assert cli(env, "watch", "add", "h200", "H200").returncode == 0
    processes = [start_chipwatch("watch", "run", env=env) for _ in range(3)]
    assert [process.wait(timeout=60) for process in processes] == [0, 0, 0]
    assert query(db, "SELECT count(*) FROM watch_matches") == [(len(search_ids(db, "H200")),)]


def test_the_watch_benchmark_runs_and_reports_its_reference(tmp_path):
    result = run_chipwatch(
        "bench-watches", "--watches", "10", "--run-articles", "100", "--stored", "400", env=clean_env(), cwd=tmp_path
    )
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr
    assert "10 watches against 100 new articles" in out and "as a plain search" in out
    assert int(out.split(" matches recorded")[0].rsplit(" ", 1)[1].replace(",", "")) > 0


def test_a_file_watch_is_listed_and_testable_before_its_first_pass(db, tmp_path):
    config = tmp_path / "chipwatch.toml"
    config.write_text('[[watch]]\nname = "fresh"\nquery = "H200"\n', encoding="utf-8")
    env = env_for(db)
    listed = json.loads(cli(env, "--config", str(config), "watch", "list", "--format", "json").stdout)
    assert [(w["name"], w["defined_in"], w["matches"]) for w in listed] == [("fresh", "config", 0)]
    tested = cli(env, "--config", str(config), "watch", "test", "fresh", "--format", "json")
    assert tested.returncode == 0, tested.stderr
    body = json.loads(tested.stdout)["body"]
    assert len(body["items"]) + body.get("more", 0) == len(search_ids(db, "H200"))
    assert query(db, "SELECT count(*) FROM watches") == [(0,)]  # testing stored nothing


def test_a_daily_watch_without_digest_readers_goes_out_at_digest_time(db, sink, tmp_path):
    config = tmp_path / "chipwatch.toml"
    config.write_text(
        f'[[watch]]\nname = "samr"\nquery = "SAMR"\nwebhooks = ["{sink.url}"]\nevery = "day"\n', encoding="utf-8"
    )
    env = env_for(db)
    assert cli(env, "--config", str(config), "watch", "run").returncode == 0
    assert not sink.received
    result = cli(env, "--config", str(config), "digest", "--send")
    assert result.returncode == 0 and "no digest to send" in result.stdout.decode()
    assert [items_of(r) for r in sink.acknowledged()] == [search_ids(db, "SAMR")]
