"""The command line as people and scripts use it: in-process, or in its own process where a command needs one."""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys

import click
import pytest

from demo.render import render_article
from tests.helpers import REPO, clean_env, free_port, run_chipwatch


def _commands(group: click.Group, ctx: click.Context, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command under group, walking nested groups, as the words that reach it."""
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        found.append((*path, name))
        if isinstance(command, click.Group):
            found += _commands(command, click.Context(command, parent=ctx), (*path, name))
    return found


def test_every_command_has_help_with_an_example():
    from chipwatch.cli import cli

    commands = _commands(cli, click.Context(cli))
    assert len(commands) >= 25  # every command of the README's table
    for words in commands:
        result = run_chipwatch(*words, "--help")
        assert result.returncode == 0, (words, result.stderr.decode())
        out = result.stdout.decode()
        assert out.startswith(f"Usage: chipwatch {' '.join(words)} "), words
        assert "Example" in out, words


def test_help_and_version_import_neither_scrapy_nor_scikit_learn():
    probe = (
        "import sys\n"
        "from chipwatch.cli import cli\n"
        "for args in (['--help'], ['--version'], ['search', '--help']):\n"
        "    try:\n"
        "        cli.main(args, prog_name='chipwatch')\n"
        "    except SystemExit as end:\n"
        "        assert end.code == 0, (args, end.code)\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'scrapy', 'twisted', 'sklearn', 'trafilatura'})\n"
        "print('heavy:', heavy, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, cwd=REPO, env=clean_env(), timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    assert "chipwatch, version " in result.stdout.decode()
    assert "heavy: []" in result.stderr.decode()


def test_version_matches_the_package():
    from chipwatch import __version__

    result = run_chipwatch("--version")
    assert result.returncode == 0 and result.stdout.decode().strip() == f"chipwatch, version {__version__}"


def test_extract_a_saved_gzipped_page(tmp_path, network):
    article = next(a for a in network.articles if a.id == "hx-h200")
    body, _ = render_article(network, article, "http://127.0.0.1:8765")
    path = tmp_path / "page.html.gz"
    path.write_bytes(gzip.compress(body))
    result = run_chipwatch("extract", str(path), "--url", "http://127.0.0.1:8765" + article.path + "?utm_source=x")
    assert result.returncode == 0, result.stderr.decode()
    page = json.loads(result.stdout)
    assert set(page) >= {"title", "text", "published_at", "authors", "lang", "canonical_url"}  # fields may be added
    assert page["published_date"] == "2025-12-09" and page["published_precision"] in ("minute", "second")
    assert page["title"] == article.title
    assert page["lang"] == "zh-Hans"
    assert page["published_at"] == "2025-12-09T00:20:00Z"
    assert page["authors"] == ["李晓岚"]
    assert page["canonical_url"] == "http://127.0.0.1:8765" + article.path
    assert article.paragraphs[-1][:15] in page["text"]


def test_extract_a_broken_gzip_is_a_one_line_error(tmp_path):
    path = tmp_path / "bad.html.gz"
    path.write_bytes(b"not gzip at all")
    result = run_chipwatch("extract", str(path))
    assert result.returncode == 1
    assert result.stderr.decode().count("\n") == 1 and "gzip" in result.stderr.decode()


def test_classify_keeps_one_line_out_per_line_in_even_for_bad_lines():
    lines = [
        json.dumps(
            {"id": 1, "title": "US lets Nvidia sell H200 chips to China", "text": "Commerce licences, 25% cut."}
        ),
        json.dumps({"id": "b", "title": "薯片新口味", "text": "零食"}, ensure_ascii=False),
        "this is not json",
        json.dumps({"id": 4, "title": 5, "text": "x"}),
        json.dumps(
            {"id": 5, "title": "輝達H200獲准出口中國", "text": "美國商務部核發出口許可，分成25%。", "lang": "zh-Hant"},
            ensure_ascii=False,
        ),
    ]
    data = ("\n".join(lines) + "\n").encode() + b'{"id": 6, "title": "\xff\xfe"}\n'
    result = run_chipwatch("classify", input=data)
    assert result.returncode == 1  # every line written, and the failure said in the exit status too
    out = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [o["id"] for o in out] == [1, "b", None, 4, 5, 6]
    assert out[0]["relevant"] is True and out[0]["topics"][0]["evidence"]
    assert set(out[0]) == {"id", "relevant", "relevance", "topics"}
    assert set(out[0]["topics"][0]) == {"id", "score", "evidence"}
    assert out[1]["relevant"] is False and out[1]["topics"] == []
    assert "error" in out[2] and "error" in out[3] and "error" in out[5]
    assert out[4]["relevant"] is True
    stderr = result.stderr.decode()
    assert "line 3: not JSON" in stderr and "line 6: not UTF-8" in stderr and "3 of 6 lines" in stderr


def test_classify_reads_a_file(tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_text(json.dumps({"id": 1, "title": "x", "text": ""}) + "\n")
    result = run_chipwatch("classify", str(path))
    assert json.loads(result.stdout)["id"] == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["search", "--topic", "nonsense"], "unknown topic 'nonsense'"),
        (["search", "--since", "last tuesday"], "cannot read --since"),
        (["search", "NEAR("], "unbalanced parentheses"),
        (["search", "--lang", "??"], "not a language code"),
    ],
)
def test_search_mistakes_are_one_line_errors(tmp_path, args, message):
    from storage import open_database

    db = tmp_path / "s.db"
    open_database(db).close()
    result = run_chipwatch("--db", str(db), *args)
    stderr = result.stderr.decode()
    assert result.returncode != 0
    assert message in stderr
    assert "Traceback" not in stderr and stderr.count("\n") == 1


def test_search_before_any_crawl_says_what_to_do(tmp_path):
    result = run_chipwatch("--db", str(tmp_path / "none.db"), "search", "H200")
    assert result.returncode == 1
    assert "no database here yet" in result.stderr.decode()


def test_a_broken_config_file_stops_every_command_with_its_name(tmp_path):
    config = tmp_path / "chipwatch.toml"
    config.write_text("[crawl]\nretries = 'x'\n")
    result = run_chipwatch("--config", str(config), "search", "x")
    assert result.returncode == 1 and str(config) in result.stderr.decode()


def test_scrapy_list_works_from_the_repository_root():
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "list"], cwd=REPO, capture_output=True, env=clean_env(), timeout=120
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().split() == [
        "federal-register",
        "feed",
        "listing",
        "screening-list",
        "search",
        "sitemap",
    ]


def test_scrapy_crawl_from_the_repository_root_stores_into_the_configured_db(tmp_path, mirror):
    from chipwatch.crawl.demo import rebased_sources

    sources = rebased_sources(mirror.base_url, tmp_path)
    db = tmp_path / "scrapy.db"
    env = clean_env(CHIPWATCH_DB=str(db), CHIPWATCH_SOURCES=str(sources))
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "feed", "-a", "source=tech-daily"],
        cwd=REPO,
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    import sqlite3

    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM articles WHERE source = 'tech-daily'").fetchone()[0] == 1
    assert conn.execute("SELECT status FROM crawl_runs").fetchone()[0] == "ok"


@pytest.mark.slow
def test_demo_twice_stores_nothing_twice(tmp_path):
    port = free_port()
    db = tmp_path / "demo.db"
    first = run_chipwatch("--db", str(db), "demo", "--port", str(port))
    assert first.returncode == 0, first.stderr.decode()[-2000:]
    report = first.stdout.decode()
    assert "75 articles (58 relevant), 4 copies" in report
    assert "by topic" in report and "by language" in report and str(db) in report
    second = run_chipwatch("--db", str(db), "demo", "--port", str(port))
    assert second.returncode == 0
    assert "0 new items" in second.stdout.decode()
    assert "75 articles" in second.stdout.decode()


def test_demo_refuses_a_port_taken_by_something_else(tmp_path):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        result = run_chipwatch("--db", str(tmp_path / "d.db"), "demo", "--port", str(port), timeout=60)
    assert result.returncode == 1
    assert f"port {port}" in result.stderr.decode() and "Traceback" not in result.stderr.decode()


@pytest.mark.parametrize(
    "args, status, message",
    [
        (("search", "H200", "--lang", "cn"), 1, "--lang cn is a country; for Chinese use zh"),
        (("search", "H200", "--lang", "chinese"), 1, "known: en, zh (both scripts), zh-Hans, zh-Hant"),
        (("search", "!!! ???"), 1, "only punctuation or symbols"),
        (("search", "🚀🚀"), 1, "only punctuation or symbols"),
    ],
)
def test_careless_searches_say_why_in_one_line(demo_db, args, status, message):
    result = run_chipwatch("--db", str(demo_db), *args)
    assert result.returncode == status
    assert result.stderr.decode().count("\n") == 1 and message in result.stderr.decode(), result.stderr.decode()


def test_extract_of_a_file_that_is_not_html_is_one_line(tmp_path):
    path = tmp_path / "picture.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    result = run_chipwatch("extract", str(path))
    assert result.returncode == 1
    assert result.stderr.decode().count("\n") == 1 and "not an HTML page" in result.stderr.decode()


def test_a_database_path_that_is_a_directory_says_so(tmp_path):
    for command in (("search", "H200"), ("label", "1", "market")):
        result = run_chipwatch("--db", str(tmp_path), *command)
        assert result.returncode == 1
        assert result.stderr.decode().count("\n") == 1 and "is a directory" in result.stderr.decode()


def test_train_will_not_overwrite_the_shipped_model_unless_forced(tmp_path):
    from chipwatch.config import ClassifyOptions

    before = ClassifyOptions().model.read_bytes()
    result = run_chipwatch("train", env=clean_env(CHIPWATCH_DB=str(tmp_path / "x.db")))
    assert result.returncode == 1 and "--out FILE" in result.stderr.decode() and "--force" in result.stderr.decode()
    assert ClassifyOptions().model.read_bytes() == before
