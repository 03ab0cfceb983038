"""The download handler's per-response signals, sent only while someone listens.

Scrapy's HTTP/1.1 handler sends `headers_received` once a response and `bytes_received` once a
read of its body (~5 a page in the default crawl) through `send_catch_log`, whether or not any
receiver is connected, and builds a Scrapy `Headers` of the response only to pass it to the first.
No component of this crawler listens to either. The handler's agent and body reader use the
crawler for nothing but those two sends (`check_stop_download`: `crawler.signals`,
`crawler.spider`), so they are given `AgentCrawler`, whose signals skip a send that has no
receiver. Receivers are looked up at every send, as `send_catch_log` does: one connected later
(an extension, a user's `StopDownload` handler) gets every signal from then on.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydispatch.dispatcher import Any as AnySignal
from pydispatch.dispatcher import getReceivers

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.signalmanager import SignalManager


class HeardSignals:
    """A crawler's `SignalManager` for sending: a send with no receiver connected is skipped."""

    __slots__ = ("_signals",)

    def __init__(self, signals: SignalManager):
        self._signals = signals

    def heard(self, signal: Any, sender: Any = None) -> bool:
        """Whether a send would reach a receiver: pydispatch's four tables `send_catch_log` reads
        (this sender or any, this signal or any). A dead weak reference still counts: the send then
        goes ahead and finds it dead, as before."""
        sender = self._signals.sender if sender is None else sender
        return bool(getReceivers(sender, signal) or getReceivers(sender, AnySignal)
                    or getReceivers(AnySignal, signal) or getReceivers(AnySignal, AnySignal))

    def send_catch_log(self, signal: Any, **kwargs: Any) -> list[tuple[Any, Any]]:
        """`SignalManager.send_catch_log`; what it returns when nobody listens (an empty list)
        without building the receivers' generators."""
        if not self.heard(signal, kwargs.get("sender")):
            return []
        return self._signals.send_catch_log(signal, **kwargs)


class AgentCrawler:
    """What Scrapy's HTTP/1.1 agent and body reader read of the crawler: its spider and signals."""

    __slots__ = ("_crawler", "signals")

    def __init__(self, crawler: Crawler):
        self._crawler = crawler
        self.signals = HeardSignals(crawler.signals)

    @property
    def spider(self) -> Any:
        return self._crawler.spider
