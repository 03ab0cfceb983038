"""Archived pages the crawl state never heard of: given their row on resume, "never extracted".

Why: a page's state row is written once its WARC record is on disk, on the state's batched writer
(archive/state/store.py), tens to a few hundred milliseconds later. A kill in between leaves the record archived
and the page unknown to the state, so the next run neither extracts it from the archive nor, in an
incremental re-run whose linking pages are not due, meets it again: an archived article that never
reaches the corpus (docs/crash-safety.md, session 20). On resume, the WARC files written since the
state's last verified moment (the interrupted run's; none after a clean end) are walked, and each
200 response record of a page the state has no row for gets the row its fetch would have written:
a full capture, its record, no extraction yet. No Scrapy here.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archive.state.store import CrawlState
from archive.urls import canonical_url
from archive.warc.reader import READ_ERRORS
from archive.warc.records import parse_warc_date

__all__ = ["adopt_unrecorded", "files_written_since"]


def files_written_since(paths: Iterable[Path], moment: float) -> list[Path]:
    """The closed WARC files among `paths` last written at or after `moment` (epoch seconds)."""
    return sorted(p for p in paths if p.name.endswith((".warc.gz", ".warc")) and p.stat().st_mtime >= moment)


def adopt_unrecorded(state: CrawlState, paths: Iterable[Path]) -> int:
    """Give a row to every page with a 200 response record in `paths` that the state does not know.
    Returns how many; the rows are committed when this returns."""
    state.flush()  # (`get` reads what is committed)
    adopted: set[str] = set()
    for path in paths:
        try:
            with path.open("rb") as stream:
                iterator = ArchiveIterator(stream)
                for record in iterator:
                    if record.rec_type != "response" or record.http_headers is None:
                        continue
                    http = record.http_headers.get_header
                    if record.http_headers.get_statuscode() != "200" or "html" not in (http("Content-Type") or ""):
                        continue  # (an article is a page; images and other requisites are the requisites table's)
                    fields = record.rec_headers
                    uri = fields.get_header("WARC-Target-URI")
                    key = canonical_url(uri)
                    if key not in adopted and state.get(key) is not None:
                        continue  # (a page fetched twice in the walk: the later record wins)
                    date, record_id = fields.get_header("WARC-Date"), fields.get_header("WARC-Record-ID")
                    state.record_fetch(
                        key, fetch_url=uri, status=200, outcome="new",
                        fetched_at=parse_warc_date(date).timestamp(),
                        etag=http("ETag"), last_modified=http("Last-Modified"),
                        capture={"uri": uri, "date": date, "record_id": record_id,
                                 "payload_digest": fields.get_header("WARC-Payload-Digest")},
                        capture_file=path.name, record=(record_id, path.name, iterator.get_record_offset()))
                    adopted.add(key)
        except READ_ERRORS:
            continue  # a damaged file: what was read of it is adopted; `archive check` reports the rest
    state.flush()
    return len(adopted)
