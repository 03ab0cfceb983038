"""The scheduler's queue hands out pages first and page requisites on a budget of their own (crawler/requisite_queue.py)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import scrapy
from scrapy.squeues import FifoMemoryQueue, PickleFifoDiskQueue
from scrapy.utils.test import get_crawler

from crawler.requisite_queue import PagesFirstPriorityQueue
from crawler.requisites import META


def _crawler(active: set, total: int = 6, budget: int = 2):
    crawler = get_crawler(settings_dict={"CONCURRENT_REQUESTS": total, "REQUISITES_CONCURRENT_REQUESTS": budget})
    crawler.engine = SimpleNamespace(downloader=SimpleNamespace(active=active))
    return crawler


def page(n: int, priority: int = 0) -> scrapy.Request:
    return scrapy.Request(f"https://nhandan.vn/bai-{n}.html", priority=priority)


def requisite(n: int) -> scrapy.Request:
    return scrapy.Request(f"https://image.nhandan.vn/{n}.jpg", priority=-10, meta={META: "image"})


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
