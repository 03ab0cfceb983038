"""archive.warc_process: the WARC writer in a child process, fed in batches."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

import archive.warc_process as warc_process
from archive.warc import RecordLocation, RevisitProfile, WarcWriteError
from archive.warc_process import WarcWriterProcess
from tests.test_warc_writer import INFO, PLAIN, Exchange, _fields, exchange_n, read_members, warcio_check

NEVER = 3600.0  # a flush delay no test waits for: only close(), flush() or the outbox limit send


def writer_for(tmp_path: Path, **options) -> WarcWriterProcess:
    options.setdefault("info", INFO)
    return WarcWriterProcess(tmp_path / "warc", prefix="proc", **options)


def only_file(tmp_path: Path) -> Path:
    [path] = (tmp_path / "warc").glob("*.warc.gz")
    return path


def test_batches_arrive_in_write_order_and_futures_resolve_without_close(tmp_path):
    writer = writer_for(tmp_path)
    # ~1 MB of bodies: several batches of _FLUSH_BYTES, plus a partial one sent after flush_delay.
    futures = [writer.write_exchange(exchange_n(n, 25_000)) for n in range(40)]
    ids = [future.record_id for future in futures]
    locations = [future.result(timeout=30) for future in futures]  # no flush(), no close()
    assert [location.record_id for location in locations] == ids
    assert writer.stats.records == 1 + 2 * 40
    writer.close()
    path = only_file(tmp_path)
    responses = [m for m in read_members(path) if m.type == "response"]
    assert [m.get("WARC-Record-ID") for m in responses] == ids
    assert [m.get("WARC-Target-URI") for m in responses] == [f"http://example.com/{n}" for n in range(40)]
    assert [(loc.offset, loc.length) for loc in locations] == [(m.offset, m.length) for m in responses]
    check = warcio_check(path)
    assert check.returncode == 0, check.stdout + check.stderr


def test_close_sends_what_is_still_in_the_outbox(tmp_path):
    writer = writer_for(tmp_path, flush_delay=NEVER)
    futures = [writer.write_exchange(exchange_n(n)) for n in range(3)]
    time.sleep(0.2)
    assert not any(future.done() for future in futures), "nothing is sent before the delay"
    writer.close()
    assert all(isinstance(future.result(timeout=0), RecordLocation) for future in futures)
    assert [m.type for m in read_members(only_file(tmp_path))] == ["warcinfo"] + ["request", "response"] * 3


def test_flush_sends_at_once(tmp_path):
    writer = writer_for(tmp_path, flush_delay=NEVER)
    future = writer.write_exchange(PLAIN)
    writer.flush()
    assert future.result(timeout=30).record_id == future.record_id
    writer.flush()  # an empty outbox: nothing to do
    writer.close()


def test_a_caller_past_the_outbox_limit_sends_itself(tmp_path, monkeypatch):
    monkeypatch.setattr(warc_process, "_OUTBOX_LIMIT", 50_000)
    writer = writer_for(tmp_path, flush_delay=NEVER)
    small = writer.write_exchange(exchange_n(1, 1_000))
    time.sleep(0.2)
    assert not small.done()
    big = writer.write_exchange(exchange_n(2, 90_000))  # the outbox passes the limit: sent by this call
    assert big.result(timeout=30) and small.result(timeout=0)
    writer.close()


def test_revisit_and_metadata_go_through_the_child(tmp_path):
    writer = writer_for(tmp_path)
    original = writer.write_exchange(PLAIN).result(timeout=30)
    revisit = writer.write_revisit(PLAIN, profile=RevisitProfile.IDENTICAL_PAYLOAD_DIGEST,
                                   refers_to_uri=PLAIN.url, refers_to_date=PLAIN.fetched_at,
                                   refers_to_record_id=original.record_id)
    metadata = writer.write_metadata(PLAIN.url, {"outlink": "http://example.com/b"},
                                     concurrent_to=original.record_id,
                                     date=datetime(2025, 1, 1, tzinfo=timezone.utc))
    assert revisit.result(timeout=30).record_id == revisit.record_id
    assert metadata.result(timeout=30).record_id == metadata.record_id
    writer.close()
    members = read_members(only_file(tmp_path))
    assert [m.type for m in members] == ["warcinfo", "request", "response", "request", "revisit", "metadata"]
    assert members[4].get("WARC-Refers-To") == original.record_id
    assert members[5].get("WARC-Concurrent-To") == original.record_id


def test_bad_input_is_refused_in_the_callers_thread(tmp_path):
    writer = writer_for(tmp_path)
    with pytest.raises(ValueError):
        writer.write_exchange(Exchange(**{**_fields(PLAIN), "fetched_at": datetime(2025, 1, 1)}))
    writer.write_exchange(PLAIN).result(timeout=30)  # still healthy
    writer.close()


def test_close_is_idempotent_and_later_writes_fail(tmp_path):
    writer = writer_for(tmp_path)
    writer.write_exchange(PLAIN)
    writer.close()
    writer.close()
    with pytest.raises(WarcWriteError, match="closed"):
        writer.write_exchange(PLAIN)
    assert writer.stats.records == 3


def test_a_dead_child_fails_pending_futures_and_later_writes(tmp_path):
    writer = writer_for(tmp_path, flush_delay=NEVER)
    writer.write_exchange(PLAIN)  # queued, never sent
    pending = writer.write_exchange(exchange_n(1))
    writer._process.kill()
    writer._process.join(10)
    with pytest.raises(WarcWriteError):
        pending.result(timeout=30)
    with pytest.raises(WarcWriteError):
        writer.write_exchange(PLAIN)
    with pytest.raises(WarcWriteError, match="exited unexpectedly"):
        writer.close()


def test_unwritable_directory_fails_at_construction(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(WarcWriteError, match="not writable"):
        WarcWriterProcess(blocker / "warc")
