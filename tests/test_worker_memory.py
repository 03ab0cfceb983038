"""bench/worker_memory.py: a worker's memories read as it replays the memory run's pages."""
from archive.urls import page_canonical_url
from bench.worker_memory import memories, replay
from testbed.bench_site import HOST


def test_a_short_replay_reports_the_worker_s_memory_at_each_count():
    page_canonical_url.cache_clear()  # (other tests read pages in this process too)
    rows = list(replay(site_pages=50, pages=6, at=[2, 6, 99], host=HOST, seed=3))
    assert [row["pages"] for row in rows] == [2, 6]  # (never 99 pages: the replay has 6)
    for row in rows:
        assert 10 < row["RssAnon"] < row["VmRSS"]
        assert set(memories()) < set(row)
    last = rows[-1]
    assert last["term_rows"] > 100 and last["counter_tokens"] > 50  # (the topic measure ran)
    assert last["page_canonical_url"] == 6 and last["line_words"] > 0  # (each page read, its article hashed)
    assert last["counter_tokens"] >= rows[0]["counter_tokens"]
