"""`python -m archive export --wacz OUT.wacz DIR`: pack an archive as one WACZ file.

WACZ (Webrecorder's zip of WARCs + index + page list + datapackage.json with
sha256 hashes) opens in ReplayWeb.page and pywb. The packing is done by the
reference `wacz` package; this module chooses the pages: every archived HTML
page that answered 200, titled from the corpus manifest when one is given.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import importlib.util
import os
import tempfile
from pathlib import Path

from archive.warc.cdxj import ensure_directory_index, warc_files

from archive.warc.cdxj_lookup import CdxjIndex
from archive.warc.replay import check_archive_dir

PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "Pages"}


def page_list(archive_dir: Path, titles: dict[str, str] | None = None) -> list[dict]:
    """One entry per URL with a 200 HTML capture, in URL order; `titles` by URL."""
    titles = titles or {}
    pages: dict[str, dict] = {}
    with CdxjIndex(ensure_directory_index(archive_dir)) as index:
        for capture in index:
            if capture.status == 200 and capture.mime in ("text/html", "application/xhtml+xml"):
                page = {"url": capture.url}
                if capture.url in titles:
                    page["title"] = titles[capture.url]
                pages[capture.url] = page
    return [pages[url] for url in sorted(pages)]


def manifest_titles(corpus_dir: Path) -> dict[str, str]:
    """URL → article title from a corpus manifest (aliases included)."""
    titles: dict[str, str] = {}
    manifest = corpus_dir / "manifest.jsonl"
    for line in manifest.read_text("utf-8").splitlines():
        entry = json.loads(line)
        if entry.get("url") and entry.get("title"):
            titles[entry["url"]] = entry["title"]
    return titles


def export_wacz(archive_dir: Path, out: Path, *, titles: dict[str, str] | None = None,
                title: str | None = None) -> Path:
    """Write `out` (via a temporary file, so a failed export leaves nothing half-written)."""
    from wacz.main import main as wacz_main

    warcs = warc_files(archive_dir)
    if len({w.name for w in warcs}) != len(warcs):
        raise ValueError("two WARC files share a name in different folders; WACZ keeps only base names")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wacz-") as work:
        pages_file = Path(work) / "pages.jsonl"
        lines = [PAGES_HEADER, *page_list(archive_dir, titles)]
        pages_file.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), "utf-8")
        staged = out.with_name(f".{out.name}.partial")  # beside the target: the rename is atomic
        command = ["create", "-o", str(staged), "--hash-type", "sha256", "-p", str(pages_file),
                   *([f"--title={title}"] if title else []), *map(str, warcs)]
        chatter = io.StringIO()
        try:
            with contextlib.redirect_stdout(chatter):  # the wacz tool narrates every step
                code = wacz_main(command)
            if code:
                raise RuntimeError(f"wacz create failed: {chatter.getvalue().strip()[-500:]}")
            os.replace(staged, out)
        finally:
            staged.unlink(missing_ok=True)
    return out


def validate_wacz(path: Path) -> tuple[bool, str]:
    """The `wacz` package's own validation (file hashes, datapackage, required parts)."""
    from wacz.main import main as wacz_main

    chatter = io.StringIO()
    with contextlib.redirect_stdout(chatter):
        code = wacz_main(["validate", "-f", str(path)])
    return code == 0, chatter.getvalue()


# --- command ----------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", metavar="DIR", type=Path, help="directory of WARC files")
    parser.add_argument("--wacz", type=Path, required=True, metavar="OUT.wacz", help="WACZ file to write")
    parser.add_argument("--corpus", type=Path, metavar="CORPUS_DIR",
                        help="corpus whose manifest gives page titles (optional)")
    parser.add_argument("--title", help="collection title stored in datapackage.json")


def run(args: argparse.Namespace) -> int:
    from archive.cli import UserError

    check_archive_dir(args.directory)  # ArchiveNotFound: reported by archive.cli
    if importlib.util.find_spec("wacz") is None:  # an optional extra (pyproject.toml)
        raise UserError("WACZ export needs the wacz package: pip install 'vn-news-archiver[wacz]'")
    if args.wacz.suffix != ".wacz":
        raise UserError(f"{args.wacz}: the output name must end in .wacz")
    titles = None
    if args.corpus is not None:
        if not (args.corpus / "manifest.jsonl").is_file():
            raise UserError(f"no manifest.jsonl in {args.corpus}")
        titles = manifest_titles(args.corpus)
    try:
        out = export_wacz(args.directory, args.wacz, titles=titles, title=args.title)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    ok, report = validate_wacz(out)
    print(f"{'ok' if ok else 'INVALID'}  {out}  ({out.stat().st_size:,} bytes, "
          f"{len(warc_files(args.directory))} WARC file(s))")
    if not ok:
        print(report)
    return 0 if ok else 1
