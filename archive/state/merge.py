"""`python -m archive state-merge OUT IN…`: one crawl state from the per-process states of a distributed crawl."""
from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

from archive.state.store import CrawlState, StateLockedError, merge_states


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("output", type=Path, metavar="OUT.sqlite", help="state to merge into (created if missing)")
    parser.add_argument("inputs", type=Path, nargs="+", metavar="IN.sqlite", help="per-process state files")


def run(args: argparse.Namespace) -> int:
    from archive.cli import UserError

    missing = [str(p) for p in args.inputs if not p.is_file()]
    if missing:
        raise UserError(f"no such state file: {', '.join(missing)}")
    if any(p.resolve() == args.output.resolve() for p in args.inputs):
        raise UserError("OUT must not be one of the inputs")
    try:
        target = CrawlState(args.output)
    except StateLockedError as exc:
        raise UserError(str(exc)) from None
    try:
        for path in args.inputs:
            try:
                count = merge_states(target, path)
            except sqlite3.DatabaseError as exc:
                raise UserError(f"{path}: not a crawl state ({exc})") from None
            print(f"{path}: {count} page(s)")
        print(f"{args.output}: {len(target)} page(s)")
    finally:
        target.close()
    return 0
