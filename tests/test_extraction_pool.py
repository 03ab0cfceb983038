"""Extraction in worker processes: same corpus as inline extraction, clean shutdown under load."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from crawler.exitcodes import EXIT_INTERRUPTED
from crawler.extensions.memory import _children
from testbed.bench_site import BenchSite
from tests.conftest import REPO
from testbed.fixtureserver import FixtureServer

SEED_ND = ("https://nhandan.vn/quyet-tam-gin-giu-vun-dap-quan-he-viet-nam-lao-mai-mai-xanh-tuoi-"
           "lien-tuc-phat-trien-post830183.html")
SEED_TD = "https://thoidai.com.vn/thuc-day-hop-tac-giua-hai-ban-doi-ngoai-trung-uong-viet-nam-va-lao-182579.html"


def corpus_bytes(run):
    return {p.name: p.read_bytes() for p in sorted(run.corpus_dir.glob("*.txt"))}


def by_article(files: dict[str, bytes]) -> dict[str, bytes]:
    """Corpus files keyed by their URL hash, without the number."""
    return {name.split("_", 1)[1]: data for name, data in files.items()}


def covered_urls(run) -> set[str]:
    """Every URL the corpus holds an article for: written files and their aliases."""
    urls = set()
    for line in (run.corpus_dir / "manifest.jsonl").read_text("utf-8").splitlines():
        entry = json.loads(line)
        aliases = [*(entry.get("aliases") or ()), *([entry["alias"]] if entry.get("alias") else [])]
        urls |= {entry.get("canonical_url")} | {a["canonical_url"] for a in aliases}  # which is the file: arrival order
    return urls - {None}


def test_worker_pool_writes_the_same_corpus_as_inline_extraction(crawl):
    """Same articles, same bytes. Numbering and which of two near-duplicates is the file (the other
    becomes its alias) follow the order pages arrive; with workers that order also depends on how
    fast each page's links come back, as they are read in the worker from the article's parse."""
    settings = {"CONCURRENT_REQUESTS": 1, "CORPUS_SEEDS": "", "CRAWL_STATE": ""}
    inline = crawl(f"urls={SEED_ND},{SEED_TD}", "topic=none", settings={**settings, "EXTRACT_WORKERS": 0})
    pooled = crawl(f"urls={SEED_ND},{SEED_TD}", "topic=none", settings={**settings, "EXTRACT_WORKERS": 2})
    assert inline.returncode == pooled.returncode == 0, pooled.stderr
    assert len(corpus_bytes(inline)) >= 5
    assert covered_urls(pooled) == covered_urls(inline)
    inline_files, pooled_files = by_article(corpus_bytes(inline)), by_article(corpus_bytes(pooled))
    assert len(pooled_files) == len(inline_files)
    for key in inline_files.keys() & pooled_files.keys():
        assert pooled_files[key] == inline_files[key], key
    numbers = sorted(int(name.split("_", 1)[0]) for name in corpus_bytes(pooled))
    assert numbers == list(range(len(numbers)))  # dense from 000 (no seeds in this corpus)


def _descendants(pid):
    found, stack = [], [pid]
    while stack:
        kids = _children(stack.pop())
        found += kids
        stack += kids
    return found


def test_sigterm_with_the_pool_busy_shuts_down_cleanly(tmp_path):
    site = BenchSite(400)
    server = FixtureServer(site).start_background()
    try:
        corpus = tmp_path / "corpus"
        cmd = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"urls={site.start_url()}",
               "-a", "depth=1000", "-a", "topic=none", "-s", f"WARC_DIR={tmp_path / 'warc'}",
               "-s", f"CORPUS_DIR={corpus}", "-s", "CORPUS_SEEDS=", "-s", "CRAWL_STATE=",
               "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "EXTRACT_WORKERS=2", "-s", "LOG_LEVEL=INFO",
               "-s", f"LOG_FILE={tmp_path / 'crawl.log'}"]
        proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **server.proxy_env()},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list(corpus.glob("0*.txt"))) < 20:
            time.sleep(0.2)
        workers = _descendants(proc.pid)
        assert workers, "the extraction pool should be running"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=90)
    finally:
        server.shutdown()
    assert proc.returncode == EXIT_INTERRUPTED, err  # a graceful shutdown, reported as an interruption
    assert "Traceback" not in err
    assert not list(tmp_path.rglob("*.open")) and not list(corpus.glob(".tmp-*"))
    assert "shutdown" in (tmp_path / "crawl.log").read_text("utf-8").lower()
    for pid in workers:  # no orphaned extraction worker
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    written = sorted(corpus.glob("0*.txt"))
    assert 20 <= len(written) < 400
    for path in written:  # every file whole: ends with the source line
        assert path.read_text("utf-8").rstrip("\n").splitlines()[-1].startswith("Nguồn: ")


POOL_THEN_WAIT = """
import sys
from archive.extract.pool import ExtractionPool
from testbed.bench_site import article_html, article_url
if __name__ == "__main__":
    pool = ExtractionPool(2)
    pool.submit(article_html(1, 50), article_url(1), None).result()  # the workers are up
    print("ready", flush=True)
    sys.stdin.read()  # until killed
"""


def test_workers_exit_when_the_crawler_is_killed(tmp_path):
    """SIGKILL gives the pool no chance to stop its workers: they notice on their own."""
    script = tmp_path / "pool.py"
    script.write_text(POOL_THEN_WAIT)
    proc = subprocess.Popen([sys.executable, str(script)], cwd=REPO, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert proc.stdout.readline().strip() == "ready"
        workers = [pid for child in _children(proc.pid) for pid in [child, *_children(child)]]
        assert workers
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in workers):
            time.sleep(0.1)
        assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()], "orphaned workers left running"
    finally:
        proc.kill()


def test_start_starts_the_workers_before_any_job(monkeypatch):
    """`start` (the crawl's extension calls it when built) brings the workers up with no job sent,
    so a crawl's first pages do not wait for the forkserver's imports."""
    from archive.extract.process_pool import BudgetPool

    started = []
    original = BudgetPool._start
    monkeypatch.setattr(BudgetPool, "_start", lambda self, selector: started.append(1) or original(self, selector))
    pool = BudgetPool(2, None)
    try:
        time.sleep(0.2)
        assert started == []  # without `start` the first job starts them
        pool.start()
        deadline = time.monotonic() + 30
        while len(started) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(started) == 2
        assert pool.submit(divmod, 7, 2).result(timeout=30) == (3, 1)
        assert len(started) == 2  # the job ran on the workers already there
    finally:
        pool.close()


def test_the_crawls_extension_starts_its_pool_when_built(monkeypatch):
    from concurrent.futures import Future

    from scrapy.utils.test import get_crawler

    from crawler.pipelines import workers

    calls = []

    class Pool:
        def __init__(self, *args, **kwargs):
            calls.append("made")
            self.failed = Future()  # (settled if the pool breaks: the extension then stops the crawl)

        def start(self):
            calls.append("started")

        def close(self):
            calls.append("closed")

    monkeypatch.setattr(workers, "ExtractionPool", Pool)
    crawler = get_crawler(settings_dict={"EXTRACT_ENABLED": True})
    workers.ExtractionWorkers.from_crawler(crawler)
    assert calls == []  # a crawler not crawling (a tool reading settings): no processes
    crawler.crawling = True
    workers.ExtractionWorkers.from_crawler(crawler)
    assert calls == ["made", "started"]


def test_a_worker_freezes_its_startup_heap_and_keeps_collecting_what_jobs_allocate():
    """After its first jobs a worker's modules are out of the cyclic collector's reach
    (process_pool.settle_heap), and later jobs are collected as before (the collector stays on)."""
    import gc

    from archive.extract.process_pool import WORKER_YOUNG_THRESHOLD, BudgetPool

    pool = BudgetPool(1, None)
    try:
        counts = [pool.submit(gc.get_freeze_count).result(timeout=60) for _ in range(5)]
        assert counts[0] > 0  # frozen before the first job: what the forkserver imported
        assert counts[2] >= counts[1] >= counts[0] and counts[4] == counts[3]  # settled, then left alone
        assert pool.submit(gc.isenabled).result(timeout=60)
        # The youngest generation is collected past WORKER_YOUNG_THRESHOLD, the older ones as Python's default.
        assert pool.submit(gc.get_threshold).result(timeout=60) == (WORKER_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    finally:
        pool.close()


def test_a_job_and_an_answer_larger_than_a_default_pipe_each_cross_it_at_once(monkeypatch):
    """Both pipes of a worker hold a whole page (a job ~100 KB, a generic page's answer ~105 KB):
    with Linux's default 64 KB the dispatcher wrote each job in two goes and woke twice an answer
    (docs/performance.md, session 18). Each answer is now read by one wake-up, and arrives whole."""
    import fcntl

    import pytest

    from archive.extract.process_pool import BudgetPool, _Worker

    if int(Path("/proc/sys/fs/pipe-max-size").read_text()) < 1 << 20:
        pytest.skip("this system caps pipes below the 1 MB grow_pipe asks for")

    sizes, receives = [], []
    original_start, original_receive = BudgetPool._start, _Worker.receive

    def start(self, selector):
        worker = original_start(self, selector)
        sizes.extend(fcntl.fcntl(fd, 1032) for fd in (worker.jobs_fd, worker.answers_fd))  # F_GETPIPE_SZ
        return worker

    def receive(self):
        settled = len(self.inflight)
        alive = original_receive(self)
        receives.append(settled - len(self.inflight))  # answers this wake-up settled
        return alive

    monkeypatch.setattr(BudgetPool, "_start", start)
    monkeypatch.setattr(_Worker, "receive", receive)
    pool = BudgetPool(1, None)
    try:
        page = os.urandom(150_000)
        for n in range(5):
            assert pool.submit(bytes.__mul__, page[n:], 1).result(timeout=60) == page[n:]
    finally:
        pool.close()
    assert sizes and all(size >= 256 << 10 for size in sizes)
    assert receives[:5] == [1] * 5  # (the last wake-up reads the worker's end when the pool closes)


def test_a_jobs_page_body_goes_out_of_band_and_reaches_the_worker_as_the_same_bytes():
    """The dispatcher frames a job with its page body out of band (archive/warc/pipe.py `frame`):
    the body is a buffer of its own, the one the caller gave (not copied into the pickle, the
    frame or a send buffer), and the worker's function gets it back as bytes, equal, beside the
    small arguments pickled as before (docs/performance.md, session 22)."""
    import pickle
    import threading

    from archive.extract.process_pool import BudgetPool, _job_frame
    from archive.warc.pipe import read_parts

    body, small = os.urandom(100_000), b"<p>short</p>"
    framed = _job_frame((bytes.__add__, (body, small)))
    assert [part.obj for part in framed[2:]] == [body] and framed[2].obj is body
    assert len(framed[1]) < 1_000  # the pickle: the function and the small bytes only
    read, write = os.pipe()
    sender = threading.Thread(target=os.write, args=(write, b"".join(bytes(part) for part in framed)))
    sender.start()  # (more than a default pipe holds)
    try:
        data, buffers = read_parts(read)
    finally:
        sender.join()
        os.close(read)
        os.close(write)
    function, args = pickle.loads(data, buffers=buffers)
    assert function is bytes.__add__ and type(args[0]) is bytes and args == (body, small)
    pool = BudgetPool(1, None)
    try:
        for n in range(3):  # through a worker: the same answer as in process
            page = body[n:]
            assert pool.submit(bytes.__add__, page, small).result(timeout=60) == page + small
    finally:
        pool.close()


def test_answers_cut_across_reads_settle_whole_and_in_order():
    """The dispatcher reads answers where they arrived and keeps only a part cut short: an answer
    split over three reads settles once whole, the next two, read in one go with the end of the
    first, after it in order."""
    import pickle
    from collections import deque
    from concurrent.futures import Future

    from archive.extract.process_pool import _frame, _Worker

    class Alive:
        @staticmethod
        def is_alive():
            return True

    read, write = os.pipe()
    os.set_blocking(read, False)
    worker = object.__new__(_Worker)
    worker.process, worker.answers_fd, worker.inbox, worker.budget = Alive(), read, b"", None
    futures = [Future() for _ in range(3)]
    worker.inflight = deque((future, ()) for future in futures)
    answers = [(True, os.urandom(n)) for n in (70_000, 10, 3_000)]
    stream = b"".join(b"".join(_frame(answer)) for answer in answers)
    cuts = (5, 40_000, len(stream))  # in the first answer's head, in its pickle, then the rest
    try:
        done = 0
        for cut in cuts:
            os.write(write, stream[done:cut])
            done = cut
            assert worker.receive()
            if cut < cuts[-1]:
                assert not any(future.done() for future in futures) and len(worker.inbox) == cut
        assert [future.result(timeout=0) for future in futures] == [value for _, value in answers]
        assert worker.inbox == b"" and not worker.inflight
    finally:
        os.close(read)
        os.close(write)
    assert pickle.loads(b"".join(_frame(answers[1]))[8:]) == answers[1]
