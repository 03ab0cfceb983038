"""Distributed crawling (issue 8): several `scrapy crawl news` processes on one real Redis.

The Redis server is real (no mocks): `redis-server` on a free 127.0.0.1 port
in a temporary directory, installed with apt-get when missing (CI runs as
root). If it cannot be had, these tests fail with a clear message.
"""
from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from scrapy import Request
from scrapy.settings import Settings

from archive.warc.reader import find_warc_files, iter_responses
from testbed.bench_site import BenchSite, article_url
from crawler.distributed.addon import DistributedCrawlAddon, keys_for
from crawler.fingerprint import CanonicalURLFingerprinter, fingerprint_key
from testbed.fixtureserver import FixtureServer, Reply

REPO = Path(__file__).resolve().parent.parent


# --- a real Redis ---------------------------------------------------------------
def redis_server_binary() -> str:
    """Path of redis-server, installing it with apt-get when missing; fails the test if impossible."""
    found = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists()
                                             else None)
    if found:
        return found
    log = []
    if shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "redis-server"]):
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
            log.append(f"$ {' '.join(cmd)} → {proc.returncode}\n{proc.stderr[-2000:]}")
        found = shutil.which("redis-server") or ("/usr/bin/redis-server"
                                                 if Path("/usr/bin/redis-server").exists() else None)
    if not found:
        pytest.fail("redis-server is missing and could not be installed (needs root and apt-get: "
                    "`apt-get install -y redis-server`, or `make redis`).\n" + "\n".join(log), pytrace=False)
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    binary = redis_server_binary()
    directory = tmp_path_factory.mktemp("redis")
    port = _free_port()
    proc = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(directory),
                             "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"redis-server did not start on 127.0.0.1:{port}", pytrace=False)
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def redis_client(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    yield client
    client.close()


# --- a generated site with latency, crawled by several processes --------------
class SlowSite(BenchSite):
    """The benchmark site with a fixed delay on every article (a real site is not instant)."""

    def __init__(self, pages: int, delay: float):
        super().__init__(pages)
        self.delay = delay

    def resolve(self, host: str, path_qs: str) -> Reply:
        reply = super().resolve(host, path_qs)
        if path_qs != "/robots.txt":
            reply.delay = self.delay
        return reply


@pytest.fixture
def site_server(request):
    pages, delay = request.param
    server = FixtureServer(SlowSite(pages, delay)).start_background()
    yield server
    server.shutdown()


def crawl_command(out: Path, shared: Path, redis_url: str, **settings) -> list[str]:
    merged = {"WARC_DIR": shared / "warc", "CORPUS_DIR": shared / "corpus", "CORPUS_SEEDS": "",
              "LOG_FILE": out / "crawl.log", "LOG_LEVEL": "INFO", "CRAWL_STATS_FILE": out / "stats.json",
              "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
              "DOWNLOAD_TIMEOUT": 10, "RETRY_TIMES": 0, "CRAWL_REPORT": out / "runs.jsonl",
              "REDIS_URL": redis_url, "REDIS_IDLE_TIMEOUT": 2, "REDIS_HEARTBEAT_INTERVAL": 0.5,
              "REDIS_WORKER_TIMEOUT": 3, **settings}
    cmd = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "topic=none", "-a", "depth=100000",
           "-a", "requisites=none"]  # pages only: these tests count page fetches across processes
    for name, value in merged.items():
        cmd += ["-s", f"{name}={value}"]
    return cmd


def start_crawlers(n: int, work: Path, server: FixtureServer, redis_url: str, **settings) -> list:
    env = {**os.environ, **server.proxy_env()}
    env.pop("REDIS_URL", None)
    procs = []
    for i in range(n):
        out = work / f"p{i}"
        out.mkdir(parents=True)
        procs.append(subprocess.Popen(crawl_command(out, work, redis_url, **settings), cwd=REPO, env=env,
                                      stdout=subprocess.DEVNULL, stderr=(out / "stderr.txt").open("w")))
    return procs


def enqueue(redis_url: str, *urls: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crawler", "enqueue", "--redis-url", redis_url, *urls],
                          cwd=REPO, capture_output=True, text=True, timeout=60)


def wait_all(procs, timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    codes = []
    for proc in procs:
        try:
            codes.append(proc.wait(max(1, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            pytest.fail(f"crawlers still running after {timeout} s")
    return codes


def page_hits(server: FixtureServer) -> Counter:
    with server.site.lock:
        return Counter(h for h in server.site.hits if not h.endswith("/robots.txt"))


def archived_urls(warc_dir: Path) -> Counter:
    return Counter(r.url for r in iter_responses(find_warc_files([warc_dir]))
                   if r.status == 200 and not r.url.endswith("/robots.txt"))


def expected_urls(site: BenchSite) -> set[str]:
    return {article_url(n) for n in range(site.pages)} | {site.start_url()}


def stats_of(work: Path, n: int) -> list[dict]:
    return [json.loads((work / f"p{i}" / "stats.json").read_text()) for i in range(n)
            if (work / f"p{i}" / "stats.json").exists()]


def in_flight_urls(client: redis.Redis, pid: int) -> set[str]:
    """URLs in the in-flight hash of the worker with this pid (entries are "<score>|<pickled request>")."""
    urls = set()
    keys = [k for k in client.scan_iter(match="news:inflight:*") if f"-{pid}-".encode() in k]
    for value in (v for key in keys for v in client.hvals(key)):
        mark, data = value.split(b"|", 1)
        urls.add(json.loads(data)["url"] if mark == b"s" else pickle.loads(data)["url"])
    return urls


def assert_frontier_empty(client: redis.Redis) -> None:
    keys = keys_for("news")
    assert client.zcard(keys["queue"]) == 0
    assert client.llen(keys["start_urls"]) == 0
    assert not list(client.scan_iter(match=keys["inflight"] + "*")), "requests left in flight"


# --- the crawls -------------------------------------------------------------------
@pytest.mark.parametrize("site_server", [(1200, 0.0)], indirect=True)
def test_three_processes_fetch_every_page_exactly_once(tmp_path, site_server, redis_url, redis_client):
    site = site_server.site
    pushed = enqueue(redis_url, site.start_url())  # seed first: an idle crawler ends after REDIS_IDLE_TIMEOUT
    assert pushed.returncode == 0, pushed.stderr
    procs = start_crawlers(3, tmp_path, site_server, redis_url, EXTRACT_ENABLED=False)
    codes = wait_all(procs, 150)
    assert codes == [0, 0, 0], [(tmp_path / f"p{i}" / "stderr.txt").read_text()[-2000:] for i in range(3)]

    hits = page_hits(site_server)
    expected = expected_urls(site)
    assert set(hits) == expected
    assert [u for u, c in hits.items() if c != 1] == [], "fetched more than once across processes"
    archived = archived_urls(tmp_path / "warc")
    assert set(archived) == expected and max(archived.values()) == 1
    stats = stats_of(tmp_path, 3)
    per_process = [s.get("downloader/response_count", 0) for s in stats]
    assert len(per_process) == 3 and all(n > 0 for n in per_process), per_process
    assert sum(s.get("scheduler/dequeued/redis", 0) for s in stats) == len(expected)
    warc_names = {p.name.split("-")[-1].split(".")[0] for p in find_warc_files([tmp_path / "warc"])}
    assert len(warc_names) == 3, "each process writes its own WARC files (pid in the name)"
    assert_frontier_empty(redis_client)


@pytest.mark.parametrize("site_server", [(1200, 0.03)], indirect=True)
def test_sigkill_of_one_process_loses_nothing(tmp_path, site_server, redis_url, redis_client):
    site = site_server.site
    assert enqueue(redis_url, site.start_url()).returncode == 0
    procs = start_crawlers(3, tmp_path, site_server, redis_url, EXTRACT_ENABLED=False)
    deadline = time.monotonic() + 60
    while sum(page_hits(site_server).values()) < site.pages // 2:
        assert time.monotonic() < deadline, "crawl did not get halfway"
        assert all(p.poll() is None for p in procs), "a crawler ended early"
        time.sleep(0.05)
    victim = procs[0]
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    lost = in_flight_urls(redis_client, victim.pid)  # read before a survivor reclaims them (after 3 s)
    codes = wait_all(procs[1:], 150)
    assert codes == [0, 0]

    hits = page_hits(site_server)
    expected = expected_urls(site)
    assert set(hits) == expected, f"missing: {sorted(expected - set(hits))[:5]}"
    refetched = {u for u, c in hits.items() if c > 1}
    assert max(hits.values()) <= 2, "a page was fetched more than twice"
    assert refetched <= lost, "only the killed process's in-flight requests are fetched again"
    # The killed process's last WARC file is left *.open; its complete records still count.
    assert set(archived_urls(tmp_path / "warc")) == expected
    survivors = stats_of(tmp_path, 3)
    assert sum(s.get("redis/requeued_from_dead_workers", 0) for s in survivors) == len(lost) > 0
    assert_frontier_empty(redis_client)


@pytest.mark.parametrize("site_server", [(50, 0.0)], indirect=True)
def test_merged_corpus_has_every_article_once(tmp_path, site_server, redis_url, redis_client):
    site = site_server.site
    assert enqueue(redis_url, site.start_url()).returncode == 0
    procs = start_crawlers(2, tmp_path, site_server, redis_url, EXTRACT_WORKERS=0)
    assert wait_all(procs, 150) == [0, 0]

    shards = sorted(p for p in (tmp_path / "corpus").iterdir() if p.is_dir())
    assert len(shards) == 2, "one corpus shard per process"
    per_shard = [len((s / "manifest.jsonl").read_text().splitlines()) for s in shards
                 if (s / "manifest.jsonl").exists()]
    assert sum(per_shard) == site.pages

    merged = tmp_path / "merged"
    proc = subprocess.run([sys.executable, "-m", "archive", "extract", str(tmp_path / "warc"), "--out", str(merged),
                           "--no-seeds", "--workers", "1"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    manifest = [json.loads(line) for line in (merged / "manifest.jsonl").read_text("utf-8").splitlines()]
    urls = Counter(entry["url"] for entry in manifest)
    assert set(urls) == {article_url(n) for n in range(site.pages)} and max(urls.values()) == 1
    numbers = sorted(int(entry["file"].split("_")[0]) for entry in manifest)
    assert numbers == list(range(len(manifest))), "dense numbering"


class RedirectingSite(SlowSite):
    """The listing links to article 0 with a tracking parameter, which 301s to the clean URL."""

    TRACKED = article_url(0) + "?utm_source=rss"

    def resolve(self, host: str, path_qs: str) -> Reply:
        if path_qs == self.TRACKED.split(HOST_PREFIX, 1)[1]:
            return Reply(status=301, headers=[("Location", article_url(0))])
        reply = super().resolve(host, path_qs)
        if path_qs == "/tin-moi.html":
            reply.body = reply.body.replace(f'href="{article_url(0)}"'.encode(), f'href="{self.TRACKED}"'.encode())
        return reply


HOST_PREFIX = "http://nhandan.vn"


def test_redirect_to_the_canonical_twin_is_fetched(tmp_path, redis_url, redis_client):
    server = FixtureServer(RedirectingSite(40, 0.0)).start_background()
    try:
        assert enqueue(redis_url, server.site.start_url()).returncode == 0
        procs = start_crawlers(1, tmp_path, server, redis_url, EXTRACT_ENABLED=False)
        assert wait_all(procs, 60) == [0]
        hits = page_hits(server)
    finally:
        server.shutdown()
    assert hits[RedirectingSite.TRACKED] == 1
    assert hits[article_url(0)] == 1, "the redirect target was dropped as a duplicate of itself"
    assert article_url(0) in archived_urls(tmp_path / "warc")


def test_enqueue_seeds_file_and_status(tmp_path, redis_url, redis_client):
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("# two pages\nhttps://nhandan.vn/a-post1.html\nhttps://nhandan.vn/b-post2.html\n")
    proc = subprocess.run([sys.executable, "-m", "crawler", "enqueue", "--seeds", str(seeds)], cwd=REPO,
                          capture_output=True, text=True, env={**os.environ, "REDIS_URL": redis_url}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    entries = [json.loads(x) for x in redis_client.lrange("news:start_urls", 0, -1)]
    assert sorted(e["url"] for e in entries) == ["https://nhandan.vn/a-post1.html", "https://nhandan.vn/b-post2.html"]
    status = subprocess.run([sys.executable, "-m", "crawler", "status", "--redis-url", redis_url], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert "start URLs waiting: 2" in status.stdout
    reset = subprocess.run([sys.executable, "-m", "crawler", "reset", "--redis-url", redis_url], cwd=REPO,
                           capture_output=True, text=True, timeout=60)
    assert reset.returncode == 0 and redis_client.llen("news:start_urls") == 0


def test_enqueue_without_redis_is_a_clear_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    proc = subprocess.run([sys.executable, "-m", "crawler", "enqueue", "https://nhandan.vn/"], cwd=REPO,
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("error: no Redis")
    port = _free_port()  # nothing listens there
    proc = subprocess.run([sys.executable, "-m", "crawler", "enqueue", "--redis-url", f"redis://127.0.0.1:{port}",
                           "https://nhandan.vn/"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "cannot reach Redis" in proc.stderr


# --- units --------------------------------------------------------------------------
def test_fingerprint_is_the_canonical_url():
    fp = CanonicalURLFingerprinter().fingerprint
    same = ["http://nhandan.vn/a-post1.html", "https://nhandan.vn/a-post1.html?utm_source=fb",
            "https://nhandan.vn/a-post1.html#top", "https://NHANDAN.vn/a-post1.html/"]
    assert len({fp(Request(u)) for u in same}) == 1
    assert fp(Request("https://nhandan.vn/a-post1.html")) != fp(Request("https://nhandan.vn/b-post2.html"))


def test_redirect_to_the_same_page_is_not_its_own_duplicate():
    fp = CanonicalURLFingerprinter().fingerprint
    original = Request("http://nhandan.vn/a-post1.html")
    redirected = original.replace(url="https://nhandan.vn/a-post1.html",
                                  meta={"redirect_times": 1, "redirect_urls": [original.url]})
    assert fingerprint_key(redirected) == "exact:https://nhandan.vn/a-post1.html"
    assert fp(redirected) != fp(original)
    # A redirect to another page is that page: a later link to it is a duplicate.
    moved = original.replace(url="https://nhandan.vn/b-post2.html",
                             meta={"redirect_times": 1, "redirect_urls": [original.url]})
    assert fp(moved) == fp(Request("http://nhandan.vn/b-post2.html"))
    # Not GET, or a body: Scrapy's default fingerprint.
    assert fingerprint_key(Request("https://nhandan.vn/x", method="POST", body=b"a=1")) is None


def test_addon_changes_nothing_without_redis_url(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    from crawler import settings as project

    settings = Settings()
    settings.setmodule(project, "project")
    before = {k: settings.get(k) for k in ("SCHEDULER", "DUPEFILTER_CLASS", "REQUEST_FINGERPRINTER_CLASS",
                                           "CORPUS_DIR")}
    DistributedCrawlAddon().update_settings(settings)
    assert {k: settings.get(k) for k in before} == before


def test_addon_reads_redis_url_from_the_environment(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    from crawler import settings as project

    settings = Settings()
    settings.setmodule(project, "project")
    settings.set("CORPUS_DIR", "/tmp/corpus", "cmdline")
    DistributedCrawlAddon().update_settings(settings)
    assert settings.get("REDIS_URL") == "redis://127.0.0.1:1/0"
    assert settings.get("SCHEDULER") == "crawler.distributed.redis.RedisFrontierScheduler"
    assert settings.get("REQUEST_FINGERPRINTER_CLASS") == "crawler.fingerprint.CanonicalURLFingerprinter"
    assert settings.getbool("SCHEDULER_PERSIST")
    assert Path(settings.get("CORPUS_DIR")).parent == Path("/tmp/corpus")
    assert settings.get("CRAWL_STATE") == ""  # per-process SQLite state: off unless named for this process


def test_scrapy_redis_is_imported_only_in_distributed_mode(tmp_path):
    """Without REDIS_URL, every crawler module, the settings check and a built crawler leave it unimported.
    Run in a scratch directory: the built crawler opens the default crawl state (data/state.sqlite,
    relative to the working directory), which a crawl in the checkout may hold locked."""
    script = """
import importlib, pkgutil, sys
import crawler
from scrapy.utils.project import get_project_settings
from scrapy.utils.reactor import install_reactor
from scrapy.utils.test import get_crawler
from crawler.setting_names import check_setting_names
from crawler.spiders.news import NewsSpider
for module in pkgutil.walk_packages(crawler.__path__, "crawler."):
    if module.name != "crawler.distributed.redis":
        importlib.import_module(module.name)
settings = get_project_settings()
install_reactor(settings["TWISTED_REACTOR"])
check_setting_names(settings)
get_crawler(NewsSpider, settings.copy_to_dict())
print(sorted(name for name in sys.modules if name.startswith("scrapy_redis")))
"""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["SCRAPY_SETTINGS_MODULE"] = "crawler.settings"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
