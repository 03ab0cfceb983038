"""Thời Đại (thoidai.com.vn): a MasterCMS site, like baoquocte.vn.

Facts from SITES.md: articles are `/<slug>-<digits>.html`; the date shows as
`HH:MM | DD/MM/YYYY` (GMT+7) in `span.article-detail-date`; the body is
`div.__MASTERCMS_CONTENT`; listings are `div.bx-listing` with a
`__MB_ARTICLE_PAGING` next-page link. Language subdomains (shidai.,
vietnamtimes.) and huunghivietlao. are separate sites.
"""
from archive.extract import ExtractionHints

from .base import SiteProfile

PROFILE = SiteProfile(
    name="thoidai",
    description="Tạp chí Thời Đại (MasterCMS)",
    hosts=("thoidai.com.vn", "www.thoidai.com.vn"),
    article_path=r"-\d{3,}\.html$",
    listing_path=r"^/(?:$|[a-z0-9-]+(?:/p\d+)?/?$|tags/)",
    related_links=(
        "div.related-news-inline a[href]",
        "div.article-detail-related a[href]",
        "div.article-detail-tags a[href]",
        "li.menu-alias a[href]",
    ),
    listing_links=("div.bx-listing div.article a[href]",),
    pagination_links=("div.__MB_ARTICLE_PAGING div.rt a[href]",),
    entry_points=("https://thoidai.com.vn/",),
    extraction=ExtractionHints(
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
    ),
)
