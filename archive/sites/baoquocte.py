"""Thế giới & Việt Nam (baoquocte.vn): MasterCMS, like thoidai.com.vn.

Facts from docs/site-notes.md: articles are `/<slug>-<digits>.html`; the date is
`DD/MM/YYYY HH:MM` in `span.format_time`; the page carries a "Theo dõi
Baoquocte.vn trên …" social-follow line inside the article (the markup of
that line is a guess: `div.follow-news`). The English edition en.baoquocte.vn
is another site.
"""
from archive.sites.mastercms import mastercms_profile

PROFILE = mastercms_profile(
    name="baoquocte",
    description="Báo Thế giới & Việt Nam (MasterCMS)",
    hosts=("baoquocte.vn", "www.baoquocte.vn"),
    entry_points=("https://baoquocte.vn/", "https://baoquocte.vn/sitemap.xml"),
    extra_drop=("div.follow-news", "div.article-detail-follow"),
)
