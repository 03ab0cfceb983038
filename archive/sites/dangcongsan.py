"""Đảng Cộng sản Việt Nam (dangcongsan.vn).

docs/site-notes.md has little on this site: images on file1.dangcongsan.vn, a home
"Tin nổi bật" block `.right-news-hight12 .items-news a`, and the Chinese
edition's listing blocks `.top-news-cap2 h3 a`, `.box-subnews .subnews-item`.
The article URL shape `/<section>/<slug>-<digits>.html` and the article
selectors below are GUESSES (marked in tests/fixtures/web/README.md); the
extractor falls back to trafilatura when they match nothing.
"""
from archive.extract.article import ExtractionHints

from archive.sites.base import SiteProfile

PROFILE = SiteProfile(
    name="dangcongsan",
    description="Báo điện tử Đảng Cộng sản Việt Nam (article markup guessed)",
    hosts=("dangcongsan.vn", "www.dangcongsan.vn"),
    article_path=r"-\d{5,}\.html$",
    listing_path=r"^/(?:$|[a-z0-9-]+/?$|[a-z0-9-]+/[a-z0-9-]+/?$|tag/)",
    related_links=(
        "div.related-news a[href]",
        "div.detail-tags a[href]",
        "div.breadcrumb a[href]",
    ),
    listing_links=(
        ".right-news-hight12 .items-news a[href]",
        ".top-news-cap2 h3 a[href]",
        ".box-subnews .subnews-item a[href]",
    ),
    pagination_links=("a[rel=next][href]",),
    entry_points=("https://dangcongsan.vn/",),
    extraction=ExtractionHints(
        drop=("div.related-news", "div.detail-tags", "div.box-most-read", "nav.menu",
              "div.social-share", "footer"),
        title=("h1.detail-title", "h1"),
        lead=("div.detail-sapo",),
        body=("div.detail-content",),
        date=("span.detail-time",),
        date_formats=("%d/%m/%Y %H:%M", "%H:%M | %d/%m/%Y"),
        author=("div.detail-author",),
        category=("div.breadcrumb a:last-child",),
        tags=("div.detail-tags a",),
        captions=("td.caption", "figcaption"),
        ignore_authors=("Báo điện tử Đảng Cộng sản Việt Nam", "ĐCSVN"),
        min_words=100,
    ),
)
