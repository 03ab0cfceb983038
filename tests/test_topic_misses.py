"""bench/topic_misses.py: each miss of a topic crawl in one class, and what an oracle would fetch."""
from types import SimpleNamespace

from bench.topic_diagnose import Crawled
from bench.topic_misses import (BEHIND_MISS, DROPPED, JUDGED_OFF, SEEN_WEAK, VIA_HELD, VIA_LISTINGS,
                                classify, oracle_extra, reachable, root_cause)

# start → kept article A; A's box: B (dropped teaser), C (judged off), section S (held, not fetched);
# S lists D (on topic, never seen); D links E (on topic, behind D); listing T (no kept page names it)
# lists F; a fetched listing L shows G (teaser anchor).
LINKS = {"start": ["A", "L"], "A": ["B", "C", "S"], "S": ["D"], "D": ["E"], "T": ["F"], "L": ["G"], "E": ["T"],
         "B": [], "C": [], "F": [], "G": []}
LISTINGS = {"S", "T", "L"}


def _crawled() -> Crawled:
    pages = {url: (url not in LISTINGS, SimpleNamespace(links=[(link, f"anchor {link}", False) for link in links]))
             for url, links in LINKS.items()}
    inlinks: dict = {}
    for url, links in LINKS.items():
        for link in links:
            inlinks.setdefault(link, []).append((url, f"anchor {link}"))
    return Crawled(web=None, topic=None, result={}, referer={"start": "None", "A": "start", "C": "A", "L": "start"},
                   off={"C"}, kept={"start", "A"}, labels={"start", "A", "B", "C", "D", "E", "F", "G", "X"},
                   pages=pages, inlinks=inlinks, held_dropped={"B"})


def test_each_miss_falls_in_the_first_class_that_applies():
    c = _crawled()
    misses = reachable(c) - c.kept
    assert misses == {"B", "C", "D", "E", "F", "G"}  # X is labelled but nothing links to it: out of reach
    classes = {url: classify(c, url) for url in misses}
    assert classes == {"B": DROPPED, "C": JUDGED_OFF, "D": VIA_HELD, "E": BEHIND_MISS, "F": VIA_LISTINGS,
                       "G": SEEN_WEAK}
    assert root_cause(c, "E", classes) == VIA_HELD  # E is behind D, which only the held section lists


def test_the_oracle_counts_each_page_not_fetched_once_on_the_shortest_paths():
    c = _crawled()
    # B, G: themselves; D: S and D; E: + E; F: + T and F (through E); C was fetched: nothing.
    assert oracle_extra(c, {"B", "C", "D", "E", "F", "G"}) == 7
    assert oracle_extra(c, {"C"}) == 0
