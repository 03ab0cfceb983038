"""One archive, one corpus: a concurrent live crawl, a replay crawl of its archive and `archive extract`
of it write the same corpus files, byte for byte (docs/corpus-determinism.md)."""
from __future__ import annotations

import json

from archive.corpus.consistency import fold
from tests.test_reextract import archive_cli, archive_fields, corpus_files

# The topic gate's verdict is not in the archive (docs/replay.md), so the comparison with
# `archive extract` uses a crawl without one.
NO_TOPIC = "topic=none"


def test_live_replay_and_extract_write_the_same_corpus(crawl, tmp_path):
    live = crawl(NO_TOPIC)  # default concurrency: pages arrive in any order
    assert live.returncode == 0, live.stderr
    replayed = crawl(NO_TOPIC, offline=True, settings={"ARCHIVE_REPLAY": live.warc_dir})
    assert replayed.returncode == 0, replayed.stderr
    rebuilt = tmp_path / "rebuilt"
    done = archive_cli("extract", live.warc_dir, "--out", rebuilt, "--workers", "0")
    assert done.returncode == 0, done.stderr
    files = corpus_files(live.corpus_dir)
    assert len(files) > 8
    assert corpus_files(replayed.corpus_dir) == files
    assert corpus_files(rebuilt) == files
    # The manifests agree too (fetched_at is the record's WARC-Date in all three), but for what only
    # a crawl knows (the topic verdict) and, for the replay crawl, found_from: the page it followed
    # the link from, which a concurrent crawl finds in its own order (`archive extract` reads the
    # archived Referer).
    assert _folded(rebuilt) == _folded(live.corpus_dir)
    assert _folded(replayed.corpus_dir, "found_from") == _folded(live.corpus_dir, "found_from")
    # The nhandan original is the file; thoidai's copy ("Theo Báo Nhân Dân") is its alias.
    entries = _folded(live.corpus_dir)
    original = next(e for e in entries.values() if "day-manh-hop-tac-dao-tao" in (e.get("url") or ""))
    assert original["url"].startswith("https://nhandan.vn/")
    assert [a["url"] for a in original["aliases"]] == [
        "https://thoidai.com.vn/viet-nam-va-lao-day-manh-hop-tac-dao-tao-nguon-nhan-luc-chat-luong-cao-211205.html"]


def _folded(corpus_dir, *without: str) -> dict:
    lines = [json.loads(line) for line in (corpus_dir / "manifest.jsonl").read_text("utf-8").splitlines()]
    return {file: _drop(archive_fields(entry), without) for file, entry in fold(lines).items()}


def _drop(value, keys):
    if isinstance(value, dict):
        return {k: _drop(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_drop(v, keys) for v in value]
    return value
