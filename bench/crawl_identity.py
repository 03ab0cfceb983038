"""Do two crawls of the same pages hold the same output? For A/B runs of two codes (docs/performance.md).

    python -m bench.crawl_identity RUN_A RUN_B

RUN_A and RUN_B are single crawls' directories, each holding `warc/` and `corpus/`: under
bench/default_crawl.py's `--keep DIR` they are `DIR/<host>/on-0` (capture on, first round) or
`off-0`, not DIR itself. Compared:
- corpus files by name without their number (`NNN_<url hash>.txt`: the number follows the fetch
  times), byte for byte;
- manifest rows by canonical URL, without what each run stamps itself (file name and number,
  WARC file, offset, record id, fetch time); fields that differ are counted by name;
- WARC records as a multiset: type, WARC headers without ids, dates and lengths (`VOLATILE`), the
  HTTP head without its `Date` line and, of a request, its `Referer` (a photo shared by several
  pages is asked for from whichever page came first), and the payload's SHA-256.
Between two runs of the same code, `found_from` and `rule` of a few hundred rows differ (which page
linked an article first); nothing else does. Exit code 1 when files or records differ.
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import json
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

RUN_FIELDS = {"file", "number", "warc_file", "warc_offset", "warc_record_id", "fetched_at"}
VOLATILE = {"WARC-Date", "WARC-Record-ID", "WARC-Concurrent-To", "WARC-Warcinfo-ID", "WARC-Refers-To",
            "WARC-Refers-To-Date", "WARC-Filename", "Content-Length", "WARC-Block-Digest"}
TIMED_HEAD_LINES = (b"date:", b"referer:")


def corpus_files(run: Path) -> dict[str, str]:
    """`<url hash>.txt` -> SHA-256 of the file."""
    return {path.name.split("_", 1)[1]: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in (run / "corpus").glob("[0-9]*_*.txt")}


def manifest_rows(run: Path) -> dict[str, dict]:
    rows = {}
    for line in (run / "corpus" / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        rows[row.get("canonical_url") or row["file"]] = {k: v for k, v in row.items() if k not in RUN_FIELDS}
    return rows


def warc_records(run: Path) -> collections.Counter:
    records: collections.Counter = collections.Counter()
    for path in sorted((run / "warc").glob("*.warc.gz")):
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream, no_record_parse=True):
                if record.rec_type == "warcinfo":
                    continue
                headers = sorted((k, v) for k, v in record.rec_headers.headers if k not in VOLATILE)
                head, _, payload = record.raw_stream.read().partition(b"\r\n\r\n")
                head = b"\r\n".join(line for line in head.split(b"\r\n")
                                    if not line.lower().startswith(TIMED_HEAD_LINES))
                records[json.dumps([record.rec_type, headers, head.decode("latin-1"),
                                    hashlib.sha256(payload).hexdigest()])] += 1
    return records


def compare(a: Path, b: Path) -> dict:
    files_a, files_b = corpus_files(a), corpus_files(b)
    rows_a, rows_b = manifest_rows(a), manifest_rows(b)
    fields = collections.Counter(
        name for url in rows_a.keys() | rows_b.keys()
        for name in rows_a.get(url, {}).keys() | rows_b.get(url, {}).keys()
        if rows_a.get(url, {}).get(name) != rows_b.get(url, {}).get(name))
    records_a, records_b = warc_records(a), warc_records(b)
    return {"corpus_files": [len(files_a), len(files_b)],
            "corpus_files_differing": sum(files_a.get(k) != files_b.get(k) for k in files_a.keys() | files_b.keys()),
            "manifest_rows": [len(rows_a), len(rows_b)], "manifest_fields_differing": dict(fields),
            "warc_records": [sum(records_a.values()), sum(records_b.values())],
            "warc_records_only_in_a": sum((records_a - records_b).values()),
            "warc_records_only_in_b": sum((records_b - records_a).values())}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_a", type=Path)
    parser.add_argument("run_b", type=Path)
    args = parser.parse_args(argv)
    for run in (args.run_a, args.run_b):
        if not (run / "corpus" / "manifest.jsonl").is_file():
            crawls = sorted(str(path.parent.parent) for path in run.glob("*/*/corpus/manifest.jsonl"))
            hint = f"; the crawls under it: {', '.join(crawls)}" if crawls else ""
            parser.error(f"{run} is not one crawl's directory (no corpus/manifest.jsonl){hint}")
    result = compare(args.run_a, args.run_b)
    print(json.dumps(result, indent=1))
    same = not (result["corpus_files_differing"] or result["warc_records_only_in_a"]
                or result["warc_records_only_in_b"])
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
