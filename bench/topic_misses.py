"""Every miss of a topic crawl, by cause, over several webs; and what full recall would cost.

A miss is a labelled on-topic article reachable from the start URLs (through any
links the sites show) that the `topic=auto` crawl did not keep. Each is put in
one class, the first that applies:

- `judged off`: fetched, its text scores under the threshold;
- `queued, dropped`: a kept article links to it (its related box), and the link
  was never fetched: dropped when found (the anchor leans off topic by what the
  crawl learned) or held and dropped at idle (`held link dropped` in the log);
- `seen, anchor without topic words`: only fetched pages that are not kept
  articles (a listing fetched for its members, an off-topic article) link to
  it, with an anchor under the anchor threshold;
- never seen (no fetched page links to it), by what does: `behind a missed
  on-topic article` (a series part or a chain behind another miss), `only via
  listings a kept article names (held, under the yield bound)`, `only via
  listings no kept article names`, `only behind off-topic articles`.

Pages fetched for nothing: each fetched page that is not a kept article and
leads, through the pages it was the first to link to (the log's referer), to no
kept article, counted by what it is (article, listing) and what reached it (a
kept article, a listing, an off-topic article, or `idle`: a held link or
listing released when the crawl was idle) — the budget a better guess would
free (docs/topic.md, eighth pass).

Cost of full recall: the fewest pages not fetched on a path from a fetched page
to each miss (breadth first over the web's links), their union over all
misses (an oracle's extra pages; greedy, so an upper bound of the least), and
what that makes pages per kept article if every reachable article were kept.

    python -m bench.topic_misses [--web hard] --seed 43 --seed 57 ...
"""
from __future__ import annotations

import argparse
from collections import Counter, deque

from bench.topic import WEBS
from bench.topic_diagnose import Crawled, crawl_and_read

BEHIND_MISS, VIA_HELD, VIA_LISTINGS, BEHIND_OFF = (
    "never seen: behind a missed on-topic article (series part, chain)",
    "never seen: only via listings a kept article names (held under the yield bound)",
    "never seen: only via listings no kept article names",
    "never seen: only behind off-topic articles not fetched")
JUDGED_OFF, DROPPED, SEEN_WEAK = ("fetched, judged off topic", "queued (a kept article links to it), dropped",
                                  "seen on fetched listings/off-topic articles only, anchor without topic words")
CLASSES = (JUDGED_OFF, DROPPED, SEEN_WEAK, BEHIND_MISS, VIA_HELD, VIA_LISTINGS, BEHIND_OFF)


def reachable(c: Crawled) -> set:
    return c.labels & {url for url, (is_article, _) in c.pages.items() if is_article}


def classify(c: Crawled, url: str) -> str:
    """The class of one miss (module docstring)."""
    fetched = set(c.referer)
    if url in fetched:
        return JUDGED_OFF
    parents = [parent for parent, _ in c.inlinks.get(url, [])]
    if any(parent in c.kept for parent in parents):
        return DROPPED
    if any(parent in fetched for parent in parents):
        return SEEN_WEAK
    is_article = {parent: c.pages[parent][0] for parent in parents if parent in c.pages}
    if any(is_article[p] and p in c.labels for p in is_article):
        return BEHIND_MISS
    listings = [p for p in is_article if not is_article[p]]
    if any(kept in c.kept for listing in listings for kept, _ in c.inlinks.get(listing, [])):
        return VIA_HELD
    return VIA_LISTINGS if listings else BEHIND_OFF


def root_cause(c: Crawled, url: str, classes: dict) -> str:
    """A miss behind other misses takes the class of the first miss up its chain (a series part 3
    behind part 2 behind a part 1 that was dropped: `queued, dropped`)."""
    seen, todo = {url}, [url]
    while todo:
        step = todo.pop(0)
        if classes[step] != BEHIND_MISS:
            return classes[step]
        for parent, _ in c.inlinks.get(step, []):
            if parent in classes and parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return BEHIND_MISS


def oracle_extra(c: Crawled, misses: set) -> int:
    """Pages not fetched that a crawl knowing the web would add to reach every miss: the union of
    one shortest path (in pages not fetched) from the fetched pages to each miss."""
    fetched = set(c.referer) & set(c.pages)
    came_from: dict[str, str | None] = {url: None for url in fetched}
    queue = deque(fetched)
    while queue:  # breadth first from every fetched page at once
        url = queue.popleft()
        for link, _, _ in c.pages[url][1].links:
            if link in c.pages and link not in came_from:
                came_from[link] = url
                queue.append(link)
    needed: set[str] = set()
    for miss in misses:
        step = miss
        while step is not None and step not in fetched:
            needed.add(step)
            step = came_from.get(step)
    return len(needed)


def wasted(c: Crawled) -> Counter:
    """Fetched pages that are not kept articles and lead (by referer) to no kept one, by
    "<article|listing> <- <kept|listing|off-topic|idle>" (module docstring)."""
    children: dict[str, list] = {}
    for url, parent in c.referer.items():
        children.setdefault(parent, []).append(url)
    useful: dict[str, bool] = {}

    def leads_to_kept(url: str) -> bool:
        if url not in useful:
            useful[url] = False  # a cycle leads nowhere new
            useful[url] = url in c.kept or any(map(leads_to_kept, children.get(url, ())))
        return useful[url]

    def kind(url: str) -> str:
        return "article" if c.pages.get(url, (True,))[0] else "listing"

    counts: Counter = Counter()
    for url, parent in c.referer.items():
        if url.endswith("/robots.txt") or leads_to_kept(url):
            continue
        came = "idle" if parent == "None" else "kept" if parent in c.kept else \
            "listing" if kind(parent) == "listing" else "off-topic"
        counts[f"{kind(url)} <- {came}"] += 1
    return counts


def summarise(label: str, c: Crawled) -> dict:
    reach = reachable(c)
    misses = reach - c.kept
    pages = c.result["pages_fetched"]
    extra = oracle_extra(c, misses)
    classes = {url: classify(c, url) for url in misses}
    # Pages per kept on-topic article counts every one the crawl kept, as the crawl does: a site's home
    # page, held by the crawl whether or not its articles link to it (thoidai's link it only from the
    # menu, which the profiles do not read), leads to articles this reading of the web cannot reach.
    return {"web": label, "reachable": len(reach), "kept": len(reach & c.kept), "pages": pages,
            "kept_on_topic": len(c.kept & c.labels),
            "precision": c.result["precision"], "misses": Counter(classes.values()),
            "roots": Counter(root_cause(c, url, classes) for url in misses),
            "budget": int(1.5 * len(reach)), "oracle_pages": pages + extra, "wasted": wasted(c),
            "details": sorted((classes[url], root_cause(c, url, classes), url, [
                (parent[-60:], anchor, round(c.topic.score(anchor), 3)) for parent, anchor in c.inlinks.get(url, [])
                if parent in c.referer]) for url in misses)}


def format_rows(rows: list[dict]) -> str:
    lines = ["| web | kept / reachable | recall | pages | pages per kept on-topic article | " + " | ".join(
        f"({i + 1})" for i in range(len(CLASSES))) + " | 1.5 × reachable | oracle: pages for all | fetched for nothing | precision |",
             "|---|---|---|---|---|" + "---|" * len(CLASSES) + "---|---|---|---|"]
    total: Counter = Counter()
    for r in rows:
        total += r["misses"]
        lines.append(f"| {r['web']} | {r['kept']} / {r['reachable']} | {r['kept'] / r['reachable']:.2f} | "
                     f"{r['pages']} | {r['pages'] / max(r['kept_on_topic'], 1):.2f} | "
                     + " | ".join(str(r["misses"].get(k, 0)) for k in CLASSES)
                     + f" | {r['budget']} | {r['oracle_pages']} | {sum(r['wasted'].values())} | {r['precision']:.2f} |")
    lines.append("| total | " + f"{sum(r['kept'] for r in rows)} / {sum(r['reachable'] for r in rows)} | | "
                 f"{sum(r['pages'] for r in rows)} | | " + " | ".join(str(total.get(k, 0)) for k in CLASSES)
                 + f" | {sum(r['budget'] for r in rows)} | {sum(r['oracle_pages'] for r in rows)} | "
                 f"{sum(sum(r['wasted'].values()) for r in rows)} | {min(r['precision'] for r in rows):.2f} |")
    roots = sum((r["roots"] for r in rows), Counter())
    lines.append("| by the first miss up the chain | | | | | " + " | ".join(str(roots.get(k, 0)) for k in CLASSES)
                 + " | | | | |")
    legend = "\n".join(f"({i + 1}) {k}" for i, k in enumerate(CLASSES))
    waste = sum((r["wasted"] for r in rows), Counter())
    spent = ", ".join(f"{key} {n}" for key, n in sorted(waste.items()))
    return "\n".join(lines) + f"\n\nfetched for nothing: {sum(waste.values())} ({spent})\n\n" + legend


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--web", choices=sorted(WEBS), default="hard")
    parser.add_argument("--seed", type=int, action="append", help="the generator's seed (default: the bench's web)")
    parser.add_argument("--details", action="store_true", help="also list every miss with its class")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a crawler setting for these crawls (a variant), e.g. TOPIC_LEARNED_RANKING=True")
    args = parser.parse_args(argv)
    malformed = [item for item in args.set if not all(item.partition("=")[:2])]  # no NAME, or no "="
    if malformed:
        parser.error(f"--set {malformed[0]!r}: expected NAME=VALUE")
    settings = dict(item.partition("=")[::2] for item in args.set)
    rows = []
    for seed in args.seed or (None,):
        label = args.web if seed is None else f"{args.web} {seed}"
        rows.append(summarise(label, crawl_and_read(args.web, seed, settings)))
        if args.details:
            for cls, root, url, seen_on in rows[-1]["details"]:
                print(f"  {label}: {cls} [root: {CLASSES.index(root) + 1}]: {url}\n      fetched pages linking: {seen_on}")
        print(format_rows(rows[-1:]).split("\n\n")[0].splitlines()[-2], flush=True)
    print(format_rows(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
