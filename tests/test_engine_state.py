"""The engine's private in-flight set, read in one place (crawler/engine_state.py), still exists."""
from unittest.mock import Mock

from scrapy.utils.test import get_crawler

from crawler.engine_state import engine_in_flight, wake_engine


def test_nothing_in_flight_without_an_engine():
    assert engine_in_flight(None) == ()
    assert engine_in_flight(get_crawler()) == ()
    wake_engine(get_crawler())  # no engine yet: nothing to wake, no error


def test_the_pinned_scrapy_still_keeps_the_set_where_we_read_it(monkeypatch):
    """Fails on a Scrapy upgrade that moves `engine._slot.inprogress`: the corpus order bound and the
    Redis acknowledgements would otherwise see an empty set and go wrong quietly."""
    import inspect

    import scrapy.core.engine as engine

    assert "self._slot" in inspect.getsource(engine.ExecutionEngine)
    monkeypatch.setattr(engine, "create_looping_call", Mock())  # needs a running reactor otherwise
    slot = engine._Slot(close_if_idle=False, nextcall=Mock(), scheduler=None)
    assert hasattr(slot, "inprogress") and hasattr(slot, "nextcall")


def test_host_holds_back_reads_the_pinned_downloaders_slots():
    """Fails on a Scrapy upgrade that renames the download slots' `queue` or `latercall`: the requisite
    queue would otherwise never see a throttled host and keep pages waiting behind it."""
    from scrapy import Request
    from scrapy.core.downloader import Downloader, Slot

    from crawler.engine_state import host_holds_back

    downloader = Downloader(get_crawler())
    request = Request("https://cdn.example/a.jpg")
    assert host_holds_back(downloader, request)  # no slot yet: its host has not been reached
    slot = downloader.slots[downloader.get_slot_key(request)] = Slot(concurrency=2, delay=0)
    assert not host_holds_back(downloader, request)  # a free slot: only the places decide
    slot.queue.append((request, Mock()))
    assert host_holds_back(downloader, request)  # the host's concurrency queues it
    slot.queue.clear()
    slot.latercall = Mock()
    assert host_holds_back(downloader, request)  # a download delay runs
