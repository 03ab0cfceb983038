"""Parse once: links read in the extraction worker equal the links the spider reads with Scrapy."""
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from archive.extract import analyse_page, extract_article
from crawler.sites import profile_for
from crawler.spiders.news import NewsSpider

WEB = Path(__file__).parent / "fixtures" / "web"
PAGES = sorted(p for p in WEB.rglob("*.html") if p.is_file())


def page_url(path: Path) -> str:
    relative = path.relative_to(WEB).as_posix()
    return "https://" + (relative[: -len("index.html")] if relative.endswith("index.html") else relative)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.relative_to(WEB).as_posix())
def test_worker_links_and_article_match_the_reactor_path(path):
    url, body = page_url(path), path.read_bytes()
    profile = profile_for(url)
    is_article = profile.is_article_url(url)
    selectors = profile.related_links if is_article else profile.listing_links + profile.pagination_links
    response = HtmlResponse(url, body=body)
    article, links = analyse_page(body, url, profile.extraction, link_selectors=selectors, extract=is_article)
    assert links == NewsSpider._links(response, selectors)
    if is_article:  # the same article as extraction on its own
        assert article == extract_article(body, url, profile.extraction)
    else:
        assert not article.is_article and article.reason == "not extracted (links only)"


def test_the_fixture_set_exercises_both_kinds_of_page_and_real_links():
    kinds = {profile_for(page_url(p)).is_article_url(page_url(p)) for p in PAGES}
    assert kinds == {True, False} and len(PAGES) >= 20
    total = 0
    for path in PAGES:
        url = page_url(path)
        profile = profile_for(url)
        selectors = profile.related_links + profile.listing_links + profile.pagination_links
        total += len(analyse_page(path.read_bytes(), url, None, link_selectors=selectors, extract=False)[1])
    assert total >= 40
