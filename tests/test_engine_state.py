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
