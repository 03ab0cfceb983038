"""VietnamPlus (vietnamplus.vn, TTXVN): the "cms-*/zce-*" CMS shared with nhandan.vn.

Facts from docs/site-notes.md: articles are `/<slug>-post<digits>.vnp` (an AMP copy
ends in `.amp`: `amp_twin_suffix` lets the canonical URL fold it); selectors `.article__title`,
`.article__sapo`, `.article__meta`, `.article__body.zce-content-body.cms-body`;
date in `time`/`span.datetime`; RSS `/rss/home.rss`, sitemaps `/sitemap.xml`
and `/sitemaps/google-news.xml`. en.vietnamplus.vn and zh. are other sites.
"""
from archive.extract.article import ExtractionHints

from archive.sites.base import SiteProfile

PROFILE = SiteProfile(
    name="vietnamplus",
    description="VietnamPlus – TTXVN (Vietnamese edition only)",
    hosts=("www.vietnamplus.vn", "vietnamplus.vn"),
    article_path=r"-post\d+\.(?:vnp|amp)$",
    listing_path=r"^/(?:$|[a-z0-9-]+/?$|[a-z0-9-]+/[a-z0-9-]+/?$|tag/|chu-de/|tin-moi\.vnp$)",
    amp_twin_suffix=".vnp",  # `…-post234366.amp` is the AMP copy of `…-post234366.vnp`
    related_links=(
        "div.article-relate a[href]",
        "div.box-related a.cms-link[href]",
        "div.article__tag a[href]",
        "div.breadcrumb a.cms-link[href]",
    ),
    listing_links=("div.box-stream article.story a.cms-link[href]", "article.story h2 a[href]"),
    pagination_links=("a.pagination__next[href]", "a[rel=next][href]"),
    entry_points=(
        "https://www.vietnamplus.vn/",
        "https://www.vietnamplus.vn/rss/home.rss",
        "https://www.vietnamplus.vn/sitemap.xml",
        "https://www.vietnamplus.vn/sitemaps/google-news.xml",
    ),
    extraction=ExtractionHints(
        drop=("div.article-relate", "div.box-related", "aside.box-most-viewed", "nav.menu",
              "div.article__social", "div.article__tag", "footer"),
        title=("h1.article__title",),
        lead=("div.article__sapo", "h2.article__sapo"),
        body=("div.article__body",),
        date=("div.article__meta time", "div.article__meta span.datetime", "span.datetime"),
        date_formats=("%d/%m/%Y - %H:%M", "%d/%m/%Y %H:%M", "%H:%M | %d/%m/%Y"),
        author=("div.article__author",),
        category=("div.breadcrumb a.cms-link",),
        tags=("div.article__tag a",),
        captions=("td.caption", "figcaption"),
        ignore_authors=("VietnamPlus", "Vietnam+", "TTXVN/Vietnam+"),
        min_words=100,
    ),
)
