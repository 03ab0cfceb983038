"""The on-disk containment index: postings, re-indexing, forgetting, hashes over the full 64-bit range."""
import os
import random
from collections import Counter
from pathlib import Path

import pytest

from archive.corpus.neardup.shingle_index import ShingleIndex, _key as ShingleIndex_key

BIG = (1 << 64) - 8  # above the signed range: must round-trip through SQLite's int64


def test_hits_count_shared_hashes_per_file(tmp_path):
    index = ShingleIndex(tmp_path / "i.sqlite")
    a = index.add_file("000_a.txt", 10, 1, [8, 16, 24, BIG])
    b = index.add_file("001_b.txt", 10, 1, [16, 32])
    assert index.hits([16, 24, BIG, 40]) == {a: 3, b: 1}
    index.add_postings(b, [40])
    assert index.hits([40]) == {b: 1}
    assert index.hits([]) == {}


def test_reopened_index_knows_files_by_size_and_mtime(tmp_path):
    path = tmp_path / "i.sqlite"
    first = ShingleIndex(path)
    fid = first.add_file("000_a.txt", 10, 5, [8])
    first.close()
    again = ShingleIndex(path)
    assert again.file_id("000_a.txt", 10, 5) == fid
    assert again.file_id("000_a.txt", 11, 5) is None  # changed on disk: must be indexed again
    assert again.file_id("001_b.txt", 10, 5) is None


def test_reindexed_and_forgotten_files_leave_no_live_postings(tmp_path):
    index = ShingleIndex(tmp_path / "i.sqlite")
    old = index.add_file("000_a.txt", 10, 1, [8, 16])
    new = index.add_file("000_a.txt", 12, 2, [24])
    assert new != old and index.file_id("000_a.txt", 12, 2) == new
    assert index.hits([8, 16, 24]) == {new: 1}  # the old postings no longer count
    index.forget(keep=set())
    assert index.file_id("000_a.txt", 12, 2) is None and index.hits([24]) == {}


def test_a_many_hash_query_is_split_below_the_parameter_limit(tmp_path):
    index = ShingleIndex(tmp_path / "i.sqlite")
    sample = list(range(0, 8 * 5000, 8))
    fid = index.add_file("000_a.txt", 1, 1, sample)
    assert index.hits(sample) == {fid: 5000}


# --------------------------------------------------------------------------- stop hashes (issue #25)
def all_counts(index, sample):
    """What the lookup returned before issue #25: every posting of every hash, counted per live file."""
    keys = [ShingleIndex_key(h) for h in set(sample)]
    rows = index._db.execute(f"SELECT p.file FROM postings p JOIN files f ON f.id = p.file "
                             f"WHERE p.h IN ({','.join('?' * len(keys))})", keys)
    return Counter(fid for (fid,) in rows)


def test_counts_are_exact_and_complete_while_stop_hashes_cannot_reach_the_bound(tmp_path):
    """Prefix filtering: with fewer than `at_least` stop hashes in the sample, the answer is the
    brute-force one (every file holding at least `at_least` hashes, with its count)."""
    rng = random.Random(7)
    common = [8 * k for k in range(1, 6)]  # in every file: stop hashes once more than stop_df hold them
    shared = [8 * k for k in range(100, 400)]  # a long tail of stock phrases
    index = ShingleIndex(tmp_path / "i.sqlite", stop_df=10)
    for n in range(120):
        own = [8 * (10_000 + 100 * n + k) for k in range(30)]
        index.add_file(f"{n:03d}_x.txt", 1, 1, common + rng.sample(shared, 6) + own)
    for n in range(0, 120, 7):  # a copy of file n: most of its hashes, some stop hashes, a few new
        held = [8 * (10_000 + 100 * n + k) for k in range(24)] + common[:3] + [8 * (900_000 + n)]
        for at_least in (1, 4, 10, 22, 27):
            expected = Counter({f: c for f, c in all_counts(index, held).items() if c >= at_least})
            if at_least > 3:  # three stop hashes in `held`: exhaustive from four on
                assert index.hits(held, at_least=at_least) == expected, (n, at_least)
            else:  # only the newest stop_df holders of a stop hash, but every count exact
                got = index.hits(held, at_least=at_least)
                assert all(expected[f] == c for f, c in got.items()) and n + 1 in got


def test_a_hash_held_by_stop_df_files_is_counted_and_by_one_more_is_a_stop_hash(tmp_path):
    """The look-up counts a hash's postings up to `stop_df + 1`: the boundary on both sides."""
    index = ShingleIndex(tmp_path / "i.sqlite", stop_df=3)
    held = [index.add_file(f"{n:03d}_x.txt", 1, 1, [8, 16 * (n + 2)]) for n in range(3)]
    assert index.hits([8, 16 * 2, 999_992]) == {held[0]: 2, held[1]: 1, held[2]: 1}  # 8 in 3 files: counted
    fourth = index.add_file("003_x.txt", 1, 1, [8, 16 * 5])
    # 8 in 4 files: a stop hash, which only verifies the candidates the other hashes found.
    assert index.hits([8, 16 * 2, 999_992], at_least=2) == {held[0]: 2}
    assert index.hits([8, 16 * 5], at_least=2) == {fourth: 2}
    assert 8 in index._stop_memo


def test_a_hash_in_every_file_costs_the_same_however_many_files_hold_it(tmp_path):
    """SQLite VM steps of one lookup, with 200 and with 2,000 files holding the sample's common hashes."""
    def steps(files):
        index = ShingleIndex(tmp_path / f"{files}.sqlite", stop_df=20)
        for n in range(files):
            index.add_file(f"{n:05d}_x.txt", 1, 1, [8, 16, 24] + [8 * (1000 + 50 * n + k) for k in range(40)])
        sample = [8, 16, 24] + [8 * (1000 + 50 * 77 + k) for k in range(40)]  # file 77's text again
        index.hits([999_992])  # (the first look-up fills the key filter: its cost grows with the index)
        counter = [0]
        index._db.set_progress_handler(lambda: counter.__setitem__(0, counter[0] + 1) or 0, 10)
        assert index.hits(sample, at_least=35) == {78: 43}
        index._db.set_progress_handler(None, 0)
        return counter[0]
    small, large = steps(200), steps(2000)
    assert large <= small * 1.05, (small, large)


def test_stop_hashes_met_once_are_not_read_again(tmp_path):
    """A stop hash's postings are never deleted, so it stays one: the second look-up skips its scan."""
    index = ShingleIndex(tmp_path / "i.sqlite", stop_df=20)
    for n in range(100):
        index.add_file(f"{n:05d}_x.txt", 1, 1, [8, 16, 24] + [8 * (1000 + 50 * n + k) for k in range(40)])
    sample = [8, 16, 24] + [8 * (1000 + 50 * 77 + k) for k in range(40)]

    def steps():
        counter = [0]
        index._db.set_progress_handler(lambda: counter.__setitem__(0, counter[0] + 1) or 0, 10)
        assert index.hits(sample, at_least=35) == {78: 43}
        index._db.set_progress_handler(None, 0)
        return counter[0]
    first, second = steps(), steps()
    assert index._stop_memo == {8, 16, 24}
    assert second < first, (first, second)


def test_a_sample_mostly_of_stop_hashes_finds_the_newest_holders(tmp_path):
    index = ShingleIndex(tmp_path / "i.sqlite", stop_df=3)
    ids = [index.add_file(f"{n:03d}_x.txt", 1, 1, [8, 16, 24, 8 * (100 + n)]) for n in range(10)]
    got = index.hits([8, 16, 24], at_least=3)
    assert got == {fid: 3 for fid in ids[-3:]}


# --------------------------------------------------------------------------- batched commits (a crawl's corpus)
def test_batched_writes_are_seen_at_once_here_and_by_others_once_committed(tmp_path):
    path = tmp_path / "i.sqlite"
    index = ShingleIndex(path, batched=True)
    fid = index.add_file("000_a.txt", 10, 1, [8, 16, 24])
    assert index.hits([8, 16]) == {fid: 2} and index.file_id("000_a.txt", 10, 1) == fid  # same connection
    other = ShingleIndex(path)  # another reader of the file: the last commit only
    assert other.file_id("000_a.txt", 10, 1) is None and other.hits([8]) == {}
    index.commit(older_than=3600)  # a checkpoint: the transaction is younger than that
    assert other.file_id("000_a.txt", 10, 1) is None
    index.commit()
    assert other.file_id("000_a.txt", 10, 1) == fid and other.hits([8, 16]) == {fid: 2}
    other.close()
    index.close()


def test_a_batch_is_committed_every_commit_every_writes_and_at_close(tmp_path, monkeypatch):
    from archive.corpus.neardup import shingle_index

    monkeypatch.setattr(shingle_index, "COMMIT_EVERY", 3)
    path = tmp_path / "i.sqlite"
    index = ShingleIndex(path, batched=True)
    other = ShingleIndex(path)
    fids = [index.add_file(f"00{n}_a.txt", 10, 1, [8 * (n + 1)]) for n in range(4)]
    assert [other.file_id(f"00{n}_a.txt", 10, 1) for n in range(4)] == [*fids[:3], None]
    index.close()
    assert other.file_id("003_a.txt", 10, 1) == fids[3]
    other.close()


def test_a_failed_write_in_a_batch_undoes_itself_only(tmp_path):
    index = ShingleIndex(tmp_path / "i.sqlite", batched=True)
    kept = index.add_file("000_a.txt", 10, 1, [8, 16])
    try:
        index.add_file("001_b.txt", 10, 1, [24, "not a hash"])
    except TypeError:
        pass
    else:
        raise AssertionError("a non-integer hash was indexed")
    assert index.file_id("001_b.txt", 10, 1) is None and index.hits([24]) == {}
    assert index.hits([8, 16]) == {kept: 2}
    index.close()


def _spread_index(path, files=300, per_file=190, seed=3):
    """An index whose next write touches ~`per_file` different B-tree pages (random hashes)."""
    rng = random.Random(seed)
    index = ShingleIndex(path, batched=True)
    for n in range(files):
        index.add_file(f"{n:03d}_x.txt", 1, 1, [rng.getrandbits(64) for _ in range(per_file)])
    return index, rng


def _all_postings(index):
    return index._db.execute("SELECT h, file FROM postings ORDER BY h, file").fetchall()


def test_a_write_keeps_its_undo_journal_in_memory(tmp_path):
    """Each write was a savepoint whose pages were copied to a sub-journal first, which SQLite spilled to
    a temporary file (opened, written page by page, deleted) past 64 KiB: most of a write's CPU in a
    crawl (docs/performance.md, session 19). No such file is open while the postings go in (since
    session 21 a write has no savepoint of its own, and a journal SQLite needs stays in memory)."""
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():
        pytest.skip("needs /proc/self/fd")
    index, rng = _spread_index(tmp_path / "i.sqlite")
    open_during_write = set()

    def look(statement):
        if "INSERT OR IGNORE INTO postings" in statement:
            for fd in fd_dir.iterdir():
                try:
                    open_during_write.add(os.readlink(fd))
                except OSError:
                    pass

    index._db.set_trace_callback(look)
    index.add_file("300_x.txt", 1, 1, [rng.getrandbits(64) for _ in range(190)])
    index._db.set_trace_callback(None)
    assert open_during_write  # the callback ran while the write did
    assert not [name for name in open_during_write if "etilqs" in name]  # SQLite's temporary file names
    index.close()


def test_a_write_failing_half_way_through_many_pages_undoes_itself_only(tmp_path):
    """A write that fails after some of its postings went in (here a trigger aborts at the 150th) is
    undone alone: the batch goes back to its start and its earlier writes run again, so they stay,
    with the same ids, and the next write takes the next id; a hash SQLite cannot hold is refused
    before anything is written."""
    import sqlite3

    index, rng = _spread_index(tmp_path / "i.sqlite")
    index.commit()
    sample = [rng.getrandbits(60) * 8 for _ in range(190)]
    # Made outside the batch: going back to the batch's start would undo a trigger made in it.
    index._db.execute(f"CREATE TEMP TRIGGER trouble AFTER INSERT ON postings WHEN NEW.h = {sample[149]} "
                      "BEGIN SELECT RAISE(ABORT, 'trouble'); END")
    earlier = [index.add_file(f"{n}_x.txt", 1, 1, [rng.getrandbits(64) for _ in range(190)]) for n in range(300, 340)]
    before = _all_postings(index)
    files_before = index._db.execute("SELECT id, name FROM files ORDER BY id").fetchall()
    with pytest.raises(sqlite3.IntegrityError, match="trouble"):
        index.add_file("340_x.txt", 1, 1, sample)
    with pytest.raises(OverflowError):
        index.add_file("340_x.txt", 1, 1, [*sample, 1 << 65])
    assert _all_postings(index) == before
    assert index._db.execute("SELECT id, name FROM files ORDER BY id").fetchall() == files_before
    assert index._db.in_transaction  # the batch is still open, not rolled back
    assert [index.file_id(f"{n}_x.txt", 1, 1) for n in range(300, 340)] == earlier
    assert index.add_file("341_x.txt", 1, 1, [8]) == earlier[-1] + 1
    index._db.execute("DROP TRIGGER trouble")
    index.close()
    reopened = ShingleIndex(tmp_path / "i.sqlite")
    assert _all_postings(reopened) == sorted([*before, (8, earlier[-1] + 1)])
    assert reopened.file_id("341_x.txt", 1, 1) == earlier[-1] + 1
    reopened.close()


def test_a_batch_whose_earlier_write_answers_otherwise_when_run_again_is_refused(tmp_path):
    """Running a batch's writes again must give what they gave the first time (the ids the corpus
    holds); a write that does not makes the undo an error, and the batch is rolled back whole."""
    import sqlite3

    index = ShingleIndex(tmp_path / "i.sqlite", batched=True)
    kept = index.add_file("000_a.txt", 1, 1, [8, 16])
    index.commit()
    index.add_file("001_b.txt", 1, 1, [24])
    answers = iter((1, 2))
    index._write(lambda: next(answers))

    def failing():
        raise RuntimeError("write failed")
    with pytest.raises(sqlite3.DatabaseError, match="another answer"):
        index._write(failing)
    assert index.file_id("001_b.txt", 1, 1) is None  # the batch is gone
    assert index.hits([8, 16, 24]) == {kept: 2}
    index.close()


def test_a_look_up_whose_held_hashes_cannot_reach_the_bound_reads_no_holders(tmp_path):
    """When fewer of the sample's hashes have postings than `at_least`, no file can hold `at_least` of
    them: the answer is empty without reading any holder; at the bound itself it is read and found."""
    index = ShingleIndex(tmp_path / "i.sqlite", stop_df=2)
    a = index.add_file("000_a.txt", 1, 1, [8, 16, 24])
    b = index.add_file("001_b.txt", 1, 1, [16, 24, 32])
    index.add_file("002_c.txt", 1, 1, [24, 40])  # 24 is now a stop hash (three holders)
    sample = [16, 24, 32, 48, 56]  # 16, 32: held by one or two files; 24: stop; 48, 56: none
    statements = []
    index._db.set_trace_callback(statements.append)
    assert index.hits(sample, at_least=4) == {}
    assert not [sql for sql in statements if sql.startswith(("SELECT file", "SELECT id"))]
    assert index.hits(sample, at_least=3) == {b: 3}
    assert [sql for sql in statements if sql.startswith("SELECT file")]
    assert index.hits([8, 16, 24], at_least=3) == {a: 3}
    index.close()


def test_the_fold_into_sqlite_keys_is_the_one_indexes_were_written_with():
    """`_key` names the on-disk key of a hash: an index written by an earlier release must still be
    read the same way (hashes at or above 2^63 lose their top bit)."""
    assert [ShingleIndex_key(h) for h in (0, 8, (1 << 63) - 8, 1 << 63, BIG)] == [
        0, 8, (1 << 63) - 8, 0, (1 << 63) - 8]


def test_the_key_filter_and_one_statement_a_file_change_no_answer(tmp_path, monkeypatch):
    """The look-up asks SQLite only about hashes the key filter may hold, and a file's postings go in as
    one statement: on a workload of near-copies, shared boilerplate (stop hashes), re-indexed and
    forgotten files, added postings and hashes above 2^63, every answer is the one an index asking
    about every hash and binding postings row by row gives, item for item and in order, and both
    indexes hold the same postings."""
    from archive.corpus.neardup import key_filter

    class EveryKey(key_filter.KeyFilter):
        def maybe_held(self, keys):
            return list(keys)

    filtered = ShingleIndex(tmp_path / "a.sqlite", stop_df=8, batched=True)
    monkeypatch.setattr("archive.corpus.neardup.shingle_index.KeyFilter", EveryKey)
    monkeypatch.setattr("archive.corpus.neardup.shingle_index._has_json_each", lambda db: False)
    unfiltered = ShingleIndex(tmp_path / "b.sqlite", stop_df=8, batched=True)  # and postings bound row by row
    rng = random.Random(11)
    boiler = [rng.getrandbits(61) * 8 for _ in range(30)] + [BIG - 8 * k for k in range(4)]
    kept, nonempty = [], 0
    for n in range(250):
        if kept and rng.random() < 0.4:  # a near-copy of an earlier file
            sample = [h for h in rng.choice(kept) if rng.random() < 0.9] + [rng.getrandbits(61) * 8 for _ in range(5)]
        else:
            sample = [rng.getrandbits(61) * 8 for _ in range(rng.randint(20, 200))]
        sample += rng.sample(boiler, rng.randint(0, 20)) + [(1 << 63) + 8 * rng.getrandbits(56)]
        for at_least in (1, max(1, int(0.8 * len(set(sample)))), rng.randint(1, len(sample))):
            answer = filtered.hits(sample, at_least=at_least)
            assert list(answer.items()) == list(unfiltered.hits(sample, at_least=at_least).items())
            nonempty += bool(answer)
        name = f"{n:03d}_x.txt" if n < 10 or rng.random() > 0.05 else f"{rng.randrange(n):03d}_x.txt"
        fid = filtered.add_file(name, n, n, sample)
        assert unfiltered.add_file(name, n, n, sample) == fid
        kept.append(sample)
        if rng.random() < 0.05:
            more = [rng.getrandbits(61) * 8 for _ in range(8)] + rng.sample(boiler, 2)
            filtered.add_postings(fid, more), unfiltered.add_postings(fid, more)
        if rng.random() < 0.02:
            keep = {f"{k:03d}_x.txt" for k in range(n + 1) if rng.random() < 0.9}
            filtered.forget(keep), unfiltered.forget(keep)
    assert nonempty > 200
    assert _all_postings(filtered) == _all_postings(unfiltered)
    filtered.close(), unfiltered.close()


def test_postings_another_connection_committed_are_found(tmp_path):
    """The filter is filled at open; hashes another connection indexed later are looked up too."""
    path = tmp_path / "i.sqlite"
    reader = ShingleIndex(path)
    assert reader.hits([8, 16]) == {}
    writer = ShingleIndex(path)
    fid = writer.add_file("000_a.txt", 10, 1, [8, 16, BIG])
    writer.close()
    assert reader.hits([8, 16, BIG]) == {fid: 3}
    reopened = ShingleIndex(path)  # and one opened afterwards fills it from disk
    assert reopened.hits([16, BIG, 24], at_least=2) == {fid: 2}
    reader.close(), reopened.close()


def test_opening_an_index_reads_no_postings_until_the_first_look_up(tmp_path):
    """The key filter is filled by the first look-up (on the corpus writer's thread), not at open: a large
    corpus's index would otherwise hold back the crawl's start."""
    path = tmp_path / "i.sqlite"
    first = ShingleIndex(path)
    held = first.add_file("000_x.txt", 1, 1, [8, 16, 24])
    first.close()
    index = ShingleIndex(path)
    assert index._data_version is None  # nothing read yet
    later = index.add_file("001_x.txt", 1, 1, [32, 40, 48])  # before any look-up: read by its fill
    assert index.hits([8, 16, 24, 32, 40, 48], at_least=3) == {held: 3, later: 3}
    assert index._data_version is not None
