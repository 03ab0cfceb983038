"""Quân đội Nhân dân (qdnd.vn).

Facts from docs/site-notes.md (Zotero translator and crawlers): articles are
`/<section>/<subsection>/<slug>-<6+ digit id>` with **no** `.html`; the query
string is noise; the title is the `h1` (og:title is often cut); the date is
best taken from JSON-LD `datePublished`; bylines in `.author-top`/`.author`
(photo and graphics credits are not bylines); sapo `div.post-summary`, body
`div.post-content` / `div[itemprop=articleBody]`; listing items
`.list-news-category article h3 a[title]`. en.qdnd.vn and cn.qdnd.vn are other sites.
"""
from archive.extract.article import ExtractionHints

from archive.sites.base import SiteProfile

PROFILE = SiteProfile(
    name="qdnd",
    description="Báo Quân đội Nhân dân",
    hosts=("www.qdnd.vn", "qdnd.vn"),
    article_path=r"^/[a-z0-9-]+/[a-z0-9-]+/[a-z0-9-]+-\d{6,}/?$",
    listing_path=r"^/(?:$|[a-z0-9-]+/?$|[a-z0-9-]+/[a-z0-9-]+/?$|tag/|chu-de/)",
    related_links=(
        "div.related-news a[href]",
        "div.post-tags a[href]",
        "ul.breadcrumb a[href]",
    ),
    listing_links=(".list-news-category article h3 a[href]",),
    pagination_links=("div.pagination a.next[href]", "a[rel=next][href]"),
    entry_points=(
        "https://www.qdnd.vn/",
        "https://www.qdnd.vn/chinh-tri/tin-tuc",
        "https://www.qdnd.vn/sitemap.xml",
    ),
    extraction=ExtractionHints(
        drop=("div.related-news", "div.post-tags", "div.box-most-read", "nav.main-nav",
              "div.social-share", "footer"),
        title=("h1.post-title", "h1"),
        lead=("div.post-summary",),
        body=("div.post-content", "div[itemprop=articleBody]"),
        date=("span.post-subinfo span.date", "span.post-subinfo span"),
        date_formats=("%d/%m/%Y - %H:%M", "%H:%M, %d/%m/%Y", "%d/%m/%Y %H:%M"),
        author=("div.author-top", "div.author"),
        category=("ul.breadcrumb li:last-child a",),
        tags=("div.post-tags a",),
        captions=("td.caption", "figcaption"),
        ignore_authors=("Báo Quân đội Nhân dân", "QĐND", "Quân đội Nhân dân"),
        min_words=100,
    ),
)
