"""CPU seconds of a crawl's processes and threads, read from /proc, for the benches.

CPU a page is the benches' measure that other jobs on the machine disturb least (wall time
follows the share of the cores a crawl gets). bench/default_crawl.py and bench/scale.py both
read it; kept here so they read it the same way.
"""
from __future__ import annotations

import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def stat_cpu(stat: str | Path) -> float:
    """User + system CPU seconds in a /proc `stat` file (a process's, or a thread's under `task/`).
    Raises OSError when the process is gone."""
    fields = Path(stat).read_text().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def holds_warc(pid: int) -> bool:
    """Does the process hold a WARC file open? Only the WARC writer does (archive/warc/process.py;
    the extraction workers, the forkserver and the resource tracker never open one)."""
    try:
        return any(".warc" in os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
