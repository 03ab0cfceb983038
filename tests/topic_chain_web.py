"""A tiny hand-made nhandan.vn web for the tunnelling and related-box tests (tests/test_topic_recall.py).

Every link is in an article's related box ("Tin liên quan"), as on the site:

    S (start) ─"Những người lính tình nguyện năm ấy"→ A1 → A2 → A3 → A4   on-topic chain, teaser anchors
      └──────"Mưa đến bao giờ?"→ O1 (weather) ─"Việt Nam - Lào …"→ B (on topic)
                                  └─"Việt Nam - Lào: những con số"→ W (markets) ─→ C (on topic)

A1–A3 and O1 are linked by teasers that name no topic word. O1 and W are
off topic: B lies one off-topic page from the last on-topic one, C two.
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape

from testbed.topic_site import OFF_TOPICS, ON_TOPIC_SENTENCES, _html, _not_found
from testbed.fixtureserver import FixtureSite, Reply

HOST = "nhandan.vn"
SLOTS = {"vn": "Nghệ An", "lao": "Xiêng Khoảng", "x": "giáo dục"}


@dataclass(frozen=True)
class Page:
    title: str
    sentences: tuple[str, ...]
    related: tuple[tuple[str, str], ...] = ()  # (page name, anchor text)


def _text(bank: tuple[str, ...], n: int = 12) -> tuple[str, ...]:
    return tuple(bank[i % len(bank)].format(**SLOTS) for i in range(n))


ON, WEATHER, MARKET = _text(ON_TOPIC_SENTENCES), _text(OFF_TOPICS["weather"][1]), _text(OFF_TOPICS["market"][1])
PAGES = {
    "S": Page("Việt Nam - Lào tăng cường hợp tác giáo dục", ON,
              (("A1", "Những người lính tình nguyện năm ấy"), ("O1", "Mưa đến bao giờ?"))),
    "A1": Page("Kỳ 1: Những người lính tình nguyện năm ấy", ON, (("A2", "Kỳ 2: Đưa các anh về với đất mẹ"),)),
    "A2": Page("Kỳ 2: Đưa các anh về với đất mẹ", ON, (("A3", "Kỳ 3: Mùa khô trên đất bạn"),)),
    "A3": Page("Kỳ 3: Mùa khô trên đất bạn", ON, (("A4", "Kỳ 4: Hài cốt liệt sĩ quân tình nguyện về với Lào"),)),
    "A4": Page("Kỳ 4: Hài cốt liệt sĩ quân tình nguyện về với Lào", ON),
    "O1": Page("Mưa đến bao giờ?", WEATHER, (("B", "Việt Nam - Lào hợp tác phát triển năng lượng"),
                                               ("W", "Việt Nam - Lào: những con số"))),
    "B": Page("Việt Nam - Lào hợp tác phát triển năng lượng", ON),
    "W": Page("Việt Nam - Lào: những con số", MARKET, (("C", "Hợp tác thương mại giữa Việt Nam và Lào"),)),
    "C": Page("Hợp tác thương mại giữa Việt Nam và Lào", ON),
}
ON_TOPIC = frozenset({"S", "A1", "A2", "A3", "A4", "B", "C"})


def url(name: str) -> str:
    return f"http://{HOST}/trang-{name.lower()}-post{900 + list(PAGES).index(name)}.html"


def name_of(page_url: str) -> str | None:
    return next((name for name in PAGES if url(name) == page_url), None)


class ChainWeb(FixtureSite):
    """Serves `PAGES` in nhandan.vn article markup."""

    def __init__(self):
        super().__init__()
        self.routes = {}

    def resolve(self, host: str, path_qs: str) -> Reply:
        if path_qs == "/robots.txt":
            return Reply(headers=[("Content-Type", "text/plain")], body=b"User-agent: *\nAllow: /\n")
        name = name_of(f"http://{host}{path_qs}")
        return _not_found() if name is None else _html(self.article(PAGES[name]))

    @staticmethod
    def article(page: Page) -> str:
        body = "".join(f"<p>{escape(' '.join(page.sentences[i:i + 3]))}</p>" for i in range(0, len(page.sentences), 3))
        related = "".join(f'<article class="story"><h3 class="story__heading"><a class="cms-link" '
                          f'href="{url(name)}">{escape(anchor)}</a></h3></article>' for name, anchor in page.related)
        return (f'<html><head><title>{escape(page.title)}</title></head><body><article class="article">'
                f'<h1 class="article__title cms-title">{escape(page.title)}</h1>'
                f'<div class="article__body zce-content-body cms-body">{body}</div></article>'
                f'<div class="box-related"><h3>Tin liên quan</h3>{related}</div></body></html>')
