"""The scheduler's queue hands out pages first and page requisites on a budget of their own (crawler/requisite_queue.py)."""
from __future__ import annotations

from collections import deque
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import scrapy
from scrapy.squeues import FifoMemoryQueue, PickleFifoDiskQueue
from scrapy.utils.test import get_crawler

from crawler.requisite_queue import STALLED, PagesFirstPriorityQueue
from crawler.requisites import META, is_requisite


class Downloader:
    """What the queue reads of Scrapy's downloader: the requests in flight and the hosts' download slots."""

    def __init__(self, active: set):
        self.active = active
        self.slots: dict[str, SimpleNamespace] = {}

    @staticmethod
    def get_slot_key(request: scrapy.Request) -> str:
        return urlsplit(request.url).hostname

    def slot(self, host: str, *, holding: bool = False) -> None:
        """`host`'s slot, `holding` requests back (per-host concurrency reached, or a delay)."""
        self.slots[host] = SimpleNamespace(queue=deque([object()] if holding else []), latercall=None)


def _crawler(active: set, total: int = 6, budget: int = 2, backlog: int = 256):
    crawler = get_crawler(settings_dict={"CONCURRENT_REQUESTS": total, "REQUISITES_CONCURRENT_REQUESTS": budget,
                                         "REQUISITES_BACKLOG": backlog})
    crawler.engine = SimpleNamespace(downloader=Downloader(active))
    return crawler


def page(n: int, priority: int = 0) -> scrapy.Request:
    return scrapy.Request(f"https://nhandan.vn/bai-{n}.html", priority=priority)


def requisite(n: int, host: str = "image.nhandan.vn") -> scrapy.Request:
    return scrapy.Request(f"https://{host}/{n}.jpg", priority=-10, meta={META: "image"})


def test_pages_first_then_requisites_up_to_their_budget():
    active: set = set()
    queue = PagesFirstPriorityQueue(_crawler(active), FifoMemoryQueue, "")
    for n in range(3):
        queue.push(requisite(n))
    queue.push(page(1))
    queue.push(page(2, priority=1))
    assert len(queue) == 5
    taken = []
    while (request := queue.pop()) is not None:
        active.add(request)  # the engine's downloader holds it until it is answered
        taken.append(request.url.rsplit("/", 1)[1])
    # Pages by priority; then two requisites (the budget), the third waits for a free place.
    assert taken == ["bai-2.html", "bai-1.html", "0.jpg", "1.jpg"]
    assert len(queue) == 1
    active.discard(next(r for r in active if r.url.endswith("0.jpg")))
    assert queue.pop().url.endswith("2.jpg")


def test_requisites_are_not_starved_by_waiting_pages():
    """Pages keep CONCURRENT_REQUESTS - budget places; past that a requisite goes next, up to its budget."""
    active = {page(100 + n) for n in range(4)}  # 6 - 2: the pages' own share is full
    queue = PagesFirstPriorityQueue(_crawler(active), FifoMemoryQueue, "")
    queue.push(page(1))
    queue.push(requisite(1))
    first = queue.pop()
    assert first.meta.get(META) == "image"
    active.add(first)
    active.add(requisite(99))  # the budget (2) is now spent
    assert queue.pop().url.endswith("bai-1.html")  # pages take what is left
    assert queue.pop() is None and len(queue) == 0


def test_requisites_wait_when_their_budget_is_spent_and_no_page_waits():
    active = {requisite(90), requisite(91)}
    queue = PagesFirstPriorityQueue(_crawler(active), FifoMemoryQueue, "")
    queue.push(requisite(1))
    assert queue.pop() is None
    assert len(queue) == 1  # still pending: the engine does not treat the crawl as idle


def test_disk_queue_resumes_both_parts(tmp_path):
    """With JOBDIR the two parts are kept in their own directories and resumed from close()'s state."""
    queue = PagesFirstPriorityQueue(_crawler(set()), PickleFifoDiskQueue, str(tmp_path))
    queue.push(page(1))
    queue.push(requisite(1))
    state = queue.close()
    assert state == {"pages": [0], "requisites": [10]}
    resumed = PagesFirstPriorityQueue(_crawler(set()), PickleFifoDiskQueue, str(tmp_path), state)
    assert len(resumed) == 2
    assert [resumed.pop().url, resumed.pop().url] == ["https://nhandan.vn/bai-1.html", "https://image.nhandan.vn/1.jpg"]
    with pytest.raises(ValueError):
        PagesFirstPriorityQueue(_crawler(set()), PickleFifoDiskQueue, str(tmp_path), [0])


def test_pages_keep_half_the_places_whatever_the_budget():
    queue = PagesFirstPriorityQueue(_crawler(set(), total=8, budget=8), FifoMemoryQueue, "")
    assert (queue.budget, queue.pages_reserved) == (4, 4)
    unlimited = PagesFirstPriorityQueue(_crawler(set(), total=0, budget=8), FifoMemoryQueue, "")
    assert unlimited.budget == 8


def test_one_place_in_all_goes_to_a_waiting_page_first():
    """CONCURRENT_REQUESTS=1: no place of their own; a requisite goes only when no page waits."""
    queue = PagesFirstPriorityQueue(_crawler(set(), total=1, budget=8), FifoMemoryQueue, "")
    assert (queue.budget, queue.pages_reserved) == (0, 1)
    queue.push(requisite(1))
    queue.push(page(1))
    assert queue.pop().url.endswith("bai-1.html")
    assert queue.pop().url.endswith("1.jpg")


def test_a_backlog_past_its_bound_goes_first_and_pages_wait_for_it():
    """Past REQUISITES_BACKLOG, requisites fill their budget first; while their host takes them as
    fast as they come, pages wait for them instead of adding more."""
    active: set = set()
    crawler = _crawler(active, backlog=1)
    crawler.engine.downloader.slot("image.nhandan.vn")
    queue = PagesFirstPriorityQueue(crawler, FifoMemoryQueue, "")
    queue.push(page(1))
    for n in range(4):
        queue.push(requisite(n))
    taken = []
    while (request := queue.pop()) is not None:
        active.add(request)
        taken.append(request.url.rsplit("/", 1)[1])
    assert taken == ["0.jpg", "1.jpg"]  # the budget; the page waits (2 requisites > 1 still wait)
    active.discard(next(r for r in active if r.url.endswith("0.jpg")))
    assert queue.pop().url.endswith("2.jpg")  # then 1 waits: within the bound, pages first again
    assert queue.pop().url.endswith("bai-1.html")
    assert crawler.stats.get_value("requisites/waiting_max") == 4


def test_a_backlog_held_back_by_its_host_does_not_hold_the_pages():
    """A throttled CDN (its slot queues requests) keeps its budget and no more: pages go on."""
    active = {requisite(90), requisite(91)}
    crawler = _crawler(active, backlog=0)
    crawler.engine.downloader.slot("image.nhandan.vn", holding=True)
    queue = PagesFirstPriorityQueue(crawler, FifoMemoryQueue, "")
    queue.push(requisite(1))
    queue.push(page(1))
    assert queue.pop().url.endswith("bai-1.html")
    assert queue.pop() is None and len(queue) == 1
    crawler.engine.downloader.slots.clear()  # a new host, waiting for its robots.txt: also its host's doing
    queue.push(page(2))
    assert queue.pop().url.endswith("bai-2.html")


def test_a_requisite_that_makes_no_progress_does_not_hold_the_pages_for_long():
    """A dead or very slow host (robots.txt pending, a stalled transfer): past STALLED s, pages go on."""
    active = {requisite(90), requisite(91)}
    crawler = _crawler(active, backlog=0)
    crawler.engine.downloader.slot("image.nhandan.vn")
    queue = PagesFirstPriorityQueue(crawler, FifoMemoryQueue, "")
    now = 100.0
    queue.clock = lambda: now
    queue.push(requisite(1))
    queue.push(page(1))
    assert queue.pop() is None  # both requisites just seen: the page waits for one of their places
    now += STALLED / 2
    assert queue.pop() is None
    now += STALLED
    assert queue.pop().url.endswith("bai-1.html")


def _crawl(*, backlog: int, throttled: bool = False, pages: int = 600, shared: bool = False) -> dict:
    """A CPU-bound crawl in miniature: each step the engine fills the downloader (16 places, 8 for
    requisites) and the two oldest requests in flight are answered; each page names two requisites of
    its own and two more pages. `throttled`: the image host answers requisites only every fourth step
    and its slot queues the others. `shared`: the photos are on the page host, whose slot queues
    requests (its per-host concurrency, below the 16 places)."""
    active: dict[scrapy.Request, int] = {}
    crawler = _crawler(active.keys(), total=16, budget=8, backlog=backlog)
    photo_host = "nhandan.vn" if shared else "image.nhandan.vn"
    crawler.engine.downloader.slot(photo_host, holding=throttled or shared)
    queue = PagesFirstPriorityQueue(crawler, FifoMemoryQueue, "")
    clock = [0.0]
    queue.clock = lambda: clock[0]  # a step is a millisecond, whatever this machine's speed
    queue.push(page(0))
    named, fetched = 1, {"pages": 0, "requisites": 0}
    per_window, waiting, most_requisites_in_flight = [], [], 0
    for step in range(100_000):
        clock[0] = step / 1000
        while len(active) < 16 and (request := queue.pop()) is not None:
            active[request] = step
        most_requisites_in_flight = max(most_requisites_in_flight, sum(map(is_requisite, active)))
        answerable = [r for r in active if not (throttled and is_requisite(r) and step % 4)]
        for request in sorted(answerable, key=active.get)[:2]:
            del active[request]
            if is_requisite(request):
                fetched["requisites"] += 1
                continue
            fetched["pages"] += 1
            n = int(request.url.rsplit("-", 1)[1].split(".")[0])
            queue.push(requisite(2 * n, photo_host))
            queue.push(requisite(2 * n + 1, photo_host))
            for _ in range(2):
                if named < pages:
                    queue.push(page(named))
                    named += 1
            pages_done_at = step
            if fetched["pages"] % 100 == 0:
                per_window.append(fetched["requisites"])
                waiting.append(len(queue.queues["requisites"]))
        if not active and not len(queue):
            break
    windows = [round((b - a) / 100, 2) for a, b in zip([0, *per_window], per_window)]
    return {"requisites_per_page": windows, "waiting": waiting, "pages_done_at": pages_done_at, "steps": step,
            "most_requisites_in_flight": most_requisites_in_flight}


def test_requisites_keep_pace_with_the_pages():
    """Two requisites a page: past the ramp-up, every 100 pages fetched come with ~200 requisites and
    the backlog stays near its bound. Without the bound (the queue before), requisites got half the
    places and fell behind, one a page, their backlog growing with the crawl."""
    bounded = _crawl(backlog=32)
    assert all(1.8 <= ratio <= 2.2 for ratio in bounded["requisites_per_page"][1:]), bounded
    assert max(bounded["waiting"]) <= 32 + 2 * 16, bounded
    unbounded = _crawl(backlog=10**9)
    assert all(ratio <= 1.2 for ratio in unbounded["requisites_per_page"][1:]), unbounded
    assert unbounded["waiting"][-1] > 400 and unbounded["waiting"] == sorted(unbounded["waiting"]), unbounded


def test_photos_on_the_page_host_hold_the_next_page_past_the_backlog():
    """Photos served by the page host (per-host concurrency 4 and AutoThrottle by default) share its download
    slot, whose queue (per-host concurrency, a delay) our own pages fill. Past the bound, a page for
    that host waits for the requisites, as for a place; a page for another host still goes."""
    active = {requisite(90, "nhandan.vn"), requisite(91, "nhandan.vn")}
    crawler = _crawler(active, backlog=0)
    crawler.engine.downloader.slot("nhandan.vn", holding=True)
    queue = PagesFirstPriorityQueue(crawler, FifoMemoryQueue, "")
    queue.push(requisite(1, "nhandan.vn"))
    queue.push(page(1))
    assert queue.pop() is None and len(queue) == 2  # the page waits: the host's turns go to the photos
    queue.push(scrapy.Request("https://thoidai.com.vn/bai-2.html", priority=1))
    assert queue.pop().url == "https://thoidai.com.vn/bai-2.html"  # another host's page is not held
    assert queue.pop() is None


def test_a_stalled_photo_on_the_page_host_does_not_hold_the_pages_for_long():
    """A slow photo path of the page host itself (its pages fast): past STALLED s, pages go on, as for a
    stalled CDN; before it, they wait for the photos' places."""
    active = {requisite(90, "nhandan.vn"), requisite(91, "nhandan.vn")}
    crawler = _crawler(active, backlog=0)
    crawler.engine.downloader.slot("nhandan.vn", holding=True)
    queue = PagesFirstPriorityQueue(crawler, FifoMemoryQueue, "")
    now = 100.0
    queue.clock = lambda: now
    queue.push(requisite(1, "nhandan.vn"))
    queue.push(page(1))
    assert queue.pop() is None
    now += STALLED * 1.5
    assert queue.pop().url.endswith("bai-1.html")


def test_photos_on_the_page_host_keep_pace_with_the_pages():
    """With the page host's slot queueing both (photos on the page host), requisites
    keep pace and their backlog stays near its bound; judged by the slot alone, as before, the host
    looked like a throttled CDN, pages went on, and the requisites fell behind, one a page."""
    shared = _crawl(backlog=32, shared=True)
    assert all(1.8 <= ratio <= 2.2 for ratio in shared["requisites_per_page"][1:]), shared
    assert max(shared["waiting"]) <= 32 + 2 * 16, shared
    with pytest.MonkeyPatch.context() as patch:  # the rule before: no page host told apart
        patch.setattr(PagesFirstPriorityQueue, "_next_page_host", lambda self: None)
        before = _crawl(backlog=32, shared=True)
    assert all(ratio <= 1.2 for ratio in before["requisites_per_page"][1:]), before
    assert before["waiting"][-1] > 400, before


def test_a_throttled_host_never_takes_more_than_its_budget_nor_slows_the_pages():
    """The image host's slot queues requisites (its politeness): their backlog grows past the bound, but
    pages do not wait for it: they are fetched as soon as with the queue before (no bound)."""
    throttled = _crawl(backlog=32, throttled=True)
    before = _crawl(backlog=10**9, throttled=True)
    assert throttled["most_requisites_in_flight"] == 8  # REQUISITES_CONCURRENT_REQUESTS: pages keep the rest
    assert throttled["requisites_per_page"][-1] < 1 and throttled["waiting"][-1] > 400, throttled
    assert throttled["pages_done_at"] == before["pages_done_at"]
    assert throttled["steps"] > 2 * throttled["pages_done_at"]  # the requisites are fetched after the pages


def test_the_waiting_counts_are_the_queues_lengths_through_a_crawl_of_many_priorities():
    """The queue counts each part's waiting requests instead of asking Scrapy's queue, which sums one
    queue a priority (a topic crawl's pages have hundreds): the counts stay the parts' lengths through
    random pushes and pops, and the choices are those the lengths give."""
    import random

    rng = random.Random(17)
    active: set = set()
    queue = PagesFirstPriorityQueue(_crawler(active, total=16, budget=8, backlog=5), FifoMemoryQueue, "")
    taken = []
    for step in range(3000):
        for _ in range(rng.randrange(3)):
            if rng.random() < 0.5:
                queue.push(page(step, priority=rng.randrange(-500, 1000)))
            else:
                queue.push(requisite(step))
        for _ in range(rng.randrange(4)):
            request = queue.pop()
            if request is not None:
                active.add(request)
                taken.append(request)
        for request in rng.sample(sorted(active, key=id), k=min(len(active), rng.randrange(3))):
            active.discard(request)
        assert queue.waiting == {part: len(q) for part, q in queue.queues.items()}
        assert len(queue) == sum(len(q) for q in queue.queues.values())
    assert len(taken) > 1000 and any(map(is_requisite, taken)) and not all(map(is_requisite, taken))
    while active or len(queue):
        active.clear()
        while (request := queue.pop()) is not None:
            active.add(request)
    assert queue.waiting == {"pages": 0, "requisites": 0}


def test_a_request_a_disk_queue_cannot_store_or_load_leaves_the_counts_right(tmp_path):
    queue = PagesFirstPriorityQueue(_crawler(set()), PickleFifoDiskQueue, str(tmp_path))
    unpicklable = scrapy.Request("https://nhandan.vn/bai-9.html", meta={"x": lambda: None})
    with pytest.raises(ValueError):
        queue.push(unpicklable)
    queue.push(page(1))
    queue.push(page(2))
    assert queue.waiting == {"pages": 2, "requisites": 0}
    pages = queue.queues["pages"]
    real_pop = pages.pop

    def failing_pop():
        real_pop()  # taken off the disk, then fails to load
        raise ValueError("cannot load")

    pages.pop = failing_pop
    with pytest.raises(ValueError):
        queue.pop()
    pages.pop = real_pop
    assert queue.waiting == {"pages": 1, "requisites": 0} and len(queue) == 1
    assert queue.pop().url.endswith("bai-2.html") and queue.pop() is None



@pytest.mark.parametrize("disk", [False, True])
def test_the_next_priority_is_the_one_scrapys_queue_picks(tmp_path, monkeypatch, disk):
    """Each part finds its next priority as the lowest key of its queues, not by asking every queue
    whether it is empty: random pushes (hundreds of priorities, start requests among them, requests a
    disk queue cannot store) and pops hand out the same requests in the same order as Scrapy's own
    ScrapyPriorityQueue, with the same current priority after every step; and most updates take the
    lowest key without Scrapy's walk in memory (the test fails if the part's queue stops being the subclass)."""
    import random

    from scrapy.pqueues import ScrapyPriorityQueue

    from crawler.requisite_queue import _LowestKeyPriorityQueue

    rng = random.Random(23 + disk)
    downstream = PickleFifoDiskQueue if disk else FifoMemoryQueue
    ours = PagesFirstPriorityQueue(_crawler(set()), downstream, str(tmp_path / "ours") if disk else "",
                                   start_queue_cls=FifoMemoryQueue).queues["pages"]
    theirs = ScrapyPriorityQueue(_crawler(set()), downstream, str(tmp_path / "theirs") if disk else "",
                                 start_queue_cls=FifoMemoryQueue)
    calls = {"updates": 0, "walks": 0}
    walk, update = ScrapyPriorityQueue._update_curprio, _LowestKeyPriorityQueue._update_curprio

    def counted_walk(self):
        calls["walks"] += self is ours
        walk(self)

    def counted_update(self):
        calls["updates"] += 1
        update(self)

    monkeypatch.setattr(ScrapyPriorityQueue, "_update_curprio", counted_walk)
    monkeypatch.setattr(_LowestKeyPriorityQueue, "_update_curprio", counted_update)
    for step in range(600 if disk else 4000):  # (a disk queue is a directory a priority: slow)
        for _ in range(rng.randrange(3)):
            meta = {"is_start_request": True} if rng.random() < 0.05 else {}
            if disk and rng.random() < 0.02:
                meta["x"] = lambda: None  # a disk queue cannot store it: its new queue stays empty
            priority = rng.randrange(-300, 300) if rng.random() < 0.8 else rng.randrange(3)
            request = scrapy.Request(f"https://tinbai.example.vn/bai-{step}.html", priority=priority, meta=meta)
            refused = []
            for queue in (ours, theirs):
                try:
                    queue.push(request)
                    refused.append(False)
                except ValueError:
                    refused.append(True)
            assert refused[0] == refused[1]
        for _ in range(rng.randrange(4)):
            a, b = ours.pop(), theirs.pop()
            assert (a and a.url) == (b and b.url)
        assert ours.curprio == theirs.curprio
    while (a := ours.pop()) is not None:
        assert a.url == theirs.pop().url and ours.curprio == theirs.curprio
    assert theirs.pop() is None
    assert calls["updates"] > (200 if disk else 1000)
    if not disk:  # (on disk, the empty queues of refused requests stay, and Scrapy's walk skips them)
        assert calls["walks"] < calls["updates"] / 2
