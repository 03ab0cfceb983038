"""`make demo`: the whole pipeline, offline, on the bundled fixture copy of both sites.

Starts the fixture proxy on 127.0.0.1, runs the real `scrapy crawl news` from
the shipped seeds through it (the standard proxy variables are the only
difference from a live crawl), checks the WARC files with `warcio check`,
rebuilds the corpus from the WARC files alone, writes the Parquet export and
the HTML crawl report, and points at the outputs.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from testbed.fixtureserver import FixtureServer

REPO = Path(__file__).resolve().parent.parent  # the checkout this tooling runs from
SEED_NUMBERS = {"000", "001", "002", "003", "004"}


def run_demo(out: Path) -> int:
    if out.exists():
        shutil.rmtree(out)
    warc_dir, corpus_dir = out / "warc", out / "corpus"
    server = FixtureServer().start_background()
    env = {**os.environ, **server.proxy_env()}
    # One request at a time, each page decided on before the next is fetched: the archive's order
    # (WARC-Date), and with it the corpus, is then the same every run (docs/corpus-determinism.md).
    cmd = [sys.executable, "-m", "scrapy", "crawl", "news",
           "-s", f"WARC_DIR={warc_dir}", "-s", f"CORPUS_DIR={corpus_dir}",
           "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=INFO",
           "-s", "CONCURRENT_REQUESTS=1", "-s", "SCRAPER_SLOT_MAX_ACTIVE_SIZE=1",
           "-s", f"LOG_FILE={out / 'crawl.log'}"]
    print(f"$ {' '.join(cmd[2:])}   (through the fixture proxy {server.proxy_url})", flush=True)
    out.mkdir(parents=True)
    code = subprocess.call(cmd, cwd=REPO, env=env)
    server.shutdown()
    if code != 0:
        print(f"crawl failed with exit code {code}; see {out / 'crawl.log'}", file=sys.stderr)
        return code
    warcs = sorted(warc_dir.glob("*.warc.gz"))
    check = subprocess.run([str(Path(sys.executable).parent / "warcio"), "check", *map(str, warcs)],
                           capture_output=True, text=True)
    print(f"warcio check on {len(warcs)} file(s): {'ok' if check.returncode == 0 else 'FAILED'}")
    if check.returncode != 0:
        print(check.stdout + check.stderr, file=sys.stderr)
        return 1
    new_files = sorted(p.name for p in corpus_dir.glob("*.txt") if p.name[:3] not in SEED_NUMBERS)
    print(f"new corpus files: {', '.join(new_files) or '(none)'}")
    # The archive is the source of truth: rebuild the corpus from the WARC files alone.
    rebuilt = out / "corpus-rebuilt"
    subprocess.run([sys.executable, "-m", "archive", "extract", str(warc_dir), "--out", str(rebuilt)],
                   cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    differing = [p.name for p in sorted(corpus_dir.glob("*.txt"))
                 if not (rebuilt / p.name).is_file() or (rebuilt / p.name).read_bytes() != p.read_bytes()]
    print(f"corpus rebuilt offline from the WARC files ({rebuilt}): "
          + ("byte-identical" if not differing else f"differs in {', '.join(differing)}"))
    print(f"log: {out / 'crawl.log'}")
    # What a researcher opens: the corpus as one Parquet table (with its dataset card), and the charts.
    export, report = out / "export" / "corpus.parquet", out / "report.html"
    for command in (["export-corpus", str(corpus_dir), "--out", str(export)],
                    ["report", str(corpus_dir), "--out", str(report)]):
        done = subprocess.run([sys.executable, "-m", "archive", *command], cwd=REPO, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"python -m archive {command[0]} failed: {done.stderr.strip()}", file=sys.stderr)
            return done.returncode
    print(f"Parquet export: {export} (dataset card: {export.parent / 'README.md'})")
    print(f"crawl report:   {report} (open it in a browser; it needs no network)")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_demo(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "data" / "demo"))
