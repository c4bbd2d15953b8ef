"""One configuration flow, and the sources file: clear errors naming file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from chipwatch.config import load_options
from chipwatch.errors import ConfigError
from spiders.sources import load_sources, select_sources

GOOD_SOURCE = """
[[source]]
name = "fr-bis"
kind = "feed"
url = "https://www.federalregister.gov/api/v1/documents.rss"
schedule = "0 */2 * * *"
"""


def test_defaults_file_then_environment(tmp_path):
    config = tmp_path / "chipwatch.toml"
    config.write_text('[storage]\ndb = "from-file.db"\n[crawl]\nretries = 5\ncontact = "me@example.org"\n')
    options = load_options(config, env={})
    assert options.storage.db == Path("from-file.db")
    assert options.crawl.retries == 5
    assert options.crawl.obey_robots is True
    options = load_options(
        config,
        env={
            "CHIPWATCH_DB": "env.db",
            "CHIPWATCH_CRAWL_RETRIES": "1",
            "CHIPWATCH_CRAWL_OBEY_ROBOTS": "false",
            "CHIPWATCH_UNRELATED": "x",
        },
    )
    assert options.storage.db == Path("env.db")
    assert options.crawl.retries == 1
    assert options.crawl.obey_robots is False
    assert options.crawl.contact == "me@example.org"


def test_config_file_from_environment_variable(tmp_path):
    config = tmp_path / "elsewhere.toml"
    config.write_text("[mirror]\nport = 9999\n")
    assert load_options(None, env={"CHIPWATCH_CONFIG": str(config)}).mirror.port == 9999


@pytest.mark.parametrize(
    "text, message",
    [
        ("[crawl]\nretriez = 3\n", "[crawl] retriez: unknown key"),
        ("[crawl]\nretries = 'three'\n", "[crawl] retries: expected a value"),
        ("[crawl]\nobey_robots = 1\n", "expected true or false"),
        ("[nonsense]\nx = 1\n", "unknown section [nonsense]"),
        ("[crawl\n", "chipwatch.toml"),
    ],
)
def test_config_mistakes_name_file_section_and_key(tmp_path, text, message):
    config = tmp_path / "chipwatch.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_options(config, env={})
    assert message in str(caught.value)
    assert str(config) in str(caught.value)


def test_bad_environment_value_names_the_variable():
    with pytest.raises(ConfigError, match="CHIPWATCH_CRAWL_RETRIES"):
        load_options(None, env={"CHIPWATCH_CRAWL_RETRIES": "many"})


def test_missing_config_file_is_reported(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_options(tmp_path / "absent.toml", env={})


def test_sources_load_with_defaults(tmp_path):
    path = tmp_path / "sources.toml"
    path.write_text(GOOD_SOURCE)
    [source] = load_sources(path)
    assert (source.name, source.kind, source.timezone, source.enabled) == ("fr-bis", "feed", "UTC", True)


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            '[[source]]\nname = "b"\nkind = "telepathy"\nurl = "https://x.test/"\n',
            "sources.toml:8: source #2 (b): field 'kind'",
        ),
        (
            '[[source]]\nname = "b"\nkind = "feed"\nurl = "https://x.test/"\nschedule = "61 * * * *"\n',
            "field 'schedule'",
        ),
        (
            '[[source]]\nname = "b"\nkind = "feed"\nurl = "https://x.test/"\nschedule = "daily"\n',
            "not a cron expression",
        ),
        ('[[source]]\nname = "fr-bis"\nkind = "feed"\nurl = "https://x.test/"\n', "already used on line 2"),
        ('[[source]]\nname = "b"\nkind = "feed"\nurl = "ftp://x.test/"\n', "field 'url'"),
        ('[[source]]\nname = "b"\nkind = "feed"\n', "missing field 'url'"),
        ('[[source]]\nname = "b"\nkind = "feed"\nurl = "https://x.test/"\ntimezone = "Mars/Olympus"\n', "timezone"),
        ('[[source]]\nname = "b"\nkind = "feed"\nurl = "https://x.test/"\nenabled = "yes"\n', "field 'enabled'"),
        ('[[source]]\nname = "B C"\nkind = "feed"\nurl = "https://x.test/"\n', "field 'name'"),
        ('[[source]]\nname = "b"\nkind = "feed"\nurl = "https://x.test/"\ncolour = "red"\n', "unknown field 'colour'"),
    ],
)
def test_source_mistakes_name_file_line_and_field(tmp_path, extra, message):
    path = tmp_path / "sources.toml"
    path.write_text(GOOD_SOURCE + "\n" + extra)
    with pytest.raises(ConfigError) as caught:
        load_sources(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_missing_sources_file(tmp_path):
    with pytest.raises(ConfigError, match="sources file not found"):
        load_sources(tmp_path / "nope.toml")


def test_selecting_sources(tmp_path):
    path = tmp_path / "sources.toml"
    path.write_text(
        GOOD_SOURCE + '\n[[source]]\nname = "off"\nkind = "feed"\nurl = "https://x.test/"\nenabled = false\n'
    )
    sources = load_sources(path)
    assert [s.name for s in select_sources(sources, [])] == ["fr-bis"]
    assert [s.name for s in select_sources(sources, ["off"])] == ["off"]
    with pytest.raises(ConfigError, match="unknown source 'nope'"):
        select_sources(sources, ["nope"])


def test_the_shipped_sources_files_are_valid():
    root = Path(__file__).resolve().parent.parent
    demo = load_sources(root / "demo" / "sources.toml")
    assert {source.kind for source in demo} == {
        "feed",
        "search",
        "sitemap",
        "federal-register",
        "listing",
        "screening-list",
    }
    shipped = load_sources(root / "spiders" / "sources.toml")
    assert len(shipped) >= 12 and {source.kind for source in shipped} == {source.kind for source in demo}
