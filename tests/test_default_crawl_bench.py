"""bench/default_crawl.py accounts for the machine's cores: the page server apart from the crawler."""
import threading
import time

from bench.default_crawl import PROFILE_WINDOWS, cores_spent, loop_phases, thread_names, window_mark_due
from bench.proc_cpu import machine_cpu, own_cpu


def _burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_own_cpu_tells_a_serving_thread_from_the_benchs_own():
    me = {threading.main_thread().native_id}
    total_before, own_before = own_cpu(me)
    server = threading.Thread(target=_burn, args=(0.3,))
    server.start()
    server.join()  # ended: its seconds stay in the process's total
    _burn(0.1)
    total_after, own_after = own_cpu(me)
    assert 0.05 <= own_after - own_before <= 0.25
    serving = (total_after - own_after) - (total_before - own_before)
    assert 0.2 <= serving <= 0.45


def test_machine_cpu_counts_the_cores_time():
    before, start = machine_cpu(), time.monotonic()
    _burn(0.2)
    after, wall = machine_cpu(), time.monotonic() - start
    spent = {key: after[key] - before[key] for key in before}
    assert spent["busy"] >= 0.15 and min(spent.values()) >= 0
    assert sum(spent.values()) <= wall * 64 + 0.1  # all cores' time, no more


def test_cores_spent_splits_the_window_and_adds_up_to_the_busy_time():
    low = {"served": 100, "threads": {}, "loop": 1.0, "children": 2.0, "writer": 0.1, "crawler": 3.0,
           "bench": 1.0, "watcher": 0.2, "not_serving": 0.3, "busy": 10.0, "idle": 5.0, "steal": 0.0}
    high = {**low, "served": 200, "crawler": 4.0, "children": 4.5, "bench": 1.2, "watcher": 0.25,
            "not_serving": 0.36, "busy": 14.0, "idle": 5.5, "steal": 0.1}
    cores = cores_spent(low, high, 100)
    assert cores["crawler"] == 10.0 and cores["below_crawler"] == 25.0
    assert cores["server"] == 1.4 and cores["bench_watcher"] == 0.5 and cores["speed_probe"] == 0.1
    assert cores["others"] == 3.0  # 40 ms of busy cores a page, less everything counted
    assert cores["idle"] == 5.0 and cores["steal"] == 1.0 and cores["idle_share"] == round(0.5 / 4.6, 3)


def test_thread_names_from_py_spy_raw_samples(tmp_path):
    raw = tmp_path / "raw.txt"
    raw.write_text("thread (7963): MainThread;run (a.py:1);f (b.py:2) 12\n"
                   "thread (8003): corpus-writer 1\n"
                   "thread (0x7f00aa, 8004): PoolThread-twisted.internet.reactor-0;g (c.py:3) 2\n")
    assert thread_names(raw) == {7963: "MainThread", 8003: "corpus-writer",
                                 8004: "PoolThread-twisted.internet.reactor-0"}


def test_loop_phases_cover_the_whole_crawl_from_its_first_page():
    loop = {0: 1.0, 1: 1.5, 10: 1.6, 50: 1.8, 90: 2.0, 100: 2.1}  # pages served → the reactor's CPU seconds
    samples = [{"served": served, "loop": cpu} for served, cpu in loop.items()]
    samples.append({"served": 100, "loop": 2.6})  # idle at the end: nothing more served, the loop still busy
    phases = loop_phases(samples, 100)
    assert phases["loop_cpu_ms_by_phase"] == {"first_10pct": 100.0, "middle_80pct": 400.0, "last_10pct": 100.0,
                                              "after_last_page": 500.0}
    assert phases["loop_cpu_ms_per_page_whole"] == 11.0  # 1.1 s from the first page on (start-up left out)


def test_a_warc_writer_keeps_its_role_between_two_files(tmp_path):
    """The benches' split of CPU and memory by process: the writer holds no WARC file between two."""
    import os

    from bench.proc_cpu import WarcWriterPids

    writers, me = WarcWriterPids(), os.getpid()
    assert not writers.check(me) and me not in writers
    with open(tmp_path / "a.warc.gz", "wb"):
        assert writers.check(me)
    assert writers.check(me) and me in writers and list(writers) == [me]  # the file closed: still the writer


def _marks(window, served_by_sample, pages):
    """The pages served at each mark `watch` sends, sampling `served_by_sample` in turn."""
    marks = []
    for served in served_by_sample:
        if window_mark_due(PROFILE_WINDOWS[window], len(marks), served, pages):
            marks.append(served)
    return marks


def test_profile_windows_start_and_stop_where_they_say():
    served = [0, 0, 1, 5, 9, 10, 11, 50, 89, 90, 95, 100, 100]  # a crawl of 100 pages, sampled
    assert _marks("middle", served, 100) == [10, 90]  # the headline's window, as before
    assert _marks("first", served, 100) == [1, 10]  # from the first page served, start-up left out
    assert _marks("end", served, 100) == [90]  # no stop: bench/loop_profile.py dumps at the exit
    assert not window_mark_due(PROFILE_WINDOWS["first"], 0, 0, 5)  # never before a page, however few


def test_a_crawl_whose_workers_failed_any_page_is_not_reported(tmp_path):
    """A harness that broke the workers' pickling once made every page fall back to the event loop,
    and the bench reported its figures as the default configuration's."""
    import pytest

    from bench.default_crawl import refuse_fallback

    refuse_fallback({"corpus/written": 100, "news/analyse_failed": 0}, tmp_path / "crawl.log")  # fine
    for key in ("news/analyse_failed", "pages/extraction_failed", "pages/not_parsed"):
        with pytest.raises(SystemExit, match=key):
            refuse_fallback({"corpus/written": 99, key: 1}, tmp_path / "crawl.log")
