"""Keep the cyclic garbage collector's cost per page flat as the crawl's long-lived objects grow.

Why (issue #25, measured on `make bench-scale`): CPython starts a full
collection after every 10 collections of the middle generation unless fewer
objects were promoted since the last one than a quarter of those that
survived it. A crawl promotes ~500 objects a page (everything still in
flight after a few hundred allocations: requests, responses, items waiting
for their workers, the corpus order or a checkpoint), most of which die soon
after, so that guard never holds: a full collection ran every ~150 pages,
and each one walked every object the process holds — the frontier's
requests, the corpus's documents, the run's dedupe state. Its CPU per page
grew with them, 0.9 → 2.2 ms a page in 10,000 articles (docs/scale.md), and
without end as the corpus a crawl opens grows.

`GenerationalFreeze` keeps the collector's work per page bounded: after each
full collection, what survived it is moved out of the collector's reach
(`gc.freeze()`), so the next full collections walk only what was promoted
since (bounded by the promotion rate, not by the heap). Frozen objects are
still freed by reference counting; only garbage cycles among them wait. So
once as many objects have been frozen since the last complete walk as that
walk found alive, all are handed back (`gc.unfreeze()`) and the next full
collection walks everything once more, then freezes what survived. The heap
is walked in full only after it has (at most) doubled: amortized, a constant
number of object visits per object promoted, whatever the heap's size, and
cyclic garbage waits at most as long as the heap takes to double.

`GC_YOUNG_THRESHOLD` (docs/performance.md, session 12): the youngest generation is collected
once container objects allocated exceed those freed by this many, not Python's 700. A page's
objects live as long as its requests are in flight (~15-50 pages), so the crawl's count rose
past 700 about every other page, and each collection walked every page in flight, promoted it,
and walked it again in the middle generation: 0.71-0.72 ms of the crawler's CPU a page, nearly
all on the event loop (measured). Past 10,000 it rose once or twice in 800 pages (0.08-0.09 ms
a page). Cyclic garbage, which only a collection frees, is what the count then waits for: at
most ~10,000 objects of it (and what they hold) instead of 700.
"""
from __future__ import annotations

import atexit
import gc

from scrapy import signals
from scrapy.exceptions import NotConfigured


class GenerationalFreeze:
    """Freezes the survivors of each full collection; unfreezes once as many were frozen since the last walk."""

    def __init__(self):
        self.base = 0  # objects alive after the last full collection that walked everything
        self.since = 0  # objects frozen after the full collections since that walk
        self.walks = 0  # full collections that walked everything
        self.partial = 0  # full collections that walked only what was promoted since the last freeze
        self._walk_next = True  # nothing frozen by us: the next full collection walks everything
        self._frozen_before = 0

    def start(self) -> None:
        self._frozen_before = gc.get_freeze_count()
        if self._collected not in gc.callbacks:
            gc.callbacks.append(self._collected)

    def stop(self) -> None:
        """Hand back what was frozen (for a later crawl in this process), unless something else
        had frozen objects before: those cannot be told from ours."""
        if self._collected in gc.callbacks:
            gc.callbacks.remove(self._collected)
        if not self._frozen_before:
            gc.unfreeze()
        self._walk_next = True

    def _collected(self, phase: str, info: dict) -> None:
        """gc callback. Runs in the collector's "stop" phase (in any thread, the GIL held, no
        collection can nest): it moves generation lists and builds one list of the survivors."""
        if phase != "stop" or info["generation"] != 2:
            return
        survivors = len(gc.get_objects(generation=2))  # the younger generations are empty now
        if self._walk_next:
            self.base, self.since, self._walk_next = survivors, 0, False
            self.walks += 1
        else:
            self.since += survivors
            self.partial += 1
        if self.since >= self.base:  # the heap may have doubled since the last walk: walk it all next time
            gc.unfreeze()
            self._walk_next = True
        else:
            gc.freeze()


class GcFreeze:
    """Extension (`GC_FREEZE`, `GC_YOUNG_THRESHOLD`): the crawl's full collections under
    `GenerationalFreeze`, and its young ones less often; both undone when the engine stops."""

    def __init__(self, crawler):
        self.stats = crawler.stats
        self.policy = GenerationalFreeze() if crawler.settings.getbool("GC_FREEZE") else None
        self.young = max(0, crawler.settings.getint("GC_YOUNG_THRESHOLD"))  # 0: Python's own
        self._thresholds: tuple[int, ...] | None = None  # before the crawl, to restore

    @classmethod
    def from_crawler(cls, crawler):
        extension = cls(crawler)
        if extension.policy is None and not extension.young:
            raise NotConfigured
        crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_started(self) -> None:
        if self.young:
            self._thresholds = gc.get_threshold()
            gc.set_threshold(self.young, *self._thresholds[1:])
        if self.policy is not None:
            self.policy.start()

    def engine_stopped(self) -> None:
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None
        if self.policy is not None:
            self.policy.stop()
            self.stats.set_value("gc/full_walks", self.policy.walks)
            self.stats.set_value("gc/partial_walks", self.policy.partial)


def freeze_at_exit() -> None:
    """At the interpreter's exit, move what the process still holds out of the collector's reach.

    Why: as it exits, Python clears the modules and collects the garbage that makes, walking every
    object a finished crawl still holds (its caches, fingerprints, frontiers, Scrapy's and Twisted's
    objects): 170-290 ms of the main thread's CPU after a 1,000-page crawl had closed, more than its idle
    releases and closing together (docs/performance.md, session 19). Frozen objects are still freed by
    reference counting as the modules are cleared; only reference cycles among them are left to the
    operating system, whose finalizers Python does not promise to run at exit anyway: the crawl closes
    its files, databases, WARC writer and workers itself before the command returns. Registered once,
    after the crawl: the atexit handlers registered before it (logging's, multiprocessing's) still run
    after it, and what they make is collected as before."""
    global _freeze_registered
    if not _freeze_registered:
        atexit.register(gc.freeze)
        _freeze_registered = True


_freeze_registered = False
