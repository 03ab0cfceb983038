"""archive/state/store.py: the SQLite crawl state, its lock and durations."""
import subprocess
import sys

import pytest

from archive.state import store
from archive.state.store import CrawlState, StateLock, StateLockedError, parse_duration

CAPTURE = {"uri": "https://nhandan.vn/a-post1.html", "date": "2024-09-11T13:15:00.000000Z",
           "record_id": "<urn:uuid:1>", "payload_digest": "sha1:AAAA"}


def test_fetch_and_extraction_round_trip(tmp_path):
    state = CrawlState(tmp_path / "state.sqlite")
    key = "https://nhandan.vn/a-post1.html"
    assert state.get(key) is None
    state.record_fetch(key, fetch_url=key, status=200, outcome="new", etag='"v1"',
                       last_modified="Wed, 11 Sep 2024 13:15:00 GMT", capture=CAPTURE, capture_file="a.warc.gz")
    state.record_extraction(key, is_article=True, published="2024-09-11T20:15:00+07:00")
    page = state.get(key)
    assert (page.status, page.etag, page.payload_digest, page.is_article) == (200, '"v1"', "sha1:AAAA", True)
    assert page.capture == CAPTURE and page.published_at.year == 2024
    # a revisit (no capture) keeps the reference capture and validators
    state.record_fetch(key, fetch_url=key, status=304, outcome="not-modified")
    page = state.get(key)
    assert page.capture == CAPTURE and page.etag == '"v1"' and page.outcome == "not-modified"
    # a changed full capture replaces both; a missing ETag is forgotten
    state.record_fetch(key, fetch_url=key, status=200, outcome="changed",
                       capture={**CAPTURE, "payload_digest": "sha1:BBBB"})
    page = state.get(key)
    assert page.payload_digest == "sha1:BBBB" and page.etag is None and page.changes == 1
    state.close()
    reopened = CrawlState(tmp_path / "state.sqlite")
    assert len(reopened) == 1 and reopened.get(key).is_article is True
    assert reopened._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reopened.close()


def test_lock_is_shared_in_process_and_exclusive_across_processes(tmp_path):
    path = tmp_path / "state.sqlite"
    first = CrawlState(path)
    second = CrawlState(path)  # same process: shares the lock
    code = ("import sys; from archive.state.store import CrawlState, StateLockedError\n"
            f"try: CrawlState({str(path)!r})\n"
            "except StateLockedError as e: print(e); sys.exit(3)\n")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert other.returncode == 3 and "in use by another crawl" in other.stdout
    first.close()
    second.close()
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert other.returncode == 0, other.stdout + other.stderr


def test_lock_error_names_the_holder(tmp_path):
    path = tmp_path / "s.sqlite"
    holder = subprocess.Popen([sys.executable, "-c",
                               "import sys,time; from archive.state.store import StateLock\n"
                               f"StateLock({str(path)!r}).acquire(); print('ok', flush=True); time.sleep(30)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(StateLockedError, match=f"pid {holder.pid}"):
            StateLock(path).acquire()
    finally:
        holder.kill()
        holder.wait()
    StateLock(path).acquire().release()  # a killed holder leaves no stale lock


@pytest.mark.parametrize("raw,seconds", [("90", 90), ("90m", 5400), ("6h", 21600), ("2d", 172800),
                                         ("1w", 604800), (0, 0)])
def test_durations(raw, seconds):
    assert parse_duration(raw) == seconds


@pytest.mark.parametrize("raw", ["soon", "-1h", "3x"])
def test_bad_durations(raw):
    with pytest.raises(ValueError):
        parse_duration(raw)


def test_per_process_states_merge_newest_fetch_wins(tmp_path):
    """Distributed crawls keep a state per process; `state-merge` folds them into one."""
    import subprocess
    import sys

    from archive.state.store import CrawlState

    def capture(record_id):
        return {"uri": "https://x.vn/p-1.html", "date": "2026-01-01T00:00:00Z", "record_id": record_id,
                "payload_digest": f"sha1:{record_id}"}

    a, b = CrawlState(tmp_path / "a.sqlite"), CrawlState(tmp_path / "b.sqlite")
    a.record_fetch("https://x.vn/p-1.html", fetch_url="https://x.vn/p-1.html", status=200, outcome="new",
                   fetched_at=100, etag='"a"', capture=capture("A"))
    a.record_extraction("https://x.vn/p-1.html", is_article=True, published="2026-01-01T00:00:00+07:00")
    b.record_fetch("https://x.vn/p-1.html", fetch_url="http://x.vn/p-1.html", status=200, outcome="changed",
                   fetched_at=200, etag='"b"', capture=capture("B"))
    b.record_fetch("https://x.vn/q-2.html", fetch_url="https://x.vn/q-2.html", status=410, outcome="gone",
                   fetched_at=150)
    a.close()
    b.close()
    out = tmp_path / "merged.sqlite"
    proc = subprocess.run([sys.executable, "-m", "archive", "state-merge", str(out),
                           str(tmp_path / "a.sqlite"), str(tmp_path / "b.sqlite")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    merged = CrawlState(out)
    p, q = merged.get("https://x.vn/p-1.html"), merged.get("https://x.vn/q-2.html")
    merged.close()
    assert (p.fetched_at, p.etag, p.capture_record_id, p.outcome) == (200, '"b"', "B", "changed")
    assert (p.first_seen, p.is_article, p.published) == (100, True, "2026-01-01T00:00:00+07:00")
    assert (q.status, q.outcome, q.extracted_at) == (410, "gone", None)
    bad = subprocess.run([sys.executable, "-m", "archive", "state-merge", str(out), str(tmp_path / "nope.sqlite")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr


V1_SCHEMA = """
CREATE TABLE pages (url TEXT PRIMARY KEY, fetch_url TEXT, first_seen REAL NOT NULL, fetched_at REAL,
    status INTEGER, etag TEXT, last_modified TEXT, payload_digest TEXT, capture_uri TEXT, capture_date TEXT,
    capture_record_id TEXT, capture_file TEXT, outcome TEXT, changes INTEGER NOT NULL DEFAULT 0,
    is_article INTEGER, extracted_at REAL, published TEXT);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
INSERT INTO meta VALUES ('schema_version', '1');
INSERT INTO pages VALUES ('https://nhandan.vn/a-post1.html', 'https://nhandan.vn/a-post1.html', 100, 200, 200,
    '"v1"', NULL, 'sha1:AAAA', 'https://nhandan.vn/a-post1.html', '2024-09-11T13:15:00Z', '<urn:uuid:1>',
    'a.warc.gz', 'new', 0, 1, 210, '2024-09-11T20:15:00+07:00');
"""


def test_a_v1_state_is_migrated_in_place_and_keeps_its_rows(tmp_path):
    import sqlite3

    from archive.state.store import SCHEMA_VERSION
    path = tmp_path / "state.sqlite"
    db = sqlite3.connect(path)
    db.executescript(V1_SCHEMA)
    db.close()
    key = "https://nhandan.vn/a-post1.html"
    state = CrawlState(path)
    page = state.get(key)
    assert (page.etag, page.payload_digest, page.is_article, page.lastmod) == ('"v1"', "sha1:AAAA", True, None)
    assert page.capture["record_id"] == "<urn:uuid:1>"
    assert state._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    # lastmod is stored; a fetch without one (from a listing) keeps it
    state.record_fetch(key, fetch_url=key, status=304, outcome="not-modified", lastmod="2024-09-12T08:00:00+07:00")
    state.record_fetch(key, fetch_url=key, status=304, outcome="not-modified")
    assert state.get(key).lastmod == "2024-09-12T08:00:00+07:00"
    state.close()
    reopened = CrawlState(path)  # opening a v2 file again changes nothing
    assert len(reopened) == 1 and reopened.get(key).lastmod == "2024-09-12T08:00:00+07:00"
    reopened.close()


def test_merge_keeps_the_newest_lastmod(tmp_path):
    from archive.state.merge import merge_states
    url = "https://x.vn/p-1.html"
    older, newer, bare = (CrawlState(tmp_path / f"{n}.sqlite") for n in ("older", "newer", "bare"))
    older.record_fetch(url, fetch_url=url, status=200, outcome="new", fetched_at=100, lastmod="2026-01-01T00:00:00Z")
    newer.record_fetch(url, fetch_url=url, status=200, outcome="changed", fetched_at=200,
                       lastmod="2026-01-02T00:00:00Z")
    bare.record_fetch(url, fetch_url=url, status=304, outcome="not-modified", fetched_at=300)  # from a listing
    for state in (older, newer, bare):
        state.close()
    merged = CrawlState(tmp_path / "merged.sqlite")
    try:
        for name in ("newer", "older", "bare"):
            merge_states(merged, tmp_path / f"{name}.sqlite")
        page = merged.get(url)
        assert (page.fetched_at, page.outcome, page.lastmod) == (300, "not-modified", "2026-01-02T00:00:00Z")
    finally:
        merged.close()


def test_requisites_stay_pending_until_settled_once_per_crawl(tmp_path):
    """archive/state/requisites.py: pending when asked for, settled when archived or refused, resumed
    by the next run of the same crawl; a finished crawl's next run asks for them again."""
    from archive.state.requisites import ARCHIVED, PendingRequisites, refused
    from archive.urls import canonical_url

    path = tmp_path / "state.sqlite"
    logo, photo, secret = (f"https://cdn.example/{name}" for name in ("logo.png", "a.jpg", "secret.jpg"))
    state = CrawlState(path, batched=True)
    ledger = PendingRequisites(state)
    ledger.add([(logo, "image", 0), (photo, "image", 0), (secret, "image", 0)])
    ledger.settle(logo, ARCHIVED)
    ledger.settle(secret, refused("robots"))
    state.close()  # killed here: the next run resumes this crawl

    state = CrawlState(path, batched=True)
    ledger = PendingRequisites(state)
    pending, settled = ledger.resume()
    assert pending == [(photo, "image", 0)] and sorted(settled) == [logo, secret]
    ledger.add([(logo, "image", 0)])  # a page fetched again names it: settled in this crawl, stays so
    assert ledger.resume()[0] == [(photo, "image", 0)]
    state.forget([canonical_url(logo)])  # its record was not in the archive after all: pending again
    assert sorted(ledger.resume()[0]) == [(photo, "image", 0), (logo, "image", 0)]
    ledger.settle(logo, ARCHIVED)
    ledger.finish_crawl()  # the run ended by itself; the photo never answered
    state.close()

    state = CrawlState(path, batched=True)
    ledger = PendingRequisites(state)
    assert ledger.resume() == ([(photo, "image", 0)], [])  # retried; nothing settled in the new crawl yet
    ledger.add([(logo, "image", 0)])  # asked for again (revalidated) in the new crawl
    assert sorted(ledger.resume()[0]) == [(photo, "image", 0), (logo, "image", 0)]
    state.close()


def test_merge_keeps_requisites_settled_by_any_process(tmp_path):
    """`state-merge` folds the requisite rows: settled anywhere wins, pending everywhere stays pending."""
    from archive.state.merge import merge_states
    from archive.state.requisites import ARCHIVED, PendingRequisites

    logo, photo, font = (f"https://cdn.example/{name}" for name in ("logo.png", "a.jpg", "f.woff2"))
    a, b = CrawlState(tmp_path / "a.sqlite", batched=True), CrawlState(tmp_path / "b.sqlite", batched=True)
    PendingRequisites(a).add([(logo, "image", 0), (photo, "image", 0)])
    ledger_b = PendingRequisites(b)
    ledger_b.add([(logo, "image", 0), (font, "font", 1)])
    ledger_b.settle(logo, ARCHIVED)
    ledger_b.finish_crawl()
    a.close()
    b.close()
    merged = CrawlState(tmp_path / "merged.sqlite", batched=True)
    try:
        for name in ("a", "b"):
            merge_states(merged, tmp_path / f"{name}.sqlite")
        ledger = PendingRequisites(merged)
        assert ledger.crawl == 2
        pending, settled = ledger.resume()
        assert sorted(pending) == [(photo, "image", 0), (font, "font", 1)] and settled == []
        outcome = merged._db.execute("SELECT outcome FROM requisites WHERE url = ?", (logo,)).fetchone()[0]
        assert outcome == ARCHIVED
    finally:
        merged.close()


def _written_before_session_10(db, call: str, url: str, now: float, **kw) -> None:
    """What record_fetch / record_extraction executed before they became one upsert each."""
    db.execute("INSERT OR IGNORE INTO pages (url, first_seen) VALUES (?, ?)", (url, now))
    if call == "extraction":
        db.execute("UPDATE pages SET is_article = ?, extracted_at = ?, published = COALESCE(?, published) "
                   "WHERE url = ?", (int(kw["is_article"]), now, kw["published"], url))
        return
    capture, record = kw["capture"], kw["record"]
    db.execute(
        """UPDATE pages SET fetch_url = ?, fetched_at = ?, status = ?, outcome = ?,
               etag = COALESCE(?, CASE WHEN ? THEN NULL ELSE etag END),
               last_modified = COALESCE(?, CASE WHEN ? THEN NULL ELSE last_modified END),
               changes = changes + (? = 'changed'), lastmod = COALESCE(?, lastmod),
               record_id = ?, record_file = ?, record_offset = ?
           WHERE url = ?""",
        (kw["fetch_url"], now, kw["status"], kw["outcome"], kw["etag"], capture is not None,
         kw["last_modified"], capture is not None, kw["outcome"], kw["lastmod"], *(record or (None,) * 3), url))
    if capture is not None:
        db.execute("""UPDATE pages SET payload_digest = ?, capture_uri = ?, capture_date = ?,
                          capture_record_id = ?, capture_file = ? WHERE url = ?""",
                   (capture.get("payload_digest"), capture["uri"], capture["date"], capture.get("record_id"),
                    kw["capture_file"], url))


def test_the_upserts_write_the_rows_the_three_statements_wrote(tmp_path):
    import random
    import sqlite3

    rng = random.Random(10)
    state = CrawlState(tmp_path / "new.sqlite")
    CrawlState(tmp_path / "old.sqlite", lock=False).close()
    old = sqlite3.connect(tmp_path / "old.sqlite", isolation_level=None)
    maybe = lambda value: rng.choice([None, value])  # noqa: E731
    for step in range(600):
        url, now = f"https://nhandan.vn/a-{rng.randint(0, 25)}", 1000.0 + step
        if rng.random() < 0.3:
            kw = {"is_article": rng.random() < 0.5, "published": maybe(f"2026-01-{rng.randint(1, 28):02d}")}
            _written_before_session_10(old, "extraction", url, now, **kw)
            state._db.execute("BEGIN")  # record_extraction stamps _now(): the same statement, with `now`
            state._db.execute(store._RECORD_EXTRACTION, (url, now, int(kw["is_article"]), now, kw["published"], None))
            state._db.execute("COMMIT")
            continue
        capture = maybe({"uri": url, "date": f"d{step}", "record_id": maybe(f"r{step}"),
                         "payload_digest": maybe(f"sha1:{step}")})
        kw = {"fetch_url": url + "?x", "status": rng.choice([200, 304, 404, None]),
              "outcome": rng.choice(["new", "changed", "unchanged", "not-modified", "gone"]),
              "etag": maybe(f'"e{step}"'), "last_modified": maybe(f"lm{step}"), "capture": capture,
              "capture_file": maybe(f"f{step}.warc.gz"), "lastmod": maybe(f"2026-02-{rng.randint(1, 28):02d}"),
              "record": maybe((f"r{step}", f"f{step}.warc.gz", step))}
        _written_before_session_10(old, "fetch", url, now, **kw)
        state.record_fetch(url, fetched_at=now, **kw)
    rows = lambda db: db.execute("SELECT * FROM pages ORDER BY url").fetchall()  # noqa: E731
    assert rows(state._db) == rows(old) and len(rows(old)) > 20
    state.close()


def test_batch_writer_commits_in_queue_order_whichever_thread_flushes():
    """flush() commits on the calling thread; batches still reach the database in queue order, and
    flush returns only once everything queued before it is committed (also what the writer thread
    had taken already)."""
    import threading
    import time

    from archive.state.batch_writer import BatchWriter

    committed: list[int] = []

    def run_batch(batch):
        # A transaction takes a while, the writer thread's longer: a flush that did not wait for the
        # batch the writer holds would commit after it and land first.
        time.sleep(0.004 if threading.current_thread().name == "crawl-state-writer" else 0.0005)
        committed.extend(write() for write in batch)

    writer = BatchWriter(run_batch)
    writer.INTERVAL = 0.001
    seen_after_flush = []

    def producer():
        for n in range(300):
            writer.put(lambda n=n: n)
            time.sleep(0.0003)  # the writer thread takes batches between the flushes
            if n % 7 == 0:
                writer.flush()
                seen_after_flush.append(n in committed)

    thread = threading.Thread(target=producer)
    thread.start()
    thread.join()
    writer.close()
    assert committed == list(range(300))
    assert all(seen_after_flush)


def test_batch_writer_flush_upto_a_mark_commits_only_when_the_marked_writes_wait():
    """flush(upto=mark()) returns once the writes queued before the mark are committed: it commits
    nothing on the calling thread when they are already (the corpus writer's usual case), and, when
    they are not, commits what waits, in queue order, later writes included."""
    import threading

    from archive.state.batch_writer import BatchWriter

    committed: list[tuple[str, int]] = []

    def run_batch(batch):
        committed.extend((threading.current_thread().name, write()) for write in batch)

    class Idle(BatchWriter):
        INTERVAL = 3600  # the writer thread never commits by itself here

    writer = Idle(run_batch)
    try:
        for n in range(3):
            writer.put(lambda n=n: n)
        mark = writer.mark()
        assert mark == 3
        writer.put(lambda: 3)
        writer.flush(upto=mark)  # 0–2 wait: everything queued is committed, here, in order
        assert [n for _, n in committed] == [0, 1, 2, 3]
        assert {name for name, _ in committed} == {threading.current_thread().name}
        writer.put(lambda: 4)
        writer.flush(upto=mark)  # 0–2 are committed: 4 stays queued
        assert [n for _, n in committed] == [0, 1, 2, 3]
        writer.flush(upto=writer.mark())
        assert [n for _, n in committed] == [0, 1, 2, 3, 4]
        writer.put(lambda: 5)
        writer.flush(upto=0)  # nothing to wait for
        writer.flush()  # None: all that is queued
        assert [n for _, n in committed] == [0, 1, 2, 3, 4, 5]
    finally:
        writer.close()


def test_batch_writer_flush_upto_waits_for_the_batch_the_writer_thread_holds():
    """A marked write the writer thread has taken but not committed yet: flush(upto) returns only
    after that batch's transaction, and commits nothing itself."""
    import threading

    from archive.state.batch_writer import BatchWriter

    taken, release = threading.Event(), threading.Event()
    committed: list[tuple[str, int]] = []

    def run_batch(batch):
        if threading.current_thread().name == "crawl-state-writer":
            taken.set()
            release.wait(5)
        committed.extend((threading.current_thread().name, write()) for write in batch)

    writer = BatchWriter(run_batch)
    writer.INTERVAL = 0.001
    try:
        writer.put(lambda: 0)
        mark = writer.mark()
        assert taken.wait(5)
        writer.put(lambda: 1)  # queued after the mark, while the writer thread holds 0
        flushed = threading.Thread(target=writer.flush, kwargs={"upto": mark})
        flushed.start()
        flushed.join(0.05)
        assert flushed.is_alive() and not committed  # waits for the writer thread's transaction
        release.set()
        flushed.join(5)
        assert not flushed.is_alive()
        assert committed[0] == ("crawl-state-writer", 0)
    finally:
        release.set()
        writer.close()
    assert [n for _, n in committed] == [0, 1]


def test_the_corpus_pipeline_commits_the_state_rows_queued_before_its_mark_first(tmp_path, monkeypatch):
    """CorpusPipeline._add: the crawl state's rows queued before the item's mark (its page's fetch) are
    committed before the corpus write; once they are, no transaction is spent for later rows."""
    import sqlite3
    from types import SimpleNamespace

    from archive.state.batch_writer import BatchWriter
    from crawler.pipelines.corpus import CorpusPipeline

    monkeypatch.setattr(BatchWriter, "INTERVAL", 3600)  # commits only when flushed: deterministic
    state = CrawlState(tmp_path / "state.sqlite", batched=True)
    path = tmp_path / "state.sqlite"

    def committed_urls():
        db = sqlite3.connect(path)
        try:
            return {url for url, in db.execute("SELECT url FROM pages")}
        finally:
            db.close()

    seen = []
    corpus = SimpleNamespace(add=lambda article, **fields: seen.append((article, committed_urls())) or article)
    crawler = SimpleNamespace(stats=None)
    pipeline = CorpusPipeline(corpus, crawler, until_close=False, order_wait=60, state=state)
    try:
        state.record_fetch("https://nhandan.vn/a-post1.html", fetch_url="https://nhandan.vn/a-post1.html",
                           status=200, outcome="new")
        mark = state.write_mark()
        state.record_fetch("https://nhandan.vn/b-post2.html", fetch_url="https://nhandan.vn/b-post2.html",
                           status=200, outcome="new")
        pipeline._add("a", state_mark=mark)  # a's row waits: committed first (b's with it, in order)
        assert seen[-1] == ("a", {"https://nhandan.vn/a-post1.html", "https://nhandan.vn/b-post2.html"})
        state.record_fetch("https://nhandan.vn/c-post3.html", fetch_url="https://nhandan.vn/c-post3.html",
                           status=200, outcome="new")
        pipeline._add("b", state_mark=mark)  # committed already: c's row is not committed for it
        assert "https://nhandan.vn/c-post3.html" not in seen[-1][1]
        pipeline._add("c")  # no mark (the replay's articles at close): everything queued
        assert "https://nhandan.vn/c-post3.html" in seen[-1][1]
    finally:
        pipeline.writer.close()
        state.close()
