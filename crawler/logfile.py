"""A crawl log that cannot grow forever: rotated by size at the start of a run.

Scrapy appends every run to `LOG_FILE` (one FileHandler, opened before the
crawl). A scheduled crawl four times a day would grow that file without end,
so before Scrapy opens it, a log over `CRAWL_LOG_MAX_BYTES` is shifted to
`LOG_FILE.1` (`.1` to `.2`, …, keeping `CRAWL_LOG_BACKUPS`), as logrotate
would. A single run's log is never cut in the middle.
"""
from __future__ import annotations

import os
from pathlib import Path


def prepare_log_file(path: str | os.PathLike, max_bytes: int, backups: int) -> bool:
    """Create the log's directory; rotate the log when it is over `max_bytes`. True if rotated."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return False
    if max_bytes <= 0 or size <= max_bytes:
        return False
    if backups <= 0:
        path.unlink()
        return True
    for number in range(backups - 1, 0, -1):
        older = path.with_name(f"{path.name}.{number}")
        if older.exists():
            os.replace(older, path.with_name(f"{path.name}.{number + 1}"))
    os.replace(path, path.with_name(f"{path.name}.1"))
    return True
