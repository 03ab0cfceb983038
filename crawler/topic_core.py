"""What a topic is about at its core: the profile terms a page near the threshold must give weight to.

A topic profile (archive/extract/topic.py) spreads its weight over hundreds of
terms, but much of it sits on a few: with the shipped seeds "lào" alone
carries 0.59 of the squared norm ("việt nam" 0.11, "đảng" 0.02, …). A page
can come close to the threshold on the many (relation words every diplomatic
story uses: "hợp tác", "thúc đẩy", "việt nam") without the few: Vietnam's relations with *another* country score up to just
under the 0.18 threshold, and never name the topic's own subject among their
heaviest terms. An on-topic page that falls just under the threshold (Laos
named fewer times in a shorter text, the rest its section's own news) still does:
on the development webs every on-topic page scoring 0.8–1 × the threshold had
"lào" among its 80 heaviest terms, and none of ~570 off-topic ones in that
band did (docs/topic.md, session 17).

`core_terms(topic)`: the profile's heaviest terms that together carry
`CORE_SHARE` of its squared weight (the profile is a unit vector), so the core
follows whatever topic the seeds or a topic file give, one term or several.
`names_core(heaviest, core)`: a page's heaviest terms (what a page text
measured in a worker carries) include a core term.
"""
from __future__ import annotations

from archive.extract.topic import TopicProfile

CORE_SHARE = 0.5  # of the profile's squared weight: the terms the topic is mostly about


def core_terms(topic: TopicProfile) -> frozenset[str]:
    """The fewest heaviest profile terms whose squared weights sum to `CORE_SHARE` of the profile's
    (half the terms of a keyword file of equal weights)."""
    weights = sorted(topic.weights.items(), key=lambda kv: (-kv[1], kv[0]))
    total = sum(w * w for _, w in weights)
    core, carried = [], 0.0
    for term, weight in weights:
        if carried >= CORE_SHARE * total:
            break
        core.append(term)
        carried += weight * weight
    return frozenset(core)


def names_core(heaviest_terms, core: frozenset[str]) -> bool:
    """A page whose heaviest terms include a core term gives the topic's subject weight of its own."""
    return not core.isdisjoint(heaviest_terms)
