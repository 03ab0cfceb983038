"""The process-tree memory sampler behind the crawl report's peak_rss_bytes."""
import subprocess
import sys
import time

from crawler.extensions.memory import PeakRSS, tree_rss


def _own_rss(pid):
    from pathlib import Path
    from crawler.extensions.memory import PAGE
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


def test_tree_rss_counts_descendants_and_the_sampler_keeps_the_peak():
    # A grandchild, as forkserver workers are: child -> grandchild holding ~60 MB.
    code = ("import subprocess, sys; subprocess.run([sys.executable, '-c', "
            "'import time; x = bytearray(60 * 2**20); x[::4096] = b\"x\" * len(x[::4096]); time.sleep(30)'])")
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        with PeakRSS(interval=0.05) as sampler:
            deadline = time.monotonic() + 20
            while tree_rss(child.pid) - _own_rss(child.pid) < 50 * 2**20:
                assert time.monotonic() < deadline, "the grandchild never showed up"
                time.sleep(0.05)
            time.sleep(0.2)
        assert sampler.peak >= _own_rss(child.pid) + 50 * 2**20
    finally:
        subprocess.run(["pkill", "-P", str(child.pid)])
        child.kill()
        child.wait()


def test_a_vanished_process_counts_as_nothing():
    assert tree_rss(2**22 + 12345) == 0


def test_own_peak_is_this_process_not_the_parent_it_was_forked_from():
    # A small child of this (large) pytest process: its VmHWM is its own, unlike ru_maxrss.
    code = "from crawler.extensions.memory import own_peak_rss; print(own_peak_rss())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert 0 < int(out.stdout) < 200 * 2**20
