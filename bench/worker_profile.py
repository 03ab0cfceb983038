"""The extraction worker's CPU a page, by component, on the default crawl's pages (issue #17).

    .venv/bin/python -m bench.worker_profile [--pages 60] [--host profiled|generic|both] [--bound]

Runs what a worker runs for one page of `bench.default_crawl` (`archive.extract.pool._analyse`:
parse, read the links and topic text, measure them against the `topic=auto` profile, extract
the article, hash it; then its answer pickled, as the worker sends it), in this process, on bench/default_site.py's pages, with the spec the
spider sends (`SPEC`: NewsSpider._read_spec in the default configuration, topic gate on,
requisites of articles; a host with no profile adds the page gate's listing spec).

Each component is timed exclusively (`time.thread_time`: a component's time excludes the
components it calls), so the rows add up to the page's total; "other" is what no wrapped
function covers. Wrapping costs ~1 µs a call: read the rows as the split of a page's cost,
the total as its CPU. `--bound` also times plain trafilatura on the same pages and prints the
pipeline ratio (`bench.default_crawl`'s headline) that the worker's, the crawler process's and
the WARC writer's CPU a page allow on two cores.
"""
from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

from archive.extract import article as article_mod, body as body_mod, links as links_mod, pool as pool_mod
from archive.extract.links import ReadSpec
from archive.extract.process_pool import _frame, settle_heap
from archive.extract.topic import TopicProfile, load_topic
from archive.sites import profile_for

REPO = Path(__file__).resolve().parent.parent
PAGE_MAX_LINKS = 5000  # crawler/settings.py's default


def spec_for(profile, *, generic: bool) -> ReadSpec:
    """The spider's spec in the default configuration (topic gate on, `requisites=article`)."""
    article = ReadSpec(text="article", links=profile.related_links, anchors=True, max_links=PAGE_MAX_LINKS,
                       requisites=True)
    if not generic:
        return article
    listing = ReadSpec(text="listing", links=profile.listing_links, next_pages=profile.pagination_links,
                       anchors=True, max_links=PAGE_MAX_LINKS)
    return ReadSpec(**{**article.__dict__, "listing": listing})


class ExclusiveTimer:
    """CPU time of each wrapped function minus the wrapped functions it calls."""

    def __init__(self):
        self.spent: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[list] = []  # [name, started]

    def wrap(self, name: str, function):
        def timed(*args, **kwargs):
            now = time.thread_time()
            if self._stack:
                parent = self._stack[-1]
                self.spent[parent[0]] += now - parent[1]
            frame = [name, now]
            self._stack.append(frame)
            self.calls[name] += 1
            try:
                return function(*args, **kwargs)
            finally:
                end = time.thread_time()
                self.spent[name] += end - frame[1]
                self._stack.pop()
                if self._stack:
                    self._stack[-1][1] = end
        return timed


# (module, attribute, row): each place a component is looked up from.
COMPONENTS = [
    (pool_mod, "parse_page", "parse (decode + lxml)"),
    (links_mod, "judge_page", "page gate (judge_page)"),
    (body_mod, "judge_page", "page gate (judge_page)"),
    (links_mod, "page_text", "topic text (page_text)"),
    (links_mod, "link_candidates", "links + anchor text"),
    (links_mod, "page_requisites", "requisites"),
    (TopicProfile, "measure", "topic measure (text + anchors)"),
    (TopicProfile, "measure_all", "topic measure (text + anchors)"),
    (article_mod, "read_structured", "metadata (JSON-LD, meta)"),
    (article_mod, "fill_shown_metadata", "metadata (shown)"),
    (article_mod, "stated_date", "publication date"),
    (article_mod, "guessed_date", "publication date"),
    (body_mod, "drop_inline_related", "inline related blocks"),
    (body_mod, "_trafilatura_paragraphs", "trafilatura"),
    (body_mod, "other_chunks", "body chunks"),
    (article_mod, "photo_box_texts", "photo boxes"),
    (article_mod, "tidy_paragraphs", "tidy"),
    (article_mod, "lead_from_description", "lead"),
    (pool_mod, "fingerprint_article", "dedupe hashes"),
]


PICKLING = "answer pickled for the crawl"


def profile_host(host: str, pages: int, topic: TopicProfile) -> dict:
    from bench.default_site import GENERIC_HOST, DefaultSite
    from testbed.bench_site import HOST

    site = DefaultSite(max(pages, 50), HOST if host == "profiled" else GENERIC_HOST)
    bodies = [(site.render(n), f"http://{site.host}/bai-viet-so-{n}-post{100000 + n}.html") for n in range(pages)]
    profile = profile_for(bodies[0][1])
    spec = spec_for(profile, generic=host == "generic")
    pool_mod._use_topic(topic)
    pool_mod._analyse(*bodies[0][:2], profile.extraction, None, spec, True, topic.key)  # warm caches
    settle_heap()  # as a worker does after its first jobs
    timer = ExclusiveTimer()
    with ExitStack() as stack:
        for owner, attribute, row in COMPONENTS:
            stack.enter_context(mock.patch.object(owner, attribute, timer.wrap(row, getattr(owner, attribute))))
        analyse = timer.wrap("other", pool_mod._analyse)
        answer = timer.wrap(PICKLING, _frame)
        kept = 0
        for body, url in bodies:
            result = analyse(body, url, profile.extraction, None, spec, True, topic.key)
            answer((True, result))
            kept += bool(result[0] and result[0].is_article)
    total = sum(timer.spent.values())
    rows = {row: round(1000 * spent / pages, 2) for row, spent in sorted(timer.spent.items(), key=lambda kv: -kv[1])}
    return {"host": site.host, "pages": pages, "articles": kept, "worker_cpu_ms_per_page": round(1000 * total / pages, 2),
            "ms_per_page": rows, "calls_per_page": {k: round(v / pages, 1) for k, v in timer.calls.items()}}


def plain_trafilatura_ms(host: str, pages: int) -> float:
    """CPU ms a page of plain trafilatura (favor_precision, with metadata: `bench.default_crawl`'s
    one-core reference) on the same pages, measured here so that it and the worker's figure share
    the machine's state."""
    import trafilatura
    from bench.default_site import GENERIC_HOST, DefaultSite
    from testbed.bench_site import HOST

    site = DefaultSite(max(pages, 50), HOST if host == "profiled" else GENERIC_HOST)
    texts = [site.render(n).decode("utf-8") for n in range(pages)]
    trafilatura.bare_extraction(texts[0], favor_precision=True, with_metadata=True)
    started = time.thread_time()
    for text in texts:
        trafilatura.bare_extraction(text, favor_precision=True, with_metadata=True)
    return round(1000 * (time.thread_time() - started) / pages, 2)


def ratio_bound(plain_ms: float, worker_ms: float, crawler_ms: float, writer_ms: float, cores: int = 2) -> float:
    """The best pipeline ÷ one-core plain trafilatura these per-page costs allow: all processes
    share `cores` (pages/s ≤ cores / total CPU a page) and the crawler process runs on one
    (pages/s ≤ 1 / its CPU a page); the workers' own bound, cores / worker CPU, is never lower."""
    return round(plain_ms * min(cores / (worker_ms + crawler_ms + writer_ms), 1 / crawler_ms), 2)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=60)
    parser.add_argument("--host", choices=("profiled", "generic", "both"), default="both")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--bound", action="store_true",
                        help="also time plain trafilatura on the pages and print the pipeline ratio the costs allow")
    parser.add_argument("--crawler-ms", type=float, default=10.0, help="crawler process CPU a page, for --bound")
    parser.add_argument("--writer-ms", type=float, default=1.0, help="WARC writer CPU a page, for --bound")
    args = parser.parse_args(argv)
    topic = load_topic("auto", REPO / "seeds")
    hosts = ("profiled", "generic") if args.host == "both" else (args.host,)
    results = [profile_host(h, args.pages, topic) for h in hosts]
    if args.bound:
        for host, r in zip(hosts, results):
            r["plain_trafilatura_ms_per_page"] = plain_ms = plain_trafilatura_ms(host, args.pages)
            r["ratio_bound"] = ratio_bound(plain_ms, r["worker_cpu_ms_per_page"], args.crawler_ms, args.writer_ms)
    for r in results:
        print(f"{r['host']}: {r['worker_cpu_ms_per_page']} ms of worker CPU a page ({r['pages']} pages, "
              f"{r['articles']} articles)")
        for row, ms in r["ms_per_page"].items():
            print(f"  {ms:8.2f}  {row}  ({r['calls_per_page'][row]} calls a page)")
        if "ratio_bound" in r:
            print(f"  plain trafilatura {r['plain_trafilatura_ms_per_page']} ms a page: with the crawler process at "
                  f"{args.crawler_ms} ms and the WARC writer at {args.writer_ms} ms on 2 cores, pipeline ÷ one-core "
                  f"trafilatura ≤ {r['ratio_bound']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
