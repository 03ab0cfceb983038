"""Why a topic crawl of a bench web missed what it missed, and what its other fetches were.

Crawls one of `bench.topic`'s webs with `-a topic=auto` (log at DEBUG, for
Scrapy's "Crawled … (referer: …)" lines), then reads every page of the web with
the sites' own profiles (the links and anchors the spider would read) and prints:

- each labelled on-topic article not kept, with every page linking to it:
  whether that page was fetched (KEPT / off / fetched / -), what it is, and the
  anchor it shows with its topic score;
- each fetched page not kept: its kind and the kind of page that linked to it
  (a held link released when the crawl was idle shows no referer: "idle");
- each fetched listing: how many of the pages it was the first to link to
  were fetched, and how many of those kept.

    python -m bench.topic_diagnose [generated|hard] [--seed N]
"""
from __future__ import annotations

import argparse
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from parsel import Selector

from archive.extract.links import ReadSpec, read_page
from archive.extract.topic import load_topic
from archive.sites import profile_for
from bench.topic import REPO, WEBS, crawl_topic_web, make_web
from testbed.fixtureserver import FixtureServer

CRAWLED = re.compile(r"Crawled \(\d+\) <GET (\S+)> \(referer: (\S+)\)")
OFF_TOPIC = re.compile(r"off topic \(score [\d.]+ < [\d.]+\), archived only: (\S+)")


def read(web, url: str):
    """(is an article, PageReading) of one page of `web`, or None when it has no such page."""
    parts = urlsplit(url)
    reply = web.resolve(parts.netloc, parts.path + (f"?{parts.query}" if parts.query else ""))
    if reply.status != 200:
        return None
    profile = profile_for(url)
    is_article = profile.is_article_url(url)
    spec = (ReadSpec(text="article", links=profile.related_links, anchors=True) if is_article else
            ReadSpec(text="listing", links=profile.listing_links, next_pages=profile.pagination_links, anchors=True))
    return is_article, read_page(Selector(text=reply.body.decode("utf-8")), url, spec, profile.extraction)


def web_pages(web) -> dict:
    """url → (is an article, PageReading) for every page reachable from the start URLs."""
    pages, todo = {}, list(web.start_urls())
    while todo:
        url = todo.pop()
        if url in pages or (reading := read(web, url)) is None:
            continue
        pages[url] = reading
        todo += [link for link, _, _ in reading[1].links]
    return pages


HELD_DROPPED = re.compile(r"held link dropped \(.*\): (\S+)$", re.MULTILINE)


@dataclass
class Crawled:
    """One `topic=auto` crawl of a bench web and the web read as the spider reads it."""

    web: object
    topic: object
    result: dict
    referer: dict  # fetched URL → the page that linked to it ("None": a start URL or a link released at idle)
    off: set  # fetched and judged off topic
    kept: set
    labels: set
    pages: dict  # url → (is an article, PageReading), every page reachable from the start URLs
    inlinks: dict  # url → [(linking page, anchor)]
    held_dropped: set  # held teaser links dropped when the crawl was idle


def crawl_and_read(name: str, seed: int | None, settings: dict | None = None) -> Crawled:
    """Crawl a bench web at DEBUG (with `settings` over the bench's) and read what it did."""
    depth = WEBS[name][1]
    web = make_web(name, seed)
    topic = load_topic("auto", REPO / "seeds")
    server = FixtureServer(web).start_background()
    out = Path(tempfile.mkdtemp(prefix="topic-diagnose-"))
    try:
        try:
            result = crawl_topic_web(web, server, out, "auto", depth, {**(settings or {}), "LOG_LEVEL": "DEBUG"})
        finally:
            server.shutdown()
        log = (out / "crawl.log").read_text("utf-8")
    finally:  # what the crawl wrote (its WARC, corpus, log) is read into `result` and `log`: ~10 MB a web left in /tmp otherwise
        shutil.rmtree(out, ignore_errors=True)
    pages = web_pages(web)
    inlinks: dict[str, list] = {}
    for url, (_, reading) in pages.items():
        for link, anchor, _ in reading.links:
            inlinks.setdefault(link, []).append((url, anchor))
    return Crawled(web, topic, result, dict(CRAWLED.findall(log)), set(OFF_TOPIC.findall(log)),
                   {item["url"] for item in result["items"]}, web.labels(), pages, inlinks,
                   set(HELD_DROPPED.findall(log)))


def diagnose(name: str, seed: int | None) -> None:
    c = crawl_and_read(name, seed)
    topic, result, referer, off, kept, labels, pages, inlinks = (
        c.topic, c.result, c.referer, c.off, c.kept, c.labels, c.pages, c.inlinks)
    print({k: v for k, v in result.items() if k not in ("items", "rules")})

    def status(url):
        return "KEPT" if url in kept else "off" if url in off else "fetched" if url in referer else "-"

    def what(url):
        if url not in pages:
            return "start" if referer.get(url) == "None" else "?"
        is_article, reading = pages[url]
        if is_article:
            return f"article[{'on' if url in labels else 'off'} {topic.score(reading.text):.3f}]"
        return f"listing[{reading.text!r} {topic.score(reading.text):.2f}]"

    def why(url):
        """One line: why an on-topic article was not kept, from what links to it and what was fetched."""
        if url in off:
            return f"fetched, its text scores {topic.score(pages[url][1].text):.3f} < {topic.threshold}"
        parents = inlinks.get(url, [])
        if any(parent in kept for parent, _ in parents):
            return "a kept article links to it; its anchor was held and dropped (leans off topic) or never released"
        fetched = [parent for parent, _ in parents if status(parent) != "-"]
        if fetched:
            return "only fetched listings/off-topic pages link to it, with an anchor under the anchor threshold"
        if all(not pages[parent][0] for parent, _ in parents if parent in pages):
            return "only listings name it, none of them fetched (below the expected-yield bound)"
        return "only unfetched pages link to it (listings below the bound, off-topic articles never fetched)"

    print("\n== on-topic articles not kept ==")
    for url in sorted(labels - kept):
        print(f"* {url} {what(url)} {status(url)}\n  why: {why(url)}")
        for parent, anchor in inlinks.get(url, []):
            print(f"    <- {status(parent):7} {what(parent):45.45} {parent[-55:]:55} {anchor!r} ({topic.score(anchor):.3f})")
    print("\n== fetched, not kept ==")
    kinds: Counter = Counter()
    for url, parent in referer.items():
        if url.endswith("/robots.txt") or url in kept:
            continue
        parent_kind = "idle" if parent == "None" else "kept article" if parent in kept else \
            "listing" if parent in pages and not pages[parent][0] else "off-topic article"
        kinds[(what(url).split("[")[0] + ("" if url not in labels else " (on topic)"), parent_kind)] += 1
        print(f"  {what(url):50.50} <- {parent_kind:17} {[a for p, a in inlinks.get(url, []) if p == parent][:1]}")
    for (kind, parent_kind), n in kinds.most_common():
        print(f"  {n:4}  {kind} <- {parent_kind}")
    print("\n== fetched listings: pages they were first to link to (fetched / kept) ==")
    for url in referer:
        if url in pages and not pages[url][0]:
            children = [child for child, parent in referer.items() if parent == url]
            print(f"  {what(url):45.45} {url[-50:]:50} {len(children)} / {sum(c in kept for c in children)}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("web", nargs="?", choices=sorted(WEBS), default="hard")
    parser.add_argument("--seed", type=int, help="the web's generator seed (default: the bench's)")
    args = parser.parse_args(argv)
    diagnose(args.web, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
