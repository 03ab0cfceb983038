"""URL dedupe by the scheduler's dupe filter: canonical URLs, the page cap, releases."""
from __future__ import annotations

from scrapy import Request, Spider
from scrapy.utils.test import get_crawler

from crawler import settings as project
from crawler.dupefilter import PAGE, REQUEST_RELEASED, TOPIC_RULE, CanonicalDupeFilter

ND = "https://nhandan.vn"


def _filter(max_pages=None):
    crawler = get_crawler(Spider, {"REQUEST_FINGERPRINTER_CLASS": project.REQUEST_FINGERPRINTER_CLASS,
                                   "DUPEFILTER_CLASS": project.DUPEFILTER_CLASS})
    crawler.spider = Spider("news")
    crawler.spider.max_pages = max_pages
    return crawler, CanonicalDupeFilter.from_crawler(crawler)


def page(url, **meta):
    return Request(url, meta={PAGE: True, **meta})


def test_variants_of_one_page_are_duplicates():
    _, dupes = _filter()
    assert not dupes.request_seen(page(f"{ND}/a-post1.html"))
    for variant in ("http://nhandan.vn/a-post1.html", f"{ND}/a-post1.html?utm_source=x", f"{ND}/a-post1.amp",
                    f"{ND}/a-post1.html#top"):
        assert dupes.request_seen(page(variant)), variant
    assert not dupes.request_seen(page(f"{ND}/b-post2.html"))


def test_max_pages_counts_new_pages_only():
    crawler, dupes = _filter(max_pages=2)
    assert not dupes.request_seen(page(f"{ND}/a-post1.html", **{TOPIC_RULE: "related"}))
    assert dupes.request_seen(page(f"http://nhandan.vn/a-post1.html"))  # a duplicate takes no slot
    assert not dupes.request_seen(Request(f"{ND}/anh.jpg"))  # not a page (a requisite): no slot
    assert not dupes.request_seen(page(f"{ND}/b-post2.html"))
    assert dupes.request_seen(page(f"{ND}/c-post3.html"))  # the cap
    assert not dupes.request_seen(page(f"https://nhandan.vn/d-post4.html",
                                       redirect_urls=[f"{ND}/x"]))  # a redirect's hop is not a new page
    stats = crawler.stats.get_stats()
    assert stats["news/skipped_max_pages"] == 1 and stats["topic/followed/related"] == 1


def test_a_released_request_may_be_requested_again_and_frees_its_slot():
    crawler, dupes = _filter(max_pages=1)
    dropped = page(f"{ND}/a-post1.html")
    assert not dupes.request_seen(dropped)
    assert dupes.request_seen(page(f"{ND}/b-post2.html"))  # the cap
    crawler.signals.send_catch_log(signal=REQUEST_RELEASED, request=dropped)  # topic re-check dropped it
    assert not dupes.request_seen(page(f"{ND}/b-post2.html"))
    assert dupes.request_seen(page(f"{ND}/a-post1.html"))  # the cap again, not a duplicate
    assert crawler.stats.get_value("news/skipped_max_pages") == 2


def test_url_fingerprint_is_the_fingerprinters_for_a_plain_get():
    """`CanonicalDupeFilter.url_seen` (the spider's "already requested") looks up this fingerprint."""
    from crawler.fingerprint import CanonicalURLFingerprinter, url_fingerprint

    fingerprinter = CanonicalURLFingerprinter()
    url = "https://nhandan.vn/a-post1.html?utm_source=x"
    assert url_fingerprint(url) == fingerprinter.fingerprint(Request(url))
    assert url_fingerprint("http://nhandan.vn/a-post1.html") == url_fingerprint(url)
    assert url_fingerprint("mailto:x@example.org") is None


def test_the_spider_asks_the_dupe_filter_once_a_page_and_nothing_without_one():
    """`NewsSpider._requested()`: the dupe filter's `url_seen`, looked up once for a page's links; a
    scheduler without one (distributed mode) or no engine yet: nothing counts as requested."""
    from types import SimpleNamespace

    from crawler.spiders.news import NewsSpider

    crawler, dupes = _filter()
    spider = NewsSpider(urls=f"{ND}/")
    spider.crawler = SimpleNamespace(engine=SimpleNamespace(scheduler=SimpleNamespace(df=dupes)))
    assert not dupes.request_seen(page(f"{ND}/a-post1.html"))
    requested = spider._requested()
    assert requested == dupes.url_seen
    assert requested("http://nhandan.vn/a-post1.html?utm_source=x") and not requested(f"{ND}/b-post2.html")
    assert spider._unseen() == dupes.unseen
    for engine in (None, SimpleNamespace(scheduler=SimpleNamespace())):
        spider.crawler = SimpleNamespace(engine=engine)
        assert spider._requested()(f"{ND}/a-post1.html") is False
        assert spider._unseen()([f"{ND}/a-post1.html"]) == {f"{ND}/a-post1.html"}


def test_a_page_s_links_are_filtered_by_asking_once_a_url():
    """`_unrequested`: the links a per-link filter keeps, in order, repeats included, with the dupe
    filter asked once for each URL the page names."""
    from crawler.spiders.news import _unrequested

    crawler, dupes = _filter()
    for path in ("a-post1.html", "c-post3.html"):
        assert not dupes.request_seen(page(f"{ND}/{path}"))
    urls = [f"{ND}/{path}" for path in ("a-post1.html", "b-post2.html", "a-post1.html", "c-post3.html",
                                        "b-post2.html", "d-post4.html", "b-post2.html")] + ["mailto:x@example.org"]
    links = [(url, f"anchor {n}", n == 5) for n, url in enumerate(urls)]
    asked = []

    def unseen(named):
        asked.append(list(named))
        return dupes.unseen(named)

    assert _unrequested(links, unseen) == [link for link in links if not dupes.url_seen(link[0])]
    assert len(asked) == 1 and sorted(asked[0]) == sorted(set(urls))
    assert _unrequested([], unseen) == []


def test_unseen_is_url_seen_of_each_url():
    """`CanonicalDupeFilter.unseen`, the batch look-up the spider asks of a page's URLs: exactly the
    URLs `url_seen` says were not admitted (canonical forms, http/https, tracking parameters, URLs
    that are not http(s), released requests)."""
    import random

    crawler, dupes = _filter()
    rng = random.Random(17)
    forms = ["{}/p{}.html", "http://nhandan.vn/p{1}.html", "{}/p{}.html?utm_source=x", "{}/p{}.html#top",
             "mailto:p{1}@example.org", "javascript:void({1})", "{}/p{}.html/", "HTTPS://NHANDAN.VN/p{1}.html"]
    admitted = []
    for n in range(400):
        if rng.random() < 0.4:
            request = page(f"{ND}/p{rng.randrange(200)}.html")
            if not dupes.request_seen(request):
                admitted.append(request)
        if admitted and rng.random() < 0.05:
            dupes.release(admitted.pop(rng.randrange(len(admitted))))
        urls = [rng.choice(forms).format(ND, rng.randrange(200)) for _ in range(rng.randrange(1, 30))]
        assert dupes.unseen(urls) == {url for url in urls if not dupes.url_seen(url)}
        assert dupes.unseen(dict.fromkeys(urls)) == dupes.unseen(urls)
