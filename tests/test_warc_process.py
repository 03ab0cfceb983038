"""archive.warc.process: the WARC writer in a child process, fed in batches.

What it shares with the thread writer (closing, bad input, an unwritable directory) is
tested for both in tests/test_warc_writer.py."""
from __future__ import annotations

import os
import pickle
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

import archive.warc.pipe as warc_pipe
import archive.warc.process as warc_process
from archive.warc.exchange import Exchange, RecordLocation
from archive.warc.records import RevisitProfile
from archive.warc.writer import WarcWriteError
from archive.warc.process import WarcWriterProcess
from tests.test_warc_writer import INFO, PLAIN, exchange_n, read_members, warcio_check

NEVER = 3600.0  # an I/O thread that never wakes by itself: only close(), flush() or the outbox limit send


def writer_for(tmp_path: Path, **options) -> WarcWriterProcess:
    options.setdefault("info", INFO)
    return WarcWriterProcess(tmp_path / "warc", prefix="proc", **options)


def only_file(tmp_path: Path) -> Path:
    [path] = (tmp_path / "warc").glob("*.warc.gz")
    return path


def wait_for_records_on_disk(tmp_path: Path, count: int) -> list:
    """Members of the `.open` file once it holds `count` records (the child wrote them)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for path in (tmp_path / "warc").glob("*.open"):
            members = read_members(path)
            if len(members) >= count:
                return members
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} records reached the disk")


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
    assert not list((tmp_path / "warc").glob("*.open")), "nothing is sent before the delay"
    writer.close()
    assert all(isinstance(future.result(timeout=0), RecordLocation) for future in futures)
    assert [m.type for m in read_members(only_file(tmp_path))] == ["warcinfo"] + ["request", "response"] * 3


def test_flush_sends_at_once_and_answers_wait_for_the_io_thread(tmp_path):
    writer = writer_for(tmp_path, flush_delay=NEVER)
    future = writer.write_exchange(PLAIN)
    writer.flush()
    assert [m.type for m in wait_for_records_on_disk(tmp_path, 3)] == ["warcinfo", "request", "response"]
    assert not future.done(), "the answer is read by the I/O thread, which has not woken"
    writer.flush()  # an empty outbox: nothing to do
    writer.close()
    assert future.result(timeout=0).record_id == future.record_id


def test_a_caller_past_the_outbox_limit_sends_itself(tmp_path, monkeypatch):
    monkeypatch.setattr(warc_process, "_OUTBOX_LIMIT", 50_000)
    writer = writer_for(tmp_path, flush_delay=NEVER)
    small = writer.write_exchange(exchange_n(1, 1_000))
    time.sleep(0.2)
    assert not list((tmp_path / "warc").glob("*.open")), "nothing sent below the limit"
    writer.write_exchange(exchange_n(2, 90_000))  # the outbox passes the limit: sent by this call
    assert len(wait_for_records_on_disk(tmp_path, 5)) == 5
    writer.close()
    assert small.result(timeout=0)


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



def test_a_record_that_will_not_build_fails_alone_in_its_batch(tmp_path):
    """The child writes a batch as one job; a record refused there fails its own future only."""
    writer = writer_for(tmp_path, io_thread=False)
    first = writer.write_exchange(exchange_n(1))
    bad = writer.write_metadata(PLAIN.url, {"note": "line\nbreak"})
    last = writer.write_exchange(exchange_n(2))
    writer.flush()  # the three go as one batch
    deadline = time.monotonic() + 30
    while not last.done() and time.monotonic() < deadline:
        writer.pump()
        time.sleep(0.01)
    assert first.result(timeout=30).record_id == first.record_id
    with pytest.raises(ValueError, match="line break"):
        bad.result(timeout=30)
    assert last.result(timeout=30).record_id == last.record_id
    writer.close()
    assert [m.type for m in read_members(only_file(tmp_path))] == ["warcinfo", "request", "response", "request",
                                                                    "response"]


def test_a_dead_child_fails_what_it_never_wrote_and_close_says_so(tmp_path):
    writer = writer_for(tmp_path, flush_delay=NEVER)
    pending = writer.write_exchange(PLAIN)  # still in the outbox
    writer._process.kill()
    writer._process.join(10)
    with pytest.raises(WarcWriteError, match="gone|exited unexpectedly"):
        writer.close()
    with pytest.raises(WarcWriteError):
        pending.result(timeout=0)


def test_the_io_thread_notices_a_dead_child_and_later_writes_fail(tmp_path):
    writer = writer_for(tmp_path)
    writer._process.kill()
    writer._process.join(10)
    accepted = []
    deadline = time.monotonic() + 30
    with pytest.raises(WarcWriteError, match="exited unexpectedly"):
        while time.monotonic() < deadline:  # accepted until the I/O thread's next wake-up
            accepted.append(writer.write_exchange(PLAIN))
            time.sleep(0.01)
    for future in accepted:
        with pytest.raises(WarcWriteError):
            future.result(timeout=30)
    with pytest.raises(WarcWriteError, match="exited unexpectedly"):
        writer.close()


def test_a_caller_far_ahead_of_the_io_thread_never_deadlocks(tmp_path, monkeypatch):
    """Many small batches sent by callers (outbox limit) while the I/O thread sleeps: the child's
    answers pile up unread, which must not stop it reading jobs (it did, and the crawl hung)."""
    monkeypatch.setattr(warc_process, "_OUTBOX_LIMIT", 1)  # every write sends its own batch
    writer = writer_for(tmp_path, flush_delay=NEVER)
    futures = [writer.write_exchange(exchange_n(n, 30)) for n in range(10_000)]
    writer.close()
    assert all(future.result(timeout=0) for future in futures)
    assert writer.stats.records == 1 + 2 * 10_000


def pump_until_done(writer: WarcWriterProcess, futures, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not all(future.done() for future in futures):
        assert time.monotonic() < deadline, "answers never settled"
        writer.pump()
        time.sleep(0.01)


def test_caller_driven_writer_has_no_thread_and_settles_in_pump(tmp_path):
    import threading

    before = set(threading.enumerate())
    writer = writer_for(tmp_path, io_thread=False)
    assert set(threading.enumerate()) == before, "io_thread=False starts no thread"
    futures = [writer.write_exchange(exchange_n(n, 2_000)) for n in range(20)]
    time.sleep(0.2)
    assert not any(future.done() for future in futures), "nothing settles without pump()"
    pump_until_done(writer, futures)
    assert [future.result().record_id for future in futures] == [future.record_id for future in futures]
    writer.close()
    responses = [m for m in read_members(only_file(tmp_path)) if m.type == "response"]
    assert [m.get("WARC-Record-ID") for m in responses] == [future.record_id for future in futures]


def test_caller_driven_writes_pump_by_themselves_once_the_outbox_is_big(tmp_path):
    writer = writer_for(tmp_path, io_thread=False)
    for n in range(12):  # ~330 KB: past _PUMP_BYTES at the 10th write, sent without any pump() call
        writer.write_exchange(exchange_n(n, 40_000))
    assert len(wait_for_records_on_disk(tmp_path, 1 + 2 * 9)) >= 19
    writer.close()  # sends the rest and waits for the file
    assert writer.stats.records == 1 + 2 * 12


def test_caller_driven_pump_notices_a_dead_child(tmp_path):
    writer = writer_for(tmp_path, io_thread=False)
    pending = writer.write_exchange(PLAIN)
    writer._process.kill()
    writer._process.join(10)
    deadline = time.monotonic() + 30
    while not pending.done() and time.monotonic() < deadline:
        writer.pump()
        time.sleep(0.01)
    with pytest.raises(WarcWriteError):
        pending.result(timeout=0)
    with pytest.raises(WarcWriteError):
        writer.write_exchange(PLAIN)
    with pytest.raises(WarcWriteError):
        writer.close()


def test_caller_driven_deadlock_free_under_the_outbox_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(warc_process, "_OUTBOX_LIMIT", 1)  # every write waits until it is in the pipe
    writer = writer_for(tmp_path, io_thread=False)
    futures = [writer.write_exchange(exchange_n(n, 30)) for n in range(10_000)]
    writer.close()
    assert all(future.result(timeout=0) for future in futures)


def test_caller_driven_blocking_wait_starts_the_io_thread_instead_of_hanging(tmp_path):
    writer = writer_for(tmp_path, io_thread=False)
    future = writer.write_exchange(PLAIN)
    assert future.result(timeout=30).record_id == future.record_id  # nobody pumps: must not hang
    assert writer._io is not None and writer._io.is_alive()
    later = writer.write_exchange(exchange_n(1))
    assert later.result(timeout=30)
    writer.pump()  # a no-op now
    writer.close()
    assert writer.stats.records == 5


def big_exchanges() -> list[Exchange]:
    """One with the payload as its block (not chunked), one chunked, one too small to go out of band."""
    base = exchange_n(1)
    body = b"<p>page</p>" * 1000
    return [Exchange(base.url, base.request_head, b"", base.response_head, body, body, "127.0.0.1", base.fetched_at),
            Exchange(base.url, base.request_head, b"", base.response_head, b"2710\r\n" + body + b"\r\n0\r\n\r\n",
                     body, None, base.fetched_at, truncated="length"),
            base]


@pytest.mark.parametrize("protocol", range(2, pickle.HIGHEST_PROTOCOL + 1))
def test_an_exchange_pickles_alike_at_every_protocol(protocol):
    for exchange in big_exchanges():
        copy = pickle.loads(pickle.dumps(exchange, protocol))
        assert copy == exchange and type(copy.payload) is bytes
        assert (copy.payload is copy.response_block_body) == (exchange.payload is exchange.response_block_body)


def test_a_frame_sends_each_body_once_out_of_band_and_reads_back_in_pieces():
    exchanges = big_exchanges()
    buffers = warc_pipe.frame(("jobs", [("exchange", str(n), e) for n, e in enumerate(exchanges)]))
    sizes = [len(b) for b in buffers]
    body = len(exchanges[0].payload)
    # head, pickle, then the shared body once, the chunked block and its payload
    assert sizes[2:] == [body, len(exchanges[1].response_block_body), body] and sizes[1] < 1000
    read, write = os.pipe()
    data = b"".join(bytes(b) for b in buffers)

    def dribble():  # small writes: the reader must put every part together
        for start in range(0, len(data), 777):
            os.write(write, data[start:start + 777])
            time.sleep(0.0005)
        os.close(write)

    writer = threading.Thread(target=dribble)
    writer.start()
    kind, jobs = warc_pipe.read_frame(read)
    writer.join()
    assert kind == "jobs" and [job[2] for job in jobs] == exchanges
    assert jobs[0][2].payload is jobs[0][2].response_block_body
    with pytest.raises(EOFError):
        warc_pipe.read_frame(read)
    os.close(read)


def test_caller_driven_pump_sends_a_lone_record_only_after_max_wait(tmp_path):
    """Each batch costs the event loop a pipe write and an answer: a pump sends the outbox once it
    holds _MIN_BATCH records or its oldest has waited _MAX_WAIT, not a record at every tick."""
    writer = writer_for(tmp_path, io_thread=False)
    lone = writer.write_exchange(PLAIN)
    writer.pump()
    assert len(writer._outbox) == 1, "a record just queued waits for company"
    time.sleep(warc_process._MAX_WAIT)
    writer.pump()
    assert not writer._outbox, "waited long enough: sent"
    batch = [writer.write_exchange(exchange_n(n, 2_000)) for n in range(warc_process._MIN_BATCH)]
    writer.pump()
    assert not writer._outbox, "a full batch goes at once"
    pump_until_done(writer, [lone, *batch])
    writer.close()
    assert writer.stats.records == 1 + 2 * (1 + warc_process._MIN_BATCH)


def answer_pipe():
    import multiprocessing

    reader, writer_end = multiprocessing.get_context("forkserver").Pipe(duplex=False)
    return reader, writer_end


def test_answers_reach_connection_recv_whole_and_in_order():
    """The child's answers are framed as `Connection.recv` reads them: small ones written at once by
    the sender, larger than PIPE_BUF ones by the sender's thread, never overtaking each other."""
    reader, writer_end = answer_pipe()
    sender = warc_pipe.AnswerSender(writer_end)
    messages = [("answers", [("done", f"<urn:uuid:{n}>", RecordLocation("f.warc.gz", n, 10, str(n)))] * (n % 5 + 1),
                 (n, n, 1)) for n in range(200)]
    messages[50] = messages[120] = ("answers", [("done", "x" * 100, None)] * 200, (0, 0, 0))  # ~20 KB
    for message in messages:
        sender.send(message)
    sender.close()
    assert [reader.recv() for _ in messages] == messages
    assert not reader.poll(0.1)


def test_an_answer_never_waits_for_a_parent_that_does_not_read():
    """A full answer pipe (the parent busy elsewhere) must not block the sending thread: the writer
    thread sends answers, and a child stuck there would stop reading jobs."""
    reader, writer_end = answer_pipe()
    sender = warc_pipe.AnswerSender(writer_end)
    messages = [("answers", [("done", "y" * 900, None)], (n, 0, 0)) for n in range(6_000)]  # ~6 MB, pipe 64 KB-1 MB
    started = time.monotonic()
    for message in messages:
        sender.send(message)
    assert time.monotonic() - started < 10, "send waited for the reader"
    assert sender._queued > 0, "the pipe filled, so the thread holds the rest"
    received = [reader.recv() for _ in messages]
    sender.close()
    assert received == messages


def test_answers_to_a_parent_gone_are_dropped_quietly():
    reader, writer_end = answer_pipe()
    sender = warc_pipe.AnswerSender(writer_end)
    reader.close()
    sender.send(("answers", [], (0, 0, 0)))
    sender.send(("answers", [("done", "z" * 100, None)] * 100, (0, 0, 0)))  # past PIPE_BUF: the thread's
    sender.close()  # returns: nothing waits on the dead pipe
