"""Resident memory of the crawl's whole process tree: crawler, extraction workers, WARC writer.

Why a sampler: the workers and the writer are started by multiprocessing's
forkserver, so they are not this process's children and `getrusage` never
sees them; and the memory goal (issue #9) is about the sum, not the largest
process. Linux only (/proc); elsewhere the sampler reports 0.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _children(pid: int) -> list[int]:
    kids = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:  # the process has just exited
        return kids
    for task in tasks:
        kids += map(int, _read(f"/proc/{pid}/task/{task}/children").split())
    return kids


def tree_rss(pid: int) -> int:
    """Current RSS in bytes of `pid` and all its descendants (0 where /proc is missing)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            total += int(_read(f"/proc/{current}/statm").split()[1]) * PAGE
        except (IndexError, ValueError):  # gone
            continue
        stack += _children(current)
    return total


def _read(path: str) -> bytes:
    """A small /proc file's bytes (b"" when it is gone). With os calls, not pathlib: the crawl's
    report samples ~20 of them 4 times a second, in a thread that takes the GIL from the event loop."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return b""
    try:
        return os.read(fd, 65536)
    except OSError:
        return b""
    finally:
        os.close(fd)


def own_peak_rss() -> int:
    """This process's own peak RSS in bytes (VmHWM), 0 where /proc is missing.

    Not `getrusage(RUSAGE_SELF).ru_maxrss`: after fork + exec, Linux keeps the
    high-water mark of the pre-exec copy of the parent, so a crawl started from
    a 300 MB process reported 300 MB whatever it used itself.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


class PeakRSS:
    """Samples a process tree's RSS every `interval` seconds in a daemon thread; keeps the peak."""

    def __init__(self, pid: int | None = None, interval: float = 0.25):
        self.pid = os.getpid() if pid is None else pid
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-rss", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> int:
        self.peak = max(self.peak, tree_rss(self.pid))
        return self.peak

    def start(self) -> "PeakRSS":
        self._thread.start()
        return self

    def stop(self) -> int:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        return self.sample()

    def __enter__(self) -> "PeakRSS":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
