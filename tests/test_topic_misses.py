"""bench/topic_misses.py: each miss of a topic crawl in one class, and what an oracle would fetch."""
from types import SimpleNamespace

from bench.topic_diagnose import Crawled
from bench.topic_misses import (BEHIND_MISS, DROPPED, JUDGED_OFF, SEEN_WEAK, VIA_HELD, VIA_LISTINGS,
                                classify, format_rows, oracle_extra, reachable, root_cause, summarise, wasted)

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


def test_pages_fetched_for_nothing_are_those_leading_to_no_kept_article():
    c = _crawled()
    # C: an off-topic article A's box led to; L: a listing the start linked to, which led to nothing fetched.
    assert wasted(c) == {"article <- kept": 1, "listing <- kept": 1}
    c.referer["G"] = "L"  # L led to G, fetched and not kept: both for nothing
    c.referer["S"] = "None"  # S released at idle, it led to D, kept: not counted
    c.referer["D"] = "S"
    c.kept.add("D")
    assert wasted(c) == {"article <- kept": 1, "listing <- kept": 1, "article <- listing": 1}


def test_pages_per_kept_article_count_every_kept_on_topic_article_reachable_by_this_reading_or_not():
    c = _crawled()
    c.topic = SimpleNamespace(score=lambda anchor: 0.0)
    c.result = {"pages_fetched": 6, "precision": 1.0}
    c.kept.add("X")  # kept through a page the reading of the web does not reach (a site's home page)
    row = summarise("web", c)
    assert (row["kept"], row["kept_on_topic"]) == (2, 3)  # recall: of the reachable; the ratio: of all kept
    assert "| web | 2 / 8 | 0.25 | 6 | 2.00 |" in format_rows([row])
