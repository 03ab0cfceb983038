"""Nhân Dân (nhandan.vn): the "cms-*/zce-*" CMS shared with vietnamplus and sggp.

Facts from docs/site-notes.md: articles are `/<slug>-post<digits>.html`; foreign editions
live on language subdomains (en., cn., fr., ...) and are not this site; the
date is ISO-8601 in `time.time[datetime]`; the site-wide meta author is the
paper's name, never a real byline.
"""
from archive.extract.article import ExtractionHints

from archive.sites.base import SiteProfile

PROFILE = SiteProfile(
    name="nhandan",
    description="Báo Nhân Dân (Vietnamese edition only)",
    hosts=("nhandan.vn", "www.nhandan.vn"),
    article_path=r"-post\d+\.html$",
    listing_path=r"^/(?:$|[a-z0-9-]+/?$|tag/|tin-moi\.html$|chu-de/)",
    related_links=(
        "div.article-relate a[href]",
        "div.box-related a.cms-link[href]",
        "div.article__tag a[href]",
        "div.breadcrumbs a.cms-link[href]",
    ),
    listing_links=("div.box-stream article.story a.cms-link[href]",),
    pagination_links=("a.pagination__next[href]", "a[rel=next][href]"),
    entry_points=(
        "https://nhandan.vn/",
        "https://nhandan.vn/tin-moi.html",
        "https://nhandan.vn/rss/home.rss",
        "https://nhandan.vn/sitemaps.xml",  # index of monthly shards sitemaps/news-YYYY-M.xml (docs/site-notes.md)
        "https://nhandan.vn/sitemaps/google-news.xml",  # news:publication_date per article
    ),
    extraction=ExtractionHints(
        drop=("div.article-relate", "div.box-related", "aside.box-most-viewed", "nav.menu",
              "div.article__social", "footer"),
        title=("h1.article__title",),
        lead=("div.article__sapo", "h2.article__sapo"),
        body=("div.article__body",),
        date=("div.article__meta time.time", "div.article__meta time"),
        date_formats=("%d/%m/%Y - %H:%M", "%d/%m/%Y %H:%M", "%H:%M | %d/%m/%Y"),
        author=("div.article__author",),
        category=("div.breadcrumbs a.cms-link",),
        tags=("div.article__tag a",),
        captions=("td.caption",),
        ignore_authors=("Báo Nhân Dân điện tử", "Báo Nhân Dân", "Nhân Dân", "NDO"),
        min_words=100,
    ),
)
