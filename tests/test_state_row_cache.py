"""The crawl state's cache of rows read lately (archive/state/row_cache.py): a `get` answers what a
read of the database would, through every write path (batched or not, merge, forget)."""
import random
import sqlite3

import pytest

from archive.state.batch_writer import BatchWriter
from archive.state.merge import merge_states
from archive.state.row_cache import MISSING, RowCache
from archive.state.store import CrawlState

URLS = [f"https://nhandan.vn/bai-{n}.html" for n in range(12)]


def committed(path, url):
    """The row as the database holds it, read without the cache."""
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT * FROM pages WHERE url = ?", (url,)).fetchone()
    return CrawlState._page(row) if row else None


@pytest.mark.parametrize("batched", [True, False])
def test_get_answers_what_the_database_holds_through_every_write_path(tmp_path, monkeypatch, batched):
    monkeypatch.setattr(BatchWriter, "INTERVAL", 3600)  # batches commit only at flush: reads are deterministic
    other = CrawlState(tmp_path / "other.sqlite", lock=False)
    other.record_fetch(URLS[0], fetch_url=URLS[0], status=200, outcome="new", fetched_at=9e9, etag='"m"')
    other.close()
    state = CrawlState(tmp_path / "state.sqlite", batched=batched)
    rng = random.Random(5)
    hits = 0
    for step in range(600):
        url = rng.choice(URLS)
        action = rng.randrange(9)
        if action == 0:
            state.record_fetch(url if rng.random() < 0.8 else URLS[0], fetch_url=url, status=rng.choice((200, 304, 404)), outcome="new",
                               etag=f'"{step}"', capture={"uri": url, "date": "2026-01-01T00:00:00Z",
                                                          "payload_digest": f"sha1:{step}"})
        elif action == 1:
            state.record_extraction(url, is_article=rng.random() < 0.5, published=rng.choice((None, "2026-01-02")))
        elif action == 2:
            state.record_published_hint(url, f"2025-0{rng.randrange(1, 9)}-01")
        elif action == 3:
            state.flush()
        elif action == 4 and step % 7 == 0:
            state.forget(rng.sample(URLS, 3))
        elif action == 5:
            merge_states(state, tmp_path / "other.sqlite")
        else:
            hits += state._rows.lookup(url)[0] is not MISSING
            assert state.get(url) == committed(state.path, url), step
    state.flush()
    for url in URLS:
        assert state.get(url) == committed(state.path, url)
    assert hits > 20  # the cache did answer
    state.close()


def test_a_read_that_overlapped_a_write_or_preceded_its_commit_is_not_kept():
    cache = RowCache()
    _, epoch = cache.lookup("a")
    cache.writing("a")  # a write began while the row was being read: the read may be the old row
    cache.store([("a", "old")], epoch)
    assert cache.lookup("a")[0] is MISSING
    _, epoch = cache.lookup("a")
    cache.store([("a", "old")], epoch)  # read after the write was queued, before its commit
    assert cache.lookup("a")[0] is MISSING
    cache.written(["a"])
    _, epoch = cache.lookup("a")
    cache.store([("a", "new"), ("b", None)], epoch)
    assert cache.lookup("a")[0] == "new" and cache.lookup("b")[0] is None
    cache.writing(None)  # a write to any row drops them all and keeps none until it ends
    assert cache.lookup("a")[0] is MISSING
    _, epoch = cache.lookup("b")
    cache.store([("b", None)], epoch)
    assert cache.lookup("b")[0] is MISSING
    cache.written([None])
    _, epoch = cache.lookup("b")
    cache.store([("b", None)], epoch)
    assert cache.lookup("b")[0] is None


def test_the_cache_is_bounded_oldest_first():
    cache = RowCache(size=3)
    for n in range(5):
        cache.store([(str(n), n)], cache.lookup(str(n))[1])
    assert [cache.lookup(str(n))[0] for n in range(5)] == [MISSING, MISSING, 2, 3, 4]
