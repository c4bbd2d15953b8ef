"""Live counts while crawling: one rewritten status line on a terminal, plain log lines otherwise.

It only reads: the counts are the run recorder's, kept in each crawler's Scrapy stats.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, TextIO

from scrapy import signals
from twisted.internet import task

from chipwatch.crawl.recorder import count, plural

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler


LINE_INTERVAL_SECONDS = 10.0  # how often a plain (non-terminal) progress line is written


class Progress:
    def __init__(self, stream: TextIO, live: bool | None = None) -> None:
        self.stream = stream
        self.live = stream.isatty() if live is None else live
        self.crawlers: list[Crawler] = []
        self.sources_running = 0
        self.sources_done = 0
        self.stopped = 0  # sources that closed for another reason than having finished (Ctrl-C, SIGTERM)
        self._loop: task.LoopingCall | None = None
        self._last_line = 0.0
        self._last_text = ""

    def attach(self, crawler: Crawler) -> None:
        self.crawlers.append(crawler)
        crawler.signals.connect(self._opened, signal=signals.spider_opened)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    def total(self, name: str) -> int:
        return sum(count(crawler.stats, name) for crawler in self.crawlers)

    def text(self) -> str:
        return (
            f"sources {self.sources_done}/{len(self.crawlers)} · "
            f"pages {self.total('pages_fetched')} · stored {self.total('items_new')} new, "
            f"{self.total('items_updated')} updated · dropped {self.total('items_dropped')} · "
            f"errors {self.total('errors')}"
        )

    @staticmethod
    def source_text(crawler: Crawler) -> str:
        """One source's own counts, for the line that says it is done."""
        stats = crawler.stats
        return (
            f"{plural(count(stats, 'pages_fetched'), 'page')}, {count(stats, 'items_new')} new, "
            f"{count(stats, 'items_updated')} updated, {count(stats, 'items_dropped')} dropped, "
            f"{plural(count(stats, 'errors'), 'error')}"
        )

    def _opened(self, spider: Spider) -> None:
        self.sources_running += 1
        if self._loop is None:
            self._loop = task.LoopingCall(self._tick)
            # On a terminal the line appears at once; in a log, the first line comes after an interval.
            self._loop.start(0.5 if self.live else LINE_INTERVAL_SECONDS, now=self.live)

    def _closed(self, spider: Spider, reason: str) -> None:
        self.sources_running -= 1
        self.sources_done += 1
        source = getattr(getattr(spider, "source", None), "name", spider.name)
        crawler = getattr(spider, "crawler", None)
        own = self.source_text(crawler) if crawler is not None else ""
        if reason == "finished" and not getattr(spider, "source_failed", False):
            verdict = f"finished {source}"
        elif reason == "finished":
            verdict = f"failed {source}"
        else:
            verdict = f"stopped {source} ({reason})"
        self._write(f"{verdict}: {own} — sources {self.sources_done}/{len(self.crawlers)}", final=True)
        self.stopped += reason != "finished"
        if self.sources_done == len(self.crawlers):
            ending = "stopped" if self.stopped else "all sources done"
            self._write(f"{ending} — {self.text()}", final=True)
        if self.sources_running == 0 and self._loop is not None and self._loop.running:
            self._loop.stop()
            self._loop = None

    def _tick(self) -> None:
        text = self.text()
        if self.live:
            self.stream.write("\r\x1b[2K" + text)
            self.stream.flush()
        elif text != self._last_text:
            self._write(text)
        self._last_text = text

    def _write(self, line: str, final: bool = False) -> None:
        prefix = "\r\x1b[2K" if self.live else time.strftime("%H:%M:%S ")
        self.stream.write(prefix + line + "\n")
        self.stream.flush()
