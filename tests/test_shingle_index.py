"""The on-disk containment index: postings, re-indexing, forgetting, hashes over the full 64-bit range."""
from archive.corpus.shingle_index import ShingleIndex

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
