"""A ranking of a topic crawl's guesses learned within the crawl, from the outcomes of its fetches.

Why: the held frontier's order (crawler/topic_frontier.py) is hand-made — the
anchors' learned log-odds, then the kept pages linking to a link — and on
webs nobody tuned on a fifth of the pages are still fetched for nothing
(docs/topic.md, eighth pass). Each signal alone did not separate the useful
guesses from the useless ones; a model over all of them, fitted to this
crawl's own outcomes, may: the "apprentice" of Chakrabarti et al.,
"Accelerated focused crawling through online relevance feedback" (2002),
and Aggarwal et al.'s "intelligent crawling" (2001), which learns from each
fetched page which features of the link that led to it predict the topic.

`GuessLearner` is a logistic regression fitted online by stochastic
gradient descent: every article the crawl judges is one example — the
features its link had when it was chosen (`link_features`), the verdict as
outcome — and the held links are ranked by the probability it gives them.
Pure Python, one pass per example in crawl order: the same crawl order gives
the same weights. One weight per feature over every example: weighting the
evidence apart for held links, with the old order as a prior, separated the
released links better but found fewer articles. Off by default
(`TOPIC_LEARNED_RANKING`): it found more articles on unseen webs, fewer on
the bench's hard web (docs/topic.md, ninth pass).
"""
from __future__ import annotations

import math
from urllib.parse import urlsplit

__all__ = ["GuessLearner", "link_features"]

LEARNING_RATE = 0.2
L2 = 0.01  # weight decay per update: a feature seen once does not carry the ranking for good
ODDS_SCALE = 5.0  # log-odds are scaled by this and clipped to [-1, 1]


def _clip(value: float, low: float = -1.0, high: float = 1.0) -> float:
    return max(low, min(high, value))


def link_features(gate, url: str, anchors, parents: int, hops: int, kind: str) -> dict[str, float]:
    """What the crawl knows of a link to an article when it decides on it: its anchors' best topic
    score and learned log-odds (crawler/judged_pages.py), their background log-odds
    (crawler/anchor_background.py), its URL slug's topic score (crawler/url_slug.py), the pages
    linking to it, the off-topic pages on the way to it, its site, and how it was found (`kind`:
    "followed" at once by its evidence, "held" without evidence, "reserve" held and dropped).
    `gate`: the crawl's TopicGate."""
    threshold = gate.topic.anchor_threshold or 1.0
    scores = [gate.topic.score(anchor) for anchor in anchors if anchor] or [0.0]
    odds = [gate.judged.log_odds(anchor) for anchor in anchors if anchor]
    known = [value for value in odds if value is not None]
    background = [gate.background.log_odds(anchor, url) for anchor in anchors if anchor]
    background_known = [value for value in background if value is not None]
    features = {
        "bias": 1.0,
        f"kind:{kind}": 1.0,
        f"site:{urlsplit(url).netloc}": 1.0,
        "anchor": _clip(max(scores) / threshold / 2, 0.0),
        "slug": _clip(gate.slugs.score(url) / threshold / 2, 0.0),
        "parents": _clip(math.log1p(max(0, parents - 1)) / 2, 0.0),
        "hops": _clip(float(hops), 0.0),
        "anchors": _clip((len([a for a in anchors if a]) - 1) / 3, 0.0),
    }
    if known:
        features["odds"] = _clip(max(known) / ODDS_SCALE)
    else:
        features["odds_unknown"] = 1.0
    if background_known:
        features["background"] = _clip(max(background_known) / ODDS_SCALE)
    return features


class GuessLearner:
    """Online logistic regression: P(a guess leads to an on-topic article | its features)."""

    def __init__(self, learning_rate: float = LEARNING_RATE, l2: float = L2):
        self.learning_rate = learning_rate
        self.l2 = l2
        self.weights: dict[str, float] = {}
        self.examples = 0

    def probability(self, features: dict[str, float]) -> float:
        weight = self.weights.get
        z = sum(weight(name, 0.0) * value for name, value in features.items())
        return 1.0 / (1.0 + math.exp(-_clip(z, -30.0, 30.0)))

    def learn(self, features: dict[str, float], outcome: bool) -> None:
        """One SGD step on the log loss for one fetched guess and its outcome."""
        error = float(outcome) - self.probability(features)
        for name, value in features.items():
            current = self.weights.get(name, 0.0)
            self.weights[name] = current + self.learning_rate * (error * value - self.l2 * current)
        self.examples += 1
