"""What an extraction worker holds as a crawl goes on: its RSS and the size of each of its bounded
memories, page after page of the memory run's pages (issue #17; docs/performance.md, session 18).

    .venv/bin/python -m bench.worker_memory [--site 20000] [--pages 10000] [--at 1000,5000,10000]
        [--host profiled|generic] [--seed 1]

Replays, in this process, what a worker is sent in `bench.run --only memory`'s crawl: `pool._analyse`
of bench/default_site.py's pages (a random order of a `--site`-page site), the spider's spec, the
`topic=auto` profile, each answer pickled as `_serve` sends it, the heap settled after the first
pages as a worker's is. Two workers share a crawl's pages: the 2,000-page crawl's worker is about
`--site 2000 --pages 1000`, the 20,000-page crawl's `--site 20000 --pages 10000`. Prints one JSON
line at each count of `--at`: RssAnon and VmRSS in MB and each memory's number of entries.
"""
from __future__ import annotations

import argparse
import json
import os
import random

from archive.corpus.neardup import fingerprint
from archive.extract import json_ld, phrase_frequency, pool, topic
from archive.extract.process_pool import _frame, settle_heap
from archive.sites import profile_for
from archive.urls import canonical_url, page_canonical_url
from bench.default_site import GENERIC_HOST, DefaultSite
from bench.rss_by_process import status_mb
from bench.worker_profile import REPO, spec_for
from testbed.bench_site import HOST


def memories() -> dict[str, int]:
    """The entries each bounded memory of this process's page analysis holds now."""
    counter, rows = topic._COUNTER, topic._TERM_ROWS
    return {"counter_tokens": len(counter._id), "counter_expansions": len(counter._expansions),
            "counter_pairs": len(counter._pair), "term_rows": len(rows),
            "specificity": topic.specificity.cache_info().currsize, "known_specificity": len(topic._KNOWN_SPECIFICITY),
            "anchor_memo": sum(map(len, topic._ANCHOR_MEMOS.values())), "syllables": len(phrase_frequency._SYLLABLES),
            "word_hashes": len(fingerprint._WORD_HASHES), "line_words": fingerprint._line_words.cache_info().currsize,
            "json_ld": len(json_ld._PARSED), "canonical_url": canonical_url.cache_info().currsize,
            "page_canonical_url": page_canonical_url.cache_info().currsize}


def replay(site_pages: int, pages: int, at: list[int], host: str = HOST, seed: int = 1):
    """Yield `{"pages", "RssAnon", "VmRSS", **memories()}` after each count of pages in `at`."""
    site = DefaultSite.__new__(DefaultSite)  # (render only: DefaultSite() renders the whole site up front)
    site.pages, site.host = site_pages, host
    profile = profile_for(f"http://{host}/")
    spec = spec_for(profile, generic=host == GENERIC_HOST)
    measure = topic.load_topic("auto", REPO / "seeds")
    pool._use_topic(measure)
    settle_heap(collect=False)
    counts = set(at)
    for done, n in enumerate(random.Random(seed).sample(range(site_pages), min(pages, site_pages)), 1):
        url = f"http://{host}/bai-viet-so-{n}-post{100000 + n}.html"
        _frame((True, pool._analyse(site.render(n), url, profile.extraction, None, spec, True, measure.key)))
        if done == 2:
            settle_heap()  # (as `_serve` does after a setup call and the first page)
        if done in counts:
            memory = status_mb(os.getpid())
            yield {"pages": done, "RssAnon": memory["RssAnon"], "VmRSS": memory["VmRSS"], **memories()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=int, default=20000, help="pages of the site")
    parser.add_argument("--pages", type=int, default=10000, help="pages replayed")
    parser.add_argument("--at", default="1000,2000,5000,10000", help="page counts to report at")
    parser.add_argument("--host", choices=("profiled", "generic"), default="profiled")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    at = [int(n) for n in args.at.split(",") if n]
    for row in replay(args.site, args.pages, at, HOST if args.host == "profiled" else GENERIC_HOST, args.seed):
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
