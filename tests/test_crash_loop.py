"""The crash loop in the suite: a crawl SIGKILLed at 10 seeded random moments (the crawler alone and its
whole process group, alternately), re-run on the same directories each time with no operator step,
then run to the end, must lose nothing (testbed/crash_loop.py; `make bench-crash` runs it bigger)."""
from __future__ import annotations

from testbed.crash_loop import run_crash_loop


def test_ten_kills_lose_nothing(tmp_path):
    # Each page answered after 1 s (8 at a time: ~8 pages/s), so these seeded kills (~24 s of runs in all)
    # fetch ~130 of the 240 pages: on a fast idle machine the default 0.25 s let the crawl finish every
    # page by the sixth kill, and the last ones hit runs that had nothing left to do (session 14).
    result = run_crash_loop(tmp_path / "work", pages=240, kills=10, seed=20261205, delay=1.0,
                            log=lambda line: None)
    assert result.kills_landed >= 8, "the kills must land while a crawl runs, or the test proves nothing"
    # Kills 3, 4, 7 and 8 are timed from their run's first page fetch: mid-crawl however slowly it started.
    assert result.kills_mid_fetch >= 4, "kills must also land after pages were fetched, not in start-up only"
    assert result.problems == []
    assert result.final_exit == 0
    assert result.articles == 240  # every page archived and in the corpus: checked in result.problems
