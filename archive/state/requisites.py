"""Page requisites in the crawl state: pending from the moment a page names them until archived.

Why: an article page counts as done in the crawl state once it is extracted, and a
resumed crawl does not fetch it again. Its requisites were only in the scheduler's
memory: a crash between the two lost them for good. So each requisite the crawl asks
for gets a row, written before the page counts as done (the same writer queue, so
the same or an earlier transaction), and is settled once its response record is on
disk (`archived`) or it was refused for good (`refused:<reason>`: robots.txt, the
size cap, the address policy). A resumed crawl asks again for every pending row,
and not for what this crawl already settled: once per crawl, across a resume.

A crawl lasts from one run's start until a run ends by itself (not `shutdown`, not a
kill): `finish_crawl` then starts the next, whose pages' requisites are asked for
(and revalidated) again. Rows still pending then stay pending and are retried.

The table is declared with the others in archive/state/store.py (schema v4). No Scrapy here.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from archive.state.store import CrawlState
from archive.urls import canonical_url

__all__ = ["PendingRequisites", "ARCHIVED", "REQUISITES_CRAWL_KEY", "refused"]

ARCHIVED = "archived"
REQUISITES_CRAWL_KEY = "requisites_crawl"  # meta: the crawl number (state-merge keeps the highest)


def refused(reason: str) -> str:
    """The outcome of a requisite refused for good (robots, too_large, non_public, …)."""
    return f"refused:{reason}"


class PendingRequisites:
    """The crawl's requisite rows on one `CrawlState`: writes go through its (batched) writer."""

    def __init__(self, state: CrawlState):
        self.state = state
        with state._mutex:
            row = state._db.execute("SELECT value FROM meta WHERE key = ?", (REQUISITES_CRAWL_KEY,)).fetchone()
        self.crawl = int(row[0]) if row else 1

    def resume(self) -> tuple[list[tuple[str, str, int]], list[str]]:
        """`(pending, settled)`: `(fetch_url, kind, depth)` of every row still pending (this crawl's,
        or left by an earlier one), and the fetch URLs this crawl already settled."""
        self.state.flush()
        with self.state._mutex:
            rows = self.state._db.execute(
                "SELECT fetch_url, kind, depth, outcome FROM requisites WHERE outcome IS NULL OR crawl = ?",
                (self.crawl,)).fetchall()
        return ([(url, kind, depth) for url, kind, depth, outcome in rows if outcome is None],
                [url for url, _, _, outcome in rows if outcome is not None])

    def add(self, found: Iterable[tuple[str, str, int]]) -> None:
        """`(fetch_url, kind, depth)` are asked for now: pending, unless this crawl settled them already."""
        rows = [(canonical_url(url), url, kind, depth, self.crawl) for url, kind, depth in found]
        if not rows:
            return
        db = self.state._db
        self.state._write(lambda: db.executemany(
            """INSERT INTO requisites (url, fetch_url, kind, depth, crawl, outcome) VALUES (?, ?, ?, ?, ?, NULL)
               ON CONFLICT(url) DO UPDATE SET fetch_url = excluded.fetch_url, kind = excluded.kind,
                   depth = excluded.depth, crawl = excluded.crawl, outcome = NULL
               WHERE requisites.crawl != excluded.crawl""", rows))

    def settle(self, fetch_url: str, outcome: str) -> None:
        """The requisite asked for as `fetch_url` is archived (its record on disk) or refused for good."""
        key, db = canonical_url(fetch_url), self.state._db
        self.state._write(lambda: db.execute("UPDATE requisites SET outcome = ? WHERE url = ?", (outcome, key)))

    def finish_crawl(self) -> None:
        """This run ended by itself: the next run is a new crawl, which asks for its pages' requisites again."""
        db, crawl = self.state._db, self.crawl + 1
        self.state._write(lambda: db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (REQUISITES_CRAWL_KEY, str(crawl))))


def refused_requisites(db) -> set[str]:
    """Canonical URLs of requisites the crawl refused for good (for the crash check; `db` a sqlite3
    connection to a state file)."""
    try:
        return {url for (url,) in db.execute("SELECT url FROM requisites WHERE outcome LIKE 'refused:%'")}
    except sqlite3.OperationalError:  # an older state, without the table
        return set()
