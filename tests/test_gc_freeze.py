"""crawler/extensions/gc_freeze.py: full collections walk what is new, the whole heap once it may have doubled."""
from __future__ import annotations

import gc
import weakref

import pytest

from crawler.extensions.gc_freeze import GenerationalFreeze


class Node:
    def __init__(self):
        self.me = self  # a reference cycle: only the cyclic collector frees it


@pytest.fixture
def policy():
    """The policy, with only the tests' own collections (gc.collect) running: automatic ones would
    come at any allocation, as many as the rest of the suite's heap makes."""
    assert gc.get_freeze_count() == 0
    policy = GenerationalFreeze()
    policy.start()
    gc.disable()
    try:
        yield policy
    finally:
        gc.enable()
        policy.stop()
    assert gc.get_freeze_count() == 0  # everything handed back


def test_full_collections_walk_only_what_is_new(policy):
    held = [[n] for n in range(50_000)]  # long-lived state (the frontier, the corpus)
    gc.collect()
    assert policy.walks == 1 and policy.base >= len(held)
    assert gc.get_freeze_count() >= len(held)  # out of the next collections' reach
    newer = [[n] for n in range(1_000)]
    gc.collect()
    assert (policy.walks, policy.partial) == (1, 1)
    assert 1_000 <= policy.since < len(held)  # this collection walked the new objects only
    assert len(gc.get_objects(generation=2)) == 0  # and froze them too
    del held, newer


def test_cycles_among_frozen_objects_are_freed_once_the_heap_may_have_doubled(policy):
    base = [[n] for n in range(20_000)]
    cycle = Node()
    freed = []
    weakref.finalize(cycle, freed.append, True)
    gc.collect()  # walks everything, freezes the cycle with the rest
    del cycle
    gc.collect()
    assert not freed  # frozen: no collection looks at it yet
    grown, step = [], policy.base // 4 + 1
    while policy.walks == 1:  # new long-lived objects, frozen after each collection
        grown.append([[n] for n in range(step)])
        gc.collect()
        assert policy.partial <= 5  # the heap (as the last walk found it) doubled: walked again
    assert freed == [True]  # the walk after the heap doubled freed it
    assert policy.since == 0 and policy.base >= len(base) + step * len(grown)
    del base, grown


def test_stop_hands_everything_back():
    policy = GenerationalFreeze()
    policy.start()
    gc.collect()
    assert gc.get_freeze_count() > 0
    policy.stop()
    assert gc.get_freeze_count() == 0 and policy._collected not in gc.callbacks


def test_extension_follows_the_engine_and_the_setting():
    from scrapy import signals
    from scrapy.exceptions import NotConfigured
    from scrapy.utils.test import get_crawler

    from crawler.extensions.gc_freeze import GcFreeze

    with pytest.raises(NotConfigured):
        GcFreeze.from_crawler(get_crawler(settings_dict={"GC_FREEZE": False}))
    crawler = get_crawler(settings_dict={"GC_FREEZE": True})
    extension = GcFreeze.from_crawler(crawler)
    crawler.signals.send_catch_log(signals.engine_started)
    assert extension.policy._collected in gc.callbacks
    gc.collect()
    crawler.signals.send_catch_log(signals.engine_stopped)
    assert extension.policy._collected not in gc.callbacks and gc.get_freeze_count() == 0
    assert crawler.stats.get_value("gc/full_walks") == 1


def test_young_threshold_set_for_the_crawl_and_restored():
    from scrapy import signals
    from scrapy.exceptions import NotConfigured
    from scrapy.utils.test import get_crawler

    from crawler.extensions.gc_freeze import GcFreeze

    with pytest.raises(NotConfigured):
        GcFreeze.from_crawler(get_crawler(settings_dict={"GC_FREEZE": False, "GC_YOUNG_THRESHOLD": 0}))
    before = gc.get_threshold()
    crawler = get_crawler(settings_dict={"GC_FREEZE": False, "GC_YOUNG_THRESHOLD": 12_345})
    extension = GcFreeze.from_crawler(crawler)
    crawler.signals.send_catch_log(signals.engine_started)
    assert gc.get_threshold() == (12_345, *before[1:])
    assert extension.policy is None and gc.get_freeze_count() == 0
    crawler.signals.send_catch_log(signals.engine_stopped)
    assert gc.get_threshold() == before


def test_what_the_process_holds_is_frozen_at_exit_once_registered():
    """Session 19: after a crawl the command has the interpreter's exit leave its heap out of the
    finalizing collections; the handlers registered before it still run, after it."""
    import subprocess
    import sys

    from tests.conftest import REPO

    code = ("import atexit, gc\n"
            "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count() > 0, flush=True))\n"
            "from crawler.extensions.gc_freeze import freeze_at_exit\n"
            "before = atexit._ncallbacks()\n"
            "freeze_at_exit(); freeze_at_exit()\n"
            "print('registered:', atexit._ncallbacks() - before, 'frozen now:', gc.get_freeze_count() > 0, flush=True)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["registered: 1 frozen now: False", "frozen at exit: True"]


def test_the_crawl_command_freezes_at_exit_after_a_crawl_only(monkeypatch, tmp_path):
    """Once a crawl of the news spider ran; not after `-a help=1` or a refused argument."""
    from types import SimpleNamespace

    from scrapy.commands.crawl import Command as ScrapyCrawlCommand
    from scrapy.utils.project import get_project_settings

    import crawler.commands.crawl as crawl_command

    calls = []
    monkeypatch.setattr(crawl_command, "freeze_at_exit", lambda: calls.append(True))
    monkeypatch.setattr(ScrapyCrawlCommand, "run", lambda self, args, opts: None)  # the crawl itself
    command = crawl_command.Command()
    command.settings = get_project_settings()
    command.settings.setdict({"WARC_DIR": str(tmp_path / "warc"), "CORPUS_DIR": str(tmp_path / "corpus")})
    for spargs in ({"help": "1"}, {"depth": "many"}):
        command.exitcode = 0
        command.run(["news"], SimpleNamespace(spargs=spargs))
        assert calls == []
    command.exitcode = 0
    command.run(["news"], SimpleNamespace(spargs={"urls": "https://nhandan.vn/"}))
    assert calls == [True]
