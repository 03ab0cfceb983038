"""Extraction on the held-out half of the public article-extraction benchmark.

    git clone https://github.com/scrapinghub/article-extraction-benchmark /tmp/aeb
    .venv/bin/python -m bench.heldout_extraction /tmp/aeb [--json FILE]

`make eval` scores our extractor on the half of that benchmark shipped in
tests/fixtures/eval-generic/ (ids 0-7), the half our generic rules were checked
against. This bench scores the other half, which the repository does not ship
so that it stays unseen: every page of the checkout whose id is not in the
shipped half, ours beside plain trafilatura, the same metric (archive/shingle_f1.py)
and the same extraction path as `make eval`. Read only; nothing is tuned on it.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from archive.eval_generic import evaluate, format_table, load_pages
from archive.evaluate import EVAL_GENERIC


def held_out_pages(checkout: Path):
    """The checkout's pages minus the shipped half (by id)."""
    shipped = set(json.loads((EVAL_GENERIC / "ground-truth.json").read_text("utf-8")))
    pages = [page for page in load_pages(checkout) if page.id not in shipped]
    return pages, len(shipped)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="a checkout of scrapinghub/article-extraction-benchmark")
    parser.add_argument("--json", type=Path, help="write the totals here")
    args = parser.parse_args(argv)
    if not (args.checkout / "ground-truth.json").is_file() or not (args.checkout / "html").is_dir():
        print(f"error: {args.checkout} has no ground-truth.json and html/ (a benchmark checkout?)", file=sys.stderr)
        return 2
    try:
        pages, shipped = held_out_pages(args.checkout)
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {args.checkout}: {exc}", file=sys.stderr)
        return 2
    if not pages:
        print(f"error: {args.checkout} has no page outside the {shipped} shipped ones", file=sys.stderr)
        return 2
    runs = evaluate(pages, ("ours", "trafilatura"))
    print(f"{len(pages)} held-out pages (the {shipped} shipped in tests/fixtures/eval-generic/ left out)")
    print(format_table(runs))
    for run in runs.values():
        if run.rejected:
            print(f"{run.extractor} rejected: {', '.join(run.rejected)}")
    if args.json:
        totals = {name: {"pages": run.totals.pages, "f1": run.totals.f1, "precision": run.totals.precision,
                         "recall": run.totals.recall, "rejected": run.rejected} for name, run in runs.items()}
        staged = args.json.with_name(f".{args.json.name}.tmp")
        staged.write_text(json.dumps(totals, indent=1), "utf-8")
        staged.replace(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
