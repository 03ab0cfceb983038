"""Shared test fixtures: the local fixture proxy and a helper that runs the real crawl command."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from archive.warc.reader import iter_responses
from bench.hostile_site import HostileSite
from testbed.fixtureserver import FixtureServer, Reply

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def fixture_server():
    server = FixtureServer().start_background()
    yield server
    server.shutdown()


@dataclass
class CrawlRun:
    returncode: int
    stdout: str
    stderr: str
    out: Path
    hits: list = field(default_factory=list)  # URLs the fixture server was asked for

    @property
    def warc_dir(self) -> Path:
        return self.out / "warc"

    @property
    def corpus_dir(self) -> Path:
        return self.out / "corpus"

    @property
    def stats(self) -> dict:
        path = self.out / "stats.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def manifest(self) -> list[dict]:
        path = self.corpus_dir / "manifest.jsonl"
        return [json.loads(line) for line in path.read_text("utf-8").splitlines()] if path.exists() else []

    def log(self) -> str:
        path = self.out / "crawl.log"
        return path.read_text("utf-8") if path.exists() else ""


def run_crawl(out: Path, *spider_args: str, server: FixtureServer | None = None,
              settings: dict | None = None, timeout: float = 120, env: dict | None = None) -> CrawlRun:
    """Run `scrapy crawl news` in a subprocess, through the fixture proxy when given (`env`: more
    environment variables)."""
    cmd, env = crawl_command(out, *spider_args, server=server, settings=settings, env=env)
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    return CrawlRun(proc.returncode, proc.stdout, proc.stderr, out)


def crawled_and_rebuilt(tmp_path, url: str, served: bytes, content_type: str) -> tuple[str, str]:
    """(the corpus file's text, `archive extract`'s text of the crawl's archive)
    for one page served at `url` and crawled alone; the archive must hold the served bytes as they
    were (only extraction decodes)."""
    site = HostileSite()
    site.add(url, Reply(body=served, headers=[("Content-Type", content_type)], encoding="identity"))
    server = FixtureServer(site).start_background()
    try:
        run = run_crawl(tmp_path / "run", f"urls={url}", "depth=0", "topic=none", "requisites=none",
                        server=server, settings={"CORPUS_SEEDS": "", "CRAWL_STATE": ""})
    finally:
        server.shutdown()
    assert run.returncode == 0, run.stderr
    [entry] = run.manifest()
    assert entry["url"] == url
    [record] = [r for r in iter_responses(sorted(run.warc_dir.glob("*.warc.gz"))) if r.url == url]
    assert record.payload == served
    out = tmp_path / "rebuilt"
    proc = subprocess.run([sys.executable, "-m", "archive", "extract", str(run.warc_dir), "--out", str(out),
                           "--no-seeds"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    [rebuilt] = out.glob("*.txt")
    assert rebuilt.name == entry["file"]
    return (run.corpus_dir / entry["file"]).read_text("utf-8"), rebuilt.read_text("utf-8")


def crawl_command(out: Path, *spider_args: str, server: FixtureServer | None = None,
                  settings: dict | None = None, env: dict | None = None) -> tuple[list[str], dict]:
    """`run_crawl`'s command line and environment (run from REPO), for a test that starts it itself."""
    out.mkdir(parents=True, exist_ok=True)
    merged = {
        "WARC_DIR": out / "warc", "CORPUS_DIR": out / "corpus", "AUTOTHROTTLE_ENABLED": False,
        "LOG_FILE": out / "crawl.log", "LOG_LEVEL": "INFO", "CRAWL_STATS_FILE": out / "stats.json",
        "DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 0,
    }
    merged.update(settings or {})
    cmd = [sys.executable, "-m", "scrapy", "crawl", "news"]
    for arg in spider_args:
        cmd += ["-a", arg]
    for name, value in merged.items():
        cmd += ["-s", f"{name}={value}"]
    return cmd, {**os.environ, **(server.proxy_env() if server else {}), **(env or {})}


@pytest.fixture
def crawl(tmp_path, fixture_server):
    """`crawl(*args, settings=...)` runs the spider against the fixture sites."""
    counter = iter(range(1000))

    def _crawl(*args, settings=None, offline=False):
        with fixture_server.site.lock:
            fixture_server.site.hits.clear()
        result = run_crawl(tmp_path / f"run{next(counter)}", *args,
                           server=None if offline else fixture_server, settings=settings)
        with fixture_server.site.lock:
            result.hits = list(fixture_server.site.hits)
        return result
    return _crawl
