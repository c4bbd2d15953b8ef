"""The crawl process's one database connection.

Every source crawled in the process (one crawler each), its spider, its pipeline stages and its run
recorder share one connection. The run recorder, a Scrapy extension, owns it: it takes it when a spider
opens and gives it back after writing the run's outcome, and the last one to give it back closes it. All
users run on the reactor's thread and every write is one short transaction, so nothing interleaves.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from sqlite_utils import Database

from chipwatch.errors import ConfigError
from storage import open_database

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


def database_path(crawler: Crawler) -> Path:
    """The crawl's database, from the CHIPWATCH_DB setting: without it no stage can work, so say so."""
    db = crawler.settings.get("CHIPWATCH_DB")
    if not db:
        raise ConfigError("the crawl has no database: set CHIPWATCH_DB (chipwatch crawl sets it from [storage] db)")
    return Path(db)


class CrawlStorage:
    """The shared connection and how many running spiders hold it."""

    _db: ClassVar[Database | None] = None
    _path: ClassVar[Path | None] = None
    _setting: ClassVar[object] = None  # the CHIPWATCH_DB setting _path was read from
    _holders: ClassVar[int] = 0

    @classmethod
    def connection(cls, crawler: Crawler) -> Database:
        """The process's connection to the crawl's database, opened (and migrated) on first use."""
        if cls._db is not None and crawler.settings.get("CHIPWATCH_DB") == cls._setting:
            return cls._db  # asked by every stage for every item: no path to build and compare
        path = database_path(crawler)
        if cls._db is not None and cls._path != path:
            raise ConfigError(f"one crawl process writes one database: {cls._path}, not {path}")
        if cls._db is None:
            cls._db, cls._path = open_database(path), path
            cls._setting = crawler.settings.get("CHIPWATCH_DB")
        return cls._db

    @classmethod
    def hold(cls, crawler: Crawler) -> Database:
        cls._holders += 1
        return cls.connection(crawler)

    @classmethod
    def release(cls) -> None:
        cls._holders -= 1
        if cls._holders <= 0:
            if cls._db is not None:
                cls._db.close()
            cls._db, cls._path, cls._setting, cls._holders = None, None, None, 0
