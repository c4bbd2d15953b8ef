"""The HTTP download handler: Scrapy's own, closing its connections without a race.

Scrapy 2.19's HTTP11DownloadHandler.close gives the connection pool one second to close and then fires
the pool's Deferred itself; it cancels that timer only once the awaiting coroutine resumes, a loop turn
later. When the pool's last connection goes in the same reactor turn as the timer (a crawl that ends
while a stalled server's download is cancelled by its timeout), the timer fires a Deferred that has
already fired, and Twisted logs AlreadyCalledError with a traceback in the middle of the crawl's output.
Here the timer is cancelled the moment the pool's Deferred fires, as older Scrapy releases did.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.base import DelayedCall
from twisted.internet.defer import Deferred


class Clock(Protocol):
    """The reactor's timer, or twisted.internet.task.Clock in the tests."""

    def callLater(self, delay: float, callable: Callable[..., object], *args: object) -> DelayedCall: ...


def closed_within(closing: Deferred[Any], seconds: float, clock: Clock) -> Deferred[Any]:
    """A Deferred that fires once: when `closing` fires, or after `seconds`, whichever comes first."""
    done: Deferred[Any] = Deferred()

    def finish(result: object) -> None:
        if not done.called:
            done.callback(None)
        if timer.active():
            timer.cancel()

    timer = clock.callLater(seconds, finish, None)
    closing.addBoth(finish)
    return done


class ChipwatchHTTPDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler whose close waits at most `_disconnect_timeout` for the pool, once."""

    async def close(self) -> None:
        from twisted.internet import reactor  # imported late: importing it early would install the wrong reactor

        closing = self._pool.closeCachedConnections()
        await maybe_deferred_to_future(closed_within(closing, self._disconnect_timeout, reactor))
