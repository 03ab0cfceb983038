"""The crawl state's known URLs (archive/state/known_urls.py): a `get` of a URL the state never held
answers None without a query, and every answer is what the database holds, through every write path."""
import random
import sqlite3

import pytest

from archive.state.batch_writer import BatchWriter
from archive.state.known_urls import KnownUrls
from archive.state.merge import merge_states
from archive.state.store import CrawlState

URLS = [f"https://nhandan.vn/bai-{n}.html" for n in range(60)]


def committed(path, url):
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT * FROM pages WHERE url = ?", (url,)).fetchone()
    return CrawlState._page(row) if row else None


class CountingReader:
    """The state's reading connection, counting its queries."""

    def __init__(self, db):
        self.db, self.queries = db, 0

    def execute(self, *args):
        self.queries += 1
        return self.db.execute(*args)

    def close(self):
        self.db.close()


def record(state, url, step):
    state.record_fetch(url, fetch_url=url, status=200, outcome="new", etag=f'"{step}"',
                       capture={"uri": url, "date": "2026-01-01T00:00:00Z", "payload_digest": f"sha1:{step}"})


@pytest.mark.parametrize("batched", [True, False])
def test_answers_are_the_databases_and_unknown_urls_need_no_query(tmp_path, monkeypatch, batched):
    monkeypatch.setattr(BatchWriter, "INTERVAL", 3600)  # batches commit only at flush: reads are deterministic
    before = CrawlState(tmp_path / "state.sqlite")
    for url in URLS[:5]:  # rows held before this run: known from the start
        record(before, url, 0)
    before.close()
    state = CrawlState(tmp_path / "state.sqlite", batched=batched)
    assert state._known.complete
    reader = state._reader = CountingReader(state._reader)
    rng = random.Random(11)
    unknown_gets = 0
    for step in range(1500):
        url = rng.choice(URLS)
        action = rng.randrange(10)
        if action == 0:
            record(state, url, step)
        elif action == 1:
            state.record_extraction(url, is_article=rng.random() < 0.5)
        elif action == 2:
            state.record_published_hint(url, "2025-03-01")  # an UPDATE: no row made
        elif action == 3:
            state.flush()
        elif action == 4 and step % 9 == 0:
            state.forget(rng.sample(URLS, 4))  # deletes: what is known stays a superset
        elif action == 4 and step % 9 == 1:
            state.reopen(rng.sample(URLS, 4))  # updates (session 20's never-extracted pages): no row made
        elif action == 4 and step % 9 == 2:
            state.record_read(url, f"<urn:uuid:{step}>")  # an upsert: may make the row
        else:
            queries = reader.queries
            never_named = not state._known.may_hold(url)
            assert state.get(url) == committed(state.path, url), step
            if never_named:
                unknown_gets += 1
                assert reader.queries == queries  # answered without SQLite
    assert state._known.complete
    assert unknown_gets > 100
    merge_states(state, tmp_path / "state.sqlite")  # a merge may add any row: every read asks SQLite again
    assert not state._known.complete
    for url in URLS:
        assert state.get(url) == committed(state.path, url)
    state.close()


def test_a_state_with_more_rows_than_kept_reads_every_url_from_sqlite(tmp_path, monkeypatch):
    monkeypatch.setattr("archive.state.store.KNOWN_URLS_LIMIT", 3)
    state = CrawlState(tmp_path / "state.sqlite")
    for url in URLS[:4]:
        record(state, url, 1)
    state.close()
    state = CrawlState(tmp_path / "state.sqlite")
    assert not state._known.complete
    assert state.get(URLS[3]) == committed(state.path, URLS[3]) and state.get(URLS[9]) is None
    state.close()


def test_the_set_is_bounded():
    known = KnownUrls([], limit=3)
    for url in URLS[:3]:
        known.add(url)
    assert known.complete and known.may_hold(URLS[0]) and not known.may_hold(URLS[5])
    known.add(URLS[3])
    assert not known.complete and known.may_hold(URLS[5])
    assert not KnownUrls(URLS[:4], limit=3).complete


def test_every_instance_in_the_process_sees_the_others_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(BatchWriter, "INTERVAL", 3600)
    path = tmp_path / "state.sqlite"
    writer = CrawlState(path, batched=True)
    second = CrawlState(path, batched=True)  # the same lock, shared in the process: the same known URLs
    reader = CrawlState(path, lock=False)  # no lock: every read asks SQLite
    assert writer._known is second._known and reader._known is None
    record(second, URLS[1], 1)
    second.flush()
    record(reader, URLS[2], 2)  # a write through an instance without the lock reaches the set too
    reader.flush()
    for state in (writer, second, reader):
        assert state.get(URLS[1]) == committed(path, URLS[1]) is not None
        assert state.get(URLS[2]) == committed(path, URLS[2]) is not None
    record(writer, URLS[3], 3)
    writer.close()
    assert reader.get(URLS[3]) == committed(path, URLS[3]) is not None
    second.close()
    reader.close()
    fresh = CrawlState(path)  # the last user closed: a new open reads the table again
    assert fresh._known is not second._known and fresh._known.may_hold(URLS[3])
    fresh.close()
