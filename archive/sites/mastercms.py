"""What every MasterCMS site shares (thoidai.com.vn, baoquocte.vn, huunghivietlao.thoidai.com.vn).

The platform is recognised by `stores/news_dataimages` image paths with `?rt=`
and the `__MASTERCMS_CONTENT` body (docs/site-notes.md). Selectors below are verified on
baoquocte/vietnamtimes crawlers and inferred for the sister sites. A MasterCMS
site profile is `mastercms_profile(name=..., hosts=..., entry_points=...)`
plus whatever that site does differently, given as keyword overrides.
"""
from __future__ import annotations

from dataclasses import replace

from archive.extract.article import ExtractionHints

from archive.sites.base import SiteProfile

ARTICLE_PATH = r"-\d{3,}\.html$"
LISTING_PATH = r"^/(?:$|[a-z0-9-]+(?:/p\d+)?/?$|tags/)"
RELATED_LINKS = (
    "div.related-news-inline a[href]",
    "div.article-detail-related a[href]",
    "div.article-detail-tags a[href]",
    "li.menu-alias a[href]",
)
LISTING_LINKS = ("div.bx-listing div.article a[href]",)
PAGINATION_LINKS = ("div.__MB_ARTICLE_PAGING div.rt a[href]",)
EXTRACTION = ExtractionHints(
    drop=("div.related-news-inline", "div.article-detail-related", "div.box-most-read",
          "span.font-size-widget", "a.print", "div.article-detail-link", "ul.main-menu", "div.footer"),
    title=("h1.article-detail-title",),
    lead=("div.article-detail-desc",),
    body=("div.__MASTERCMS_CONTENT", "div#__MB_MASTERCMS_EL_3"),
    date=("span.article-detail-date", "span.format_time"),
    date_formats=("%H:%M | %d/%m/%Y", "%d/%m/%Y %H:%M"),
    author=("div.article-detail-author",),
    category=("li.menu-alias a",),
    tags=("div.article-detail-tags a",),
    captions=("table.MASTERCMS_TPL_TABLE tr:last-child td",),
    min_words=100,
)


def mastercms_profile(*, name: str, hosts: tuple[str, ...], entry_points: tuple[str, ...],
                      description: str = "", extra_drop: tuple[str, ...] = (), **overrides) -> SiteProfile:
    """A MasterCMS site: the shared data, with `extra_drop` blocks and field overrides."""
    extraction = overrides.pop("extraction", EXTRACTION)
    if extra_drop:
        extraction = replace(extraction, drop=extraction.drop + extra_drop)
    return SiteProfile(
        name=name, description=description, hosts=hosts,
        article_path=overrides.pop("article_path", ARTICLE_PATH),
        listing_path=overrides.pop("listing_path", LISTING_PATH),
        related_links=overrides.pop("related_links", RELATED_LINKS),
        listing_links=overrides.pop("listing_links", LISTING_LINKS),
        pagination_links=overrides.pop("pagination_links", PAGINATION_LINKS),
        entry_points=entry_points, extraction=extraction, **overrides,
    )
