"""The reading room in `chipwatch serve`: its pages over real HTTP on a copy of the demo database, the gate
in front of everything when accounts or a token are configured, and the pages in a real Chromium (Debian's,
driven by Playwright), with screenshots kept in tests/artifacts/."""

from __future__ import annotations

import os
import shutil
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from chipwatch.serve.auth import feed_token, hash_password
from tests.helpers import REPO, clean_env, run_chipwatch, serving

ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
HOSTILE = '<img src=x onerror="alert(1)"> H200 <script>alert(2)</script>'


@pytest.fixture(scope="module")
def room_db(tmp_path_factory, demo_db) -> Path:
    """The demo database, its articles stored "now" (so today has news), one title hostile."""
    db = tmp_path_factory.mktemp("room") / "room.db"
    shutil.copy(demo_db, db)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE articles SET first_seen_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 hour')")
    conn.execute(
        "UPDATE articles SET title = ? WHERE id = (SELECT min(id) FROM articles WHERE relevant = 1)", [HOSTILE]
    )
    conn.commit()
    conn.close()
    return db


@pytest.fixture(scope="module")
def room(room_db):
    with serving(room_db) as base:
        yield base


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def test_today_shows_top_stories_a_chart_and_what_changed(room, room_db):
    status, page = get(room + "/")
    assert status == 200
    assert "Top stories" in page and 'href="/stories/' in page
    assert "<svg" in page and "Relevant articles per day by main topic" in page
    assert "What changed since yesterday" in page and "Languages, last 24 hours" in page
    assert "<script>alert" not in page and "<img src=x" not in page
    hostile = sqlite3.connect(room_db).execute("SELECT id FROM articles WHERE title LIKE '%onerror%'").fetchone()[0]
    status, page = get(f"{room}/articles/{hostile}")
    assert status == 200 and "<script>alert" not in page and "<img src=x" not in page and "&lt;script&gt;" in page


def test_stories_filter_and_a_story_page_has_its_timeline_and_chart(room, room_db):
    status, page = get(room + "/stories?topic=legislation&lang=zh")
    assert status == 200 and 'class="sparkline"' in page
    conn = sqlite3.connect(room_db)
    wanted = conn.execute(
        "SELECT count(*) FROM stories WHERE EXISTS (SELECT 1 FROM json_each(topics) WHERE value = 'legislation') "
        "AND EXISTS (SELECT 1 FROM json_each(languages) WHERE value LIKE 'zh%')"
    ).fetchone()[0]
    story_id, count = conn.execute(
        "SELECT id, article_count FROM stories ORDER BY article_count DESC LIMIT 1"
    ).fetchone()
    conn.close()
    assert page.count('class="card story"') == wanted > 0
    status, page = get(f"{room}/stories/{story_id}")
    assert status == 200 and "Coverage per day by language" in page
    assert page.count("<li>") >= count and f"/feeds/story/{story_id}.atom" in page
    assert get(room + "/stories/999999")[0] == 404
    assert get(room + "/stories?topic=nope")[0] == 404


def test_find_uses_chipwatch_rules_across_scripts_with_counts_and_pages(room, room_db):
    counts = {}
    for word in ("英伟达", "輝達", "Nvidia"):
        status, page = get(room + "/find?" + urllib.parse.urlencode({"q": word}))
        assert status == 200
        counts[word] = page.split('results-count">', 1)[1].split("<", 1)[0]
    assert counts["英伟达"] == counts["輝達"] and " of " in counts["英伟达"]
    result = run_chipwatch(
        "--db", str(room_db), "search", "英伟达", "--limit", "1000", "--format", "json", env=clean_env()
    )
    import json

    total = len(json.loads(result.stdout))
    assert counts["英伟达"].endswith(f"of {total} articles")
    status, page = get(room + "/find?" + urllib.parse.urlencode({"q": "英伟达", "page": 2}))
    assert status == 200 and f"21–{min(40, total)} of {total}" in page
    assert "<mark>" in get(room + "/find?q=H200")[1]
    status, page = get(room + "/find?" + urllib.parse.urlencode({"q": '"unbalanced'}))
    assert status == 400 and "unbalanced quotes" in page
    status, page = get(room + "/find?q=H200")
    assert "<script>alert" not in page


def test_article_page_shows_topics_evidence_story_and_copies(room, room_db):
    conn = sqlite3.connect(room_db)
    article_id = conn.execute("SELECT article_id FROM copies LIMIT 1").fetchone()[0]
    conn.close()
    status, page = get(f"{room}/articles/{article_id}")
    assert status == 200 and "Topics" in page and "Also carried by" in page
    assert get(room + "/articles/99999999")[0] == 404
    assert get(room + "/demo")[0] in (200, 404)  # Datasette's own pages stay where they were
    status, _ = get(room + "/room/articles.json?_size=1")
    assert status == 200


# -- only the team gets in -----------------------------------------------------------------------------------------


PROTECTED = (
    "/",
    "/stories",
    "/find?q=H200",
    "/articles/1",
    "/feeds/all.atom",
    "/room",
    "/room/articles.json",
    "/room.json?sql=select+1",
    "/-/versions.json",
    "/-/static/app.css",
)


@pytest.fixture(scope="module")
def guarded(room_db, tmp_path_factory):
    config = tmp_path_factory.mktemp("auth") / "chipwatch.toml"
    config.write_text(
        f'[serve.accounts]\nanalyst = "{hash_password("correct horse", iterations=100_000)}"\n', encoding="utf-8"
    )
    with serving(room_db, env=clean_env(CHIPWATCH_SERVE_TOKEN="s3cret-token", CHIPWATCH_CONFIG=str(config))) as base:
        yield base


def test_nothing_is_served_without_credentials(guarded):
    for path in PROTECTED:
        assert get(guarded + path)[0] == 401, path
        assert get(guarded + path, {"Authorization": "Bearer wrong"})[0] == 401, path
        assert get(guarded + path, {"Authorization": "Bearer s3cret-token"})[0] == 200, path


def test_signing_in_works_a_wrong_password_is_refused_and_rate_limited(guarded):
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def login(user: str, password: str) -> int:
        data = urllib.parse.urlencode({"username": user, "password": password, "next": "/stories"}).encode()
        try:
            with opener.open(guarded + "/login", data=data, timeout=15) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    assert login("analyst", "correct horse") == 200  # redirected to /stories, signed in
    with opener.open(guarded + "/room/articles.json?_size=1", timeout=15) as response:
        assert response.status == 200
    assert [login("intruder", "guess") for _ in range(6)] == [401] * 5 + [429]
    assert login("intruder", "guess") == 429
    forged = urllib.request.Request(guarded + "/", headers={"Cookie": "chipwatch_session=forged"})
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(forged, timeout=15)
    assert error.value.code == 401


def test_feed_tokens_open_feeds_only(guarded):
    token = feed_token("s3cret-token", "alice")
    assert get(f"{guarded}/feeds/all.atom?token={token}")[0] == 200
    assert get(f"{guarded}/feeds/all.atom?token=alice.0000")[0] == 401
    assert get(f"{guarded}/room.json?sql=select+1&token={token}")[0] == 401


def test_serving_beyond_loopback_needs_authentication(room_db):
    result = run_chipwatch("--db", str(room_db), "serve", "--host", "0.0.0.0", "--port", "1", env=clean_env())
    assert result.returncode == 1 and "[serve.accounts]" in result.stderr.decode()
    bad = room_db.parent / "bad.toml"
    bad.write_text('[serve.accounts]\nanalyst = "plain-text-password"\n', encoding="utf-8")
    result = run_chipwatch("--config", str(bad), "--db", str(room_db), "status", env=clean_env())
    assert result.returncode == 1 and "never the password itself" in result.stderr.decode()


# -- in a real browser ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CHIPWATCH_REQUIRE_BROWSER"):
            pytest.fail("Chromium is not at /usr/bin/chromium: .ci/run installs it (apt-get install chromium)")
        pytest.skip("Debian's Chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield launched
        launched.close()


def open_page(browser, url: str, width: int = 1200):
    page = browser.new_page(viewport={"width": width, "height": 900})
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("dialog", lambda dialog: problems.append(f"a script ran: {dialog.message}"))
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    return page, problems


def test_every_page_loads_in_chromium_without_a_console_error(browser, room, room_db):
    story_id = sqlite3.connect(room_db).execute("SELECT max(id) FROM stories").fetchone()[0]
    for name, path in (
        ("today", "/"),
        ("stories", "/stories"),
        ("story", f"/stories/{story_id}"),
        ("find", "/find?q=%E8%8B%B1%E4%BC%9F%E8%BE%BE"),
        ("article", "/articles/1"),
    ):
        page, problems = open_page(browser, room + path)
        page.screenshot(path=str(ARTIFACTS / f"reading-room-{name}.png"), full_page=True)
        assert problems == [], (name, problems)
        page.close()
    phone, problems = open_page(browser, room + "/", width=390)
    width = phone.evaluate("document.documentElement.scrollWidth")
    phone.screenshot(path=str(ARTIFACTS / "reading-room-today-phone.png"), full_page=True)
    assert width <= 400 and problems == []  # readable on a phone: nothing wider than the screen


def test_search_and_filters_work_in_the_browser(browser, room):
    page, problems = open_page(browser, room + "/find")
    page.fill("input[name=q]", "輝達")
    page.select_option("select[name=lang]", "zh-Hans")
    page.click("button[type=submit]")
    page.wait_for_selector(".results-count")
    assert "of" in page.inner_text(".results-count")
    languages = page.locator(".results .meta").all_inner_texts()
    assert languages and all("简体" in text for text in languages)
    assert page.locator(".results mark").count() > 0
    page.screenshot(path=str(ARTIFACTS / "reading-room-find-filtered.png"), full_page=True)
    page.goto(room + "/stories")
    page.select_option("select[name=topic]", "china-response")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "topic=china-response" in page.url and page.locator(".card.story").count() > 0
    page.locator(".card.story h3 a").first.click()
    page.wait_for_selector("svg.chart")
    assert page.locator("svg.chart rect").count() > 0 and problems == []


def test_datasette_tables_link_stories_and_read_lists_plainly(room):
    status, page = get(room + "/room/articles_flat?_size=20&story_id__notblank=1")
    assert status == 200 and 'href="/stories/' in page
    status, page = get(room + "/room/stories_overview")
    assert status == 200 and "[&#34;" not in page and '["' not in page and "&quot;" not in page.split("<table")[-1]
