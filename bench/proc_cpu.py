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


class WarcWriterPids:
    """Process ids seen holding a WARC file. The writer holds none between two files, so a process
    seen holding one keeps the role: each bench that splits a crawl's CPU or memory by process
    (default_crawl, scale, rss_by_process) asks through one of these."""

    def __init__(self):
        self._pids: set[int] = set()

    def __contains__(self, pid: int) -> bool:
        return pid in self._pids

    def __iter__(self):
        return iter(self._pids)

    def check(self, pid: int) -> bool:
        """Is `pid` the writer: seen as it before, or holding a WARC file now (then remembered)."""
        if pid not in self._pids and holds_warc(pid):
            self._pids.add(pid)
        return pid in self._pids


def machine_cpu() -> dict[str, float]:
    """CPU seconds of the whole machine since boot, all cores, from /proc/stat's `cpu` line:
    `busy` (user, nice, system, irq, softirq), `idle` (idle, iowait), `steal` (a vCPU's time the
    hypervisor gave another tenant: neither ours nor idle) and `iowait` (of `idle`, waiting on
    I/O). Differences over a window say where the cores went, other jobs on the machine included."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return {"busy": (user + nice + system + irq + softirq) / CLOCK_TICKS, "idle": (idle + iowait) / CLOCK_TICKS,
            "steal": steal / CLOCK_TICKS, "iowait": iowait / CLOCK_TICKS}


def own_cpu(threads: set[int]) -> tuple[float, float]:
    """CPU seconds of this process (its ended threads included) and of those of its `threads`
    (native ids) that still run. A bench serving its crawl from this process reads its server's
    CPU as the first less the second, `threads` being the bench's own (the ones that do not serve)."""
    total = stat_cpu(f"/proc/{os.getpid()}/stat")
    own = 0.0
    for tid in threads:
        try:
            own += stat_cpu(f"/proc/{os.getpid()}/task/{tid}/stat")
        except (OSError, IndexError):
            pass
    return total, own
