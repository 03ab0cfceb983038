"""Benchmark: does a topic-filtered crawl find the on-topic articles, and at what cost?

Runs the real `scrapy crawl news` over two generated three-site webs (through
the fixture proxy, no network), each twice: once with `-a topic=auto` (the
profile built from the shipped seeds) and once with `-a topic=none`:

- `generated`: testbed/topic_site.py, from the three home pages, `depth=8`;
- `hard`: testbed/topic_web_hard.py (issue #19: teaser headlines and anchors,
  sub-topics, series chains, articles only listings lead to, off-topic pages
  that mention Laos), from five on-topic articles, `depth=3`.

For each run it reports, against the web's labelled on-topic set:

- precision and recall of the *kept* articles (the items the spider emits;
  off-topic pages are archived but not emitted);
- pages fetched (robots.txt excluded) and pages fetched per on-topic article
  found.

    python -m bench.topic [--web generated|hard] [--seed N ...] [--json FILE]

`--seed` crawls the same generators with other seeds (held-out webs, `topic=auto` only): a rule
that holds only on the bench's own web is bent to it (docs/topic.md).

Extraction is switched off (`EXTRACT_ENABLED=False`) so the figures measure
the crawl's choices, not corpus dedupe of the generated texts.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from testbed.topic_site import TopicWeb
from testbed.topic_web_hard import HardTopicWeb
from testbed.fixtureserver import FixtureServer

REPO = Path(__file__).resolve().parent.parent
# name → (the web, the -a depth both crawls of it use)
WEBS = {"generated": (lambda: TopicWeb(80), 8), "hard": (lambda: HardTopicWeb(), 3)}


def crawl_topic_web(web: TopicWeb, server: FixtureServer, out: Path, topic: str, depth: int,
                    extra_settings: dict | None = None) -> dict:
    """One crawl of `web`; returns its figures against the labels."""
    out.mkdir(parents=True, exist_ok=True)
    items = out / "items.jsonl"
    settings = {
        "WARC_DIR": out / "warc", "CORPUS_DIR": out / "corpus", "CORPUS_SEEDS": "",
        "EXTRACT_ENABLED": False, "AUTOTHROTTLE_ENABLED": False, "LOG_FILE": out / "crawl.log",
        "LOG_LEVEL": "INFO", "CRAWL_STATS_FILE": out / "stats.json", "RETRY_TIMES": 0,
        "FEEDS": json.dumps({str(items): {"format": "jsonlines"}}),
        "FEED_EXPORT_FIELDS": "url,found_from,extra",
        **(extra_settings or {}),
    }
    cmd = [sys.executable, "-m", "scrapy", "crawl", "news", 
           "-a", f"urls={','.join(web.start_urls())}", "-a", f"depth={depth}", "-a", f"topic={topic}"]
    for name, value in settings.items():
        cmd += ["-s", f"{name}={value}"]
    with server.site.lock:
        server.site.hits.clear()
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env={**os.environ, **server.proxy_env()},
                          capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"crawl failed ({proc.returncode}): {proc.stderr[-2000:]}")
    stats = json.loads((out / "stats.json").read_text("utf-8"))
    if stats.get("spider_exceptions/count"):  # figures of a crawl that crashed on pages mean nothing
        raise RuntimeError(f"the crawl raised on {stats['spider_exceptions/count']} pages: see {out / 'crawl.log'}")
    with server.site.lock:
        fetched = [u for u in server.site.hits if not u.endswith("/robots.txt")]
    kept_items = [json.loads(line) for line in items.read_text("utf-8").splitlines()] if items.exists() else []
    kept = {item["url"] for item in kept_items}
    labels = web.labels()
    found = kept & labels
    return {
        "topic": topic,
        "labelled_on_topic": len(labels),
        "pages_in_web": web.page_count(),
        "pages_fetched": len(fetched),
        "kept": len(kept),
        "kept_on_topic": len(found),
        "precision": round(len(found) / len(kept), 3) if kept else 0.0,
        "recall": round(len(found) / len(labels), 3) if labels else 0.0,
        "pages_per_on_topic_article": round(len(fetched) / len(found), 2) if found else None,
        "pages_per_kept_article": round(len(fetched) / len(kept), 2) if kept else None,
        "seconds": round(seconds, 1),
        "rules": _count(item.get("extra", {}).get("rule") for item in kept_items),
        "spent": {key[len("topic/pages/"):]: n for key, n in sorted(stats.items()) if key.startswith("topic/pages/")},
        "items": kept_items,
    }


def _count(values) -> dict:
    counts: dict = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def make_web(name: str, seed: int | None = None):
    """The bench's web, or the same generator with another seed."""
    if seed is None:
        return WEBS[name][0]()
    return TopicWeb(80, seed=seed) if name == "generated" else HardTopicWeb(seed=seed)


def run(names=tuple(WEBS), seeds=()) -> list[dict]:
    results = []
    for name in names:
        depth = WEBS[name][1]
        for seed in seeds or (None,):
            web = make_web(name, seed)
            server = FixtureServer(web).start_background()
            try:
                with tempfile.TemporaryDirectory(prefix="bench-topic-") as tmp:
                    for topic in ("auto",) if seed is not None else ("auto", "none"):
                        result = crawl_topic_web(web, server, Path(tmp) / topic, topic, depth)
                        label = name if seed is None else f"{name} seed {seed}"
                        results.append({"web": label, "depth": depth, **result})
            finally:
                server.shutdown()
    return results


def format_table(results: list[dict]) -> str:
    head = ("| web | `-a topic=` | pages fetched | kept | on-topic kept / labelled | precision | recall | "
            "pages fetched per on-topic article |")
    rows = [head, "|---|---|---|---|---|---|---|---|"]
    for r in results:
        rows.append(f"| {r['web']} (depth {r['depth']}) | `{r['topic']}` | {r['pages_fetched']} of {r['pages_in_web']} | {r['kept']} | "
                    f"{r['kept_on_topic']} / {r['labelled_on_topic']} | {r['precision']:.2f} | "
                    f"{r['recall']:.2f} | {r['pages_per_on_topic_article']} |")
    return "\n".join(rows)


def format_spending(r: dict) -> str:
    """Where a topic crawl's pages went (stat `topic/pages/<kind>/<how reached>`): per kind of page
    fetched and not kept, pages per kept article, then by the rule that led to them."""
    kept = r["kept"] or 1
    kinds: dict[str, dict[str, int]] = {}
    for key, n in r.get("spent", {}).items():
        kind, _, how = key.partition("/")
        kinds.setdefault(kind, {})[how] = n
    parts = [f"{r['pages_fetched']} pages for {r['kept']} kept"]
    for kind in ("off_topic", "listing"):
        by_how = kinds.get(kind, {})
        total = sum(by_how.values())
        detail = ", ".join(f"{how} {n}" for how, n in sorted(by_how.items(), key=lambda item: -item[1]))
        parts.append(f"{kind.replace('_', '-')} {'articles' if kind == 'off_topic' else 'pages'} "
                     f"{total} (+{total / kept:.2f} a kept article: {detail or 'none'})")
    other = r["pages_fetched"] - r["kept"] - sum(n for kind in ("off_topic", "listing")
                                                 for n in kinds.get(kind, {}).values())
    if other:
        parts.append(f"other {other} (+{other / kept:.2f})")  # pages the spider did not judge (not text, unread)
    return "; ".join(parts)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--web", choices=sorted(WEBS), action="append", help="one web only (default: both)")
    parser.add_argument("--seed", type=int, action="append", help="a held-out web: the generator with this seed")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    results = run(args.web or tuple(WEBS), args.seed or ())
    print(format_table(results))
    for r in results:
        print(f"{r['web']} topic={r['topic']}: rules of kept articles {r['rules']}, {r['seconds']} s")
        if r["topic"] != "none":
            print(f"  where the pages went: {format_spending(r)}")
    if args.json:
        args.json.write_text(json.dumps([{k: v for k, v in r.items() if k != "items"} for r in results],
                                        indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
