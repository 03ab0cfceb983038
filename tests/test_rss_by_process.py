"""bench/rss_by_process.py: each process of a crawl's tree sampled and named."""
import os
import subprocess
import sys
import time

from bench.rss_by_process import ProcessSampler, crawl_process, role_of, status_mb, summary

FORKSERVER = "python -c from multiprocessing.forkserver import main; main(12, 13, ['__main__'])"
TRACKER = "python -c from multiprocessing.resource_tracker import main;main(9)"


def test_roles_follow_the_tree():
    assert role_of("python -m scrapy crawl news", None, False) == "crawler"
    assert role_of(FORKSERVER, "crawler", False) == "forkserver"
    assert role_of(TRACKER, "crawler", False) == "resource tracker"
    assert role_of(FORKSERVER, "forkserver", False) == "worker"  # (forked: the same command line)
    assert role_of(FORKSERVER, "forkserver", True) == "writer"
    assert role_of("sh -c true", "crawler", False) == "other"


def test_status_of_this_process_and_of_none():
    mine = status_mb(os.getpid())
    assert mine["VmRSS"] > 10 and 0 < mine["RssAnon"] < mine["VmRSS"]
    assert status_mb(2**22 + 12345) is None


def test_the_sampler_sees_a_grandchild_grow_and_the_summary_finds_it():
    # child -> grandchild that takes ~60 MB after a moment, as a worker grows under a crawl.
    grow = ("import time; time.sleep(0.6); x = bytearray(60 * 2**20); x[::4096] = b'x' * len(x[::4096]); "
            "time.sleep(30)")
    code = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grow!r}])"
    child = subprocess.Popen([sys.executable, "-c", code])
    pages = iter(range(10**6))
    try:
        with ProcessSampler(lambda: child.pid, lambda: next(pages), interval=0.05) as sampler:
            deadline = time.monotonic() + 20
            while not sampler.samples or max(
                    p["RssAnon"] for p in sampler.samples[-1]["processes"].values()) < 55:
                assert time.monotonic() < deadline, "the grandchild never grew"
                time.sleep(0.05)
    finally:
        subprocess.run(["pkill", "-P", str(child.pid)])
        child.kill()
        child.wait()
    first, last = sampler.samples[0], sampler.samples[-1]
    assert [s["served"] for s in sampler.samples] == sorted(s["served"] for s in sampler.samples)
    assert {p["role"] for p in last["processes"].values()} == {"crawler", "other"}
    found = summary(sampler.samples, [first["served"], last["served"] + 1])
    assert set(found) == {f"{first['served']} pages", "peak"}  # (no sample past the second count)
    grandchild = [p for p in found["peak"]["processes"] if p["role"] == "other"]
    assert len(grandchild) == 1 and grandchild[0]["RssAnon"] >= 55
    assert found["peak"]["tree"] >= found[f"{first['served']} pages"]["tree"] + 50


def test_the_crawl_is_the_child_running_scrapy_not_one_still_a_copy_of_the_bench():
    # (the child's own command line must not name it: only the grandchild's arguments do)
    code = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'import time; time.sleep(30)', 'scr' + 'apy'])"
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 20
        while (found := crawl_process(child.pid)) is None:  # (its child names scrapy in its arguments)
            assert time.monotonic() < deadline, "the scrapy child never showed up"
            time.sleep(0.05)
        assert found != child.pid and crawl_process(os.getpid()) is None
    finally:
        subprocess.run(["pkill", "-P", str(child.pid)])
        child.kill()
        child.wait()
