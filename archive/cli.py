"""`python -m archive COMMAND …`: offline tools over WARC archives and corpora.

Each command lives in its own module exposing ``add_arguments(parser)`` and
``run(args) -> int``; this module only dispatches (and holds `UserError`, which
every command raises: importing it costs nothing, so no command imports the
dispatcher lazily to avoid a cycle), so a command's imports cost
nothing to the others. Errors a user can fix end with one ``error:`` line and
exit code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
from importlib import import_module

# command name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "extract": ("archive.corpus.reextract", "re-extract a corpus from WARC files, offline, in parallel"),
    "eval": ("archive.evaluate", "score our extractor vs trafilatura and jusText on the gold set and on real pages"),
    "index": ("archive.warc.cdxj", "build CDXJ indexes (per file and merged DIR/index.cdxj); look up a URL"),
    "check": ("archive.warc.check", "verify every record's digests; report truncated and .open files"),
    "repair": ("archive.warc.repair", "turn an interrupted *.warc.gz.open into a verified *.warc.gz"),
    "stats": ("archive.stats", "records by type, status, host, MIME type; date range and sizes"),
    "export": ("archive.warc.wacz", "pack WARC files, index and page list into a WACZ file (--wacz)"),
    "state-merge": ("archive.state.merge", "merge per-process crawl states (distributed crawls) into one"),
    "serve": ("archive.serve", "browse the archive in pywb on 127.0.0.1 (or --screenshot a page)"),
    "corpus": ("archive.corpus.reader", "the corpus folded from its manifest log: one record per article"),
    "export-corpus": ("archive.corpus.export", "the corpus as one Parquet/JSONL/CSV table with a dataset card"),
    "report": ("archive.corpus.report", "a self-contained HTML report of a crawl and its corpus, with charts"),
}


class UserError(Exception):
    """Bad input a user can fix: reported as one line, exit code 2."""


def _program(module_form: str) -> str:
    """`python -m archive`, or the console script's name (`vn-archive`) when run as one."""
    name = os.path.basename(sys.argv[0] or "")
    return module_form if name in ("", "__main__.py", "-c") else name


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=_program("python -m archive"), description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        import_module(module).add_arguments(command)
        command.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    # A file that is not WARC, or a directory without closed WARC files, is the user's input too.
    from archive.warc.reader import WarcFormatError
    from archive.warc.replay import ArchiveNotFound

    args = build_parser().parse_args(argv)
    try:
        return int(import_module(args._module).run(args) or 0)
    except (UserError, WarcFormatError, ArchiveNotFound) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


