"""Closing the HTTP download handler: the pool gets its second to close, and its Deferred fires once.

Scrapy 2.19's own close fired the pool's Deferred from its timer when the pool closed in the same reactor
turn, and the chaos crawl's output then carried an AlreadyCalledError traceback (CI, 2026-12-03).
"""

from __future__ import annotations

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock

from chipwatch.config import load_options
from chipwatch.crawl.settings import scrapy_settings
from spiders.handlers import ChipwatchHTTPDownloadHandler, closed_within


def test_the_pool_closing_in_the_same_turn_as_the_timeout_fires_once():
    clock = Clock()
    closing: Deferred[list[None]] = Deferred()
    clock.callLater(1, closing.callback, [])  # the last connection goes just as the second runs out
    done = closed_within(closing, 1, clock)
    fired: list[object] = []
    done.addBoth(fired.append)
    clock.advance(1)  # both calls run in this turn; Scrapy's close raised AlreadyCalledError here
    assert fired == [None]
    assert not clock.getDelayedCalls()


def test_a_pool_that_closes_at_once_cancels_the_timer():
    clock = Clock()
    closing: Deferred[list[None]] = Deferred()
    done = closed_within(closing, 1, clock)
    assert not done.called and len(clock.getDelayedCalls()) == 1
    closing.callback([])
    assert done.called and not clock.getDelayedCalls()


def test_a_pool_that_hangs_is_given_up_on_after_the_timeout():
    clock = Clock()
    closing: Deferred[list[None]] = Deferred()  # a stalled server: the pool never reports closed
    done = closed_within(closing, 1, clock)
    clock.advance(0.9)
    assert not done.called
    clock.advance(0.1)
    assert done.called
    closing.callback([])  # closing late changes nothing and raises nothing
    assert not clock.getDelayedCalls()


def test_crawls_download_http_and_https_through_it():
    handlers = scrapy_settings(load_options(None))["DOWNLOAD_HANDLERS"]
    path = f"{ChipwatchHTTPDownloadHandler.__module__}.{ChipwatchHTTPDownloadHandler.__name__}"
    assert handlers["http"] == handlers["https"] == path
