"""BenchSite pages whose text repeats the way real news text does, for `make bench-scale`.

BenchSite's article text is random words, so no two articles share a shingle
and a near-duplicate look-up never meets a long posting list. Real articles
do share text (issue #25): a few lines are in nearly every article of a site
(a reprint notice, "Theo TTXVN", photo credits), and stock sentences recur
with a long tail (official titles, standard phrasing). Here each article has:
- the house footer line, in every article;
- "Theo TTXVN" as its last paragraph in one article of three;
- `STOCK_PER_ARTICLE` stock sentences from a bank of `STOCK_SENTENCES`, drawn
  with Zipf weights (s = 1.1: the commonest is in ~40 % of articles);
- its own random words, as BenchSite (so distinct pages stay far from being
  near-duplicates: bench/scale.py counts near-duplicates to check that).
"""
from __future__ import annotations

import itertools
import random
import re
import threading

from testbed.bench_site import IMAGE_HOST, WORDS, BenchSite, _words, article_html, article_url
from testbed.fixtureserver import Reply

STOCK_SENTENCES = 5000
STOCK_PER_ARTICLE = 6
ZIPF_S = 1.1
FOOTER = ("Bạn đọc có thể gửi ý kiến, phản hồi về nội dung bài viết qua hộp thư điện tử của tòa soạn; "
          "mọi hình thức sao chép, trích dẫn phải ghi rõ nguồn Báo Nhân Dân điện tử.")
THEO_TTXVN = "Theo TTXVN"
HEADLINE = "Hợp tác Việt Nam - Lào, bài số {n}"  # testbed.bench_site.article_html's <h1>
_RELATED = re.compile(rb'(href="[^"]*/bai-viet-so-(\d+)-post\d+\.html">)B\xc3\xa0i li\xc3\xaan quan \d+</a>')

_CUMULATIVE = list(itertools.accumulate(1 / k ** ZIPF_S for k in range(1, STOCK_SENTENCES + 1)))


def stock_sentence(k: int) -> str:
    """Stock sentence number `k`: the same words wherever it appears."""
    rng = random.Random(f"stock-{k}")
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(14, 24))).capitalize() + "."


def wire_paragraphs(n: int):
    """The `paragraphs(rng, count)` of article `n` (see testbed.bench_site.article_html): own text with the
    stock sentences spread over the body, the footer (and one article in three "Theo TTXVN") at the end."""
    picks = random.Random(f"stock-picks-{n}").choices(range(STOCK_SENTENCES), cum_weights=_CUMULATIVE,
                                                      k=STOCK_PER_ARTICLE)
    stock = [stock_sentence(k) for k in picks]
    written = 0

    def paragraphs(rng: random.Random, count: int) -> str:
        nonlocal written
        out = []
        for _ in range(count):
            text = _words(rng, 50, 90).capitalize() + "."
            if written % 2 == 0 and stock:
                text += " " + stock.pop()
            written += 1
            out.append(f"<p>{text}</p>")
        if written == 14:  # the last call (5 + 5 + 4 paragraphs)
            out += [f"<p>{line}</p>" for line in ([*stock, FOOTER] + ([THEO_TTXVN] if n % 3 == 0 else []))]
        return "\n".join(out)
    return paragraphs


class ScaleSite(BenchSite):
    """`pages` articles with `wire_paragraphs` text, all rendered up front (so serving page 19,000
    costs the server no more than page 1: the crawl's first and last pages/s compare fairly)."""

    def __init__(self, pages: int):
        super().__init__(pages, precompute=pages)
        self.served = 0  # article pages sent
        self.requisites_served = 0  # images sent (the crawl's work a window is pages + requisites)
        self._lock = threading.Lock()

    def render(self, n: int) -> bytes:
        """Article `n`; its related box names each linked article by its headline, as real related
        boxes do (BenchSite's "Bài liên quan k" is rightly not followed by a `topic=auto` crawl)."""
        html = article_html(n, self.pages, wire_paragraphs(n))
        return _RELATED.sub(lambda m: m[1] + HEADLINE.format(n=int(m[2])).encode() + b"</a>", html)

    def resolve(self, host: str, path_qs: str) -> Reply:
        """The listing's anchors are the articles' headlines (BenchSite's are bare numbers, which
        a `topic=auto` crawl, the default, rightly does not follow)."""
        if path_qs != "/tin-moi.html":
            reply = super().resolve(host, path_qs)
            if reply.status == 200 and ("-post" in path_qs or host == IMAGE_HOST):
                with self._lock:
                    if host == IMAGE_HOST:
                        self.requisites_served += 1
                    else:
                        self.served += 1
            return reply
        links = "".join(f'<article class="story"><a class="cms-link" href="{article_url(i)}">'
                        f'{HEADLINE.format(n=i)}</a></article>'
                        for i in range(0, self.pages, max(1, self.pages // 20)))
        return Reply(headers=[("Content-Type", "text/html; charset=utf-8")],
                     body=f'<html><body><div class="box-stream">{links}</div></body></html>'.encode())
