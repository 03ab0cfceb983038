"""Where a crawl keeps its state (and so its lock) and its run report: derived in one place from settings.

Everything lives beside the archive (`WARC_DIR`'s parent, `data/` by default), never relative to
the working directory on its own: a crawl with no archive and no state writes no report unless
`CRAWL_REPORT` names one.
"""
from __future__ import annotations

from pathlib import Path


def state_path(settings) -> Path | None:
    """`CRAWL_STATE`: unset = `state.sqlite` beside `WARC_DIR` (when capture is on); empty = off."""
    raw = settings.get("CRAWL_STATE")
    if raw is None:
        if not settings.getbool("WARC_ENABLED"):
            return None
        return Path(settings.get("WARC_DIR")).parent / "state.sqlite"
    return Path(raw) if str(raw).strip() else None


def report_path(settings) -> Path | None:
    """`CRAWL_REPORT`: unset = `runs.jsonl` beside the state, else beside the archive; empty = off."""
    raw = settings.get("CRAWL_REPORT")
    if raw is not None:
        return Path(raw) if str(raw).strip() else None
    state = state_path(settings)
    if state is not None:
        return state.parent / "runs.jsonl"
    if settings.getbool("WARC_ENABLED"):
        return Path(settings.get("WARC_DIR")).parent / "runs.jsonl"
    return None
