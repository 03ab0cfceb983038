"""`python -m archive state-merge OUT IN…`: one crawl state from the per-process states of a distributed crawl."""
from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

from archive.state.store import CrawlState, StateLockedError


# Columns that describe the latest fetch: taken together from whichever state fetched last.
_FETCH_COLUMNS = ("fetch_url", "fetched_at", "status", "etag", "last_modified", "payload_digest",
                  "capture_uri", "capture_date", "capture_record_id", "capture_file", "outcome",
                  "record_id", "record_file", "record_offset")
# Columns that describe extraction: taken from whichever state extracted last.
_EXTRACTION_COLUMNS = ("is_article", "extracted_at", "published")


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
    finally:
        source_db.close()
    with target._mutex:
        target._db.execute("BEGIN")
        target._db.executemany(
            f"INSERT INTO pages ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
            f"ON CONFLICT(url) DO UPDATE SET {updates}", rows)
        target._db.execute("COMMIT")
    return len(rows)


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
