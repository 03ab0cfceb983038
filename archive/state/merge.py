"""`python -m archive state-merge OUT IN…`: one crawl state from the per-process states of a distributed crawl."""
from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

from archive.state.requisites import REQUISITES_CRAWL_KEY
from archive.state.store import CrawlState, StateLockedError


# Columns that describe the latest fetch: taken together from whichever state fetched last.
_FETCH_COLUMNS = ("fetch_url", "fetched_at", "status", "etag", "last_modified", "payload_digest",
                  "capture_uri", "capture_date", "capture_record_id", "capture_file", "outcome",
                  "record_id", "record_file", "record_offset")
# Columns that describe extraction: taken from whichever state extracted last.
_EXTRACTION_COLUMNS = ("is_article", "extracted_at", "published", "extracted_record")


def merge_states(target: CrawlState, source: str | Path) -> int:
    """Fold the state file `source` into `target`; returns the number of source pages.

    Distributed crawls keep one state per process (one lock, one writer). After
    a run they are merged page by page: the newest fetch wins for the fetch
    columns (for `lastmod`: the newest fetch that saw one), the newest
    extraction for the extraction columns, the earliest first-seen and the
    highest change count are kept, so the next run revalidates each page
    against its latest capture.
    """
    def newer(column: str, when: str) -> str:
        return (f"{column} = CASE WHEN COALESCE(excluded.{when}, 0) > COALESCE(pages.{when}, 0) "
                f"THEN excluded.{column} ELSE pages.{column} END")

    updates = ", ".join([newer(c, "fetched_at") for c in _FETCH_COLUMNS if c != "fetched_at"]
                        + [newer(c, "extracted_at") for c in _EXTRACTION_COLUMNS if c != "extracted_at"]
                        # lastmod as record_fetch keeps it: the newest fetch's, else the one before
                        + ["lastmod = CASE WHEN COALESCE(excluded.fetched_at, 0) > COALESCE(pages.fetched_at, 0) "
                           "THEN COALESCE(excluded.lastmod, pages.lastmod) "
                           "ELSE COALESCE(pages.lastmod, excluded.lastmod) END",
                           "first_seen = MIN(pages.first_seen, excluded.first_seen)",
                           "changes = MAX(pages.changes, excluded.changes)",
                           # SET expressions all read the row as it was, so the CASEs above see the old *_at
                           "fetched_at = NULLIF(MAX(COALESCE(pages.fetched_at, 0), COALESCE(excluded.fetched_at, 0)), 0)",
                           "extracted_at = NULLIF(MAX(COALESCE(pages.extracted_at, 0), "
                           "COALESCE(excluded.extracted_at, 0)), 0)"])
    source_db = sqlite3.connect(f"file:{Path(source)}?mode=ro", uri=True)
    try:
        cursor = source_db.execute("SELECT * FROM pages")
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        requisites, crawl = _requisite_rows(source_db)
    finally:
        source_db.close()
    with target.rows_changing(), target._mutex:
        target._db.execute("BEGIN")
        target._db.executemany(
            f"INSERT INTO pages ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
            f"ON CONFLICT(url) DO UPDATE SET {updates}", rows)
        # A requisite settled by any process is settled (all write to one archive); pending otherwise.
        target._db.executemany(
            "INSERT INTO requisites (url, fetch_url, kind, depth, crawl, outcome) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(url) DO UPDATE SET outcome = COALESCE(requisites.outcome, excluded.outcome), "
            "crawl = MAX(requisites.crawl, excluded.crawl)", requisites)
        if crawl is not None:
            target._db.execute(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                "value = CAST(MAX(CAST(meta.value AS INTEGER), CAST(excluded.value AS INTEGER)) AS TEXT)",
                (REQUISITES_CRAWL_KEY, crawl))
        target._db.execute("COMMIT")
    return len(rows)


def _requisite_rows(db: sqlite3.Connection) -> tuple[list[tuple], str | None]:
    """The source's requisite rows and its crawl number (none from a state older than schema v4)."""
    try:
        rows = db.execute("SELECT url, fetch_url, kind, depth, crawl, outcome FROM requisites").fetchall()
    except sqlite3.OperationalError:
        return [], None
    crawl = db.execute("SELECT value FROM meta WHERE key = ?", (REQUISITES_CRAWL_KEY,)).fetchone()
    return rows, crawl[0] if crawl else None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("output", type=Path, metavar="OUT.sqlite", help="state to merge into (created if missing)")
    parser.add_argument("inputs", type=Path, nargs="+", metavar="IN.sqlite", help="per-process state files")


def run(args: argparse.Namespace) -> int:
    from archive.cli import UserError

    missing = [str(p) for p in args.inputs if not p.is_file()]
    if missing:
        raise UserError(f"no such state file: {', '.join(missing)}")
    if any(p.resolve() == args.output.resolve() for p in args.inputs):
        raise UserError("OUT must not be one of the inputs")
    try:
        target = CrawlState(args.output)
    except StateLockedError as exc:
        raise UserError(str(exc)) from None
    try:
        for path in args.inputs:
            try:
                count = merge_states(target, path)
            except sqlite3.DatabaseError as exc:
                raise UserError(f"{path}: not a crawl state ({exc})") from None
            print(f"{path}: {count} page(s)")
        print(f"{args.output}: {len(target)} page(s)")
    finally:
        target.close()
    return 0
