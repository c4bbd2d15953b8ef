"""Live counts while crawling: one rewritten status line on a terminal, plain log lines otherwise."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any, TextIO

from scrapy import signals
from twisted.internet import task

from spiders.signals import fetch_failed

LINE_INTERVAL_SECONDS = 10.0  # how often a plain (non-terminal) progress line is written


class Progress:
    def __init__(self, stream: TextIO, live: bool | None = None) -> None:
        self.stream = stream
        self.live = stream.isatty() if live is None else live
        self.counts: Counter[str] = Counter()
        self.sources_running = 0
        self.sources_done = 0
        self._loop: task.LoopingCall | None = None
        self._last_line = 0.0
        self._last_text = ""

    def attach(self, crawler: Any) -> None:
        connect = crawler.signals.connect
        connect(self._opened, signal=signals.spider_opened)
        connect(self._closed, signal=signals.spider_closed)
        connect(self._response, signal=signals.response_received)
        connect(self._scraped, signal=signals.item_scraped)
        connect(self._dropped, signal=signals.item_dropped)
        connect(self._failed, signal=fetch_failed)

    def text(self) -> str:
        c = self.counts
        return (
            f"sources {self.sources_done}/{self.sources_done + self.sources_running} · "
            f"pages {c['pages']} · stored {c['new']} new, {c['updated']} updated · "
            f"dropped {c['dropped']} · errors {c['errors']}"
        )

    def _opened(self, spider: Any) -> None:
        self.sources_running += 1
        if self._loop is None:
            self._loop = task.LoopingCall(self._tick)
            self._loop.start(0.5 if self.live else LINE_INTERVAL_SECONDS, now=False)

    def _closed(self, spider: Any, reason: str) -> None:
        self.sources_running -= 1
        self.sources_done += 1
        source = getattr(getattr(spider, "source", None), "name", spider.name)
        self._write(f"finished {source} ({reason}) — {self.text()}", final=True)
        if self.sources_running == 0 and self._loop is not None and self._loop.running:
            self._loop.stop()
            self._loop = None

    def _response(self, response: Any, request: Any, spider: Any) -> None:
        if not request.meta.get("dont_obey_robotstxt"):
            self.counts["pages"] += 1

    def _scraped(self, item: Any, response: Any, spider: Any) -> None:
        status = getattr(item, "store_status", None)
        self.counts["new" if status in ("new", "copy") else "updated" if status == "updated" else "unchanged"] += 1

    def _dropped(self, item: Any, response: Any, exception: BaseException, spider: Any) -> None:
        self.counts["dropped"] += 1

    def _failed(self, **_: Any) -> None:
        self.counts["errors"] += 1

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
