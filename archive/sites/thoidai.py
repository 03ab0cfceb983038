"""Thời Đại (thoidai.com.vn): a MasterCMS site, like baoquocte.vn.

Facts from docs/site-notes.md: articles are `/<slug>-<digits>.html`; the date shows as
`HH:MM | DD/MM/YYYY` (GMT+7) in `span.article-detail-date`; the body is
`div.__MASTERCMS_CONTENT`; listings are `div.bx-listing` with a
`__MB_ARTICLE_PAGING` next-page link (the shared MasterCMS data is in
mastercms.py). Language subdomains (shidai., vietnamtimes.) and
huunghivietlao. are separate sites.
"""
from archive.sites.mastercms import mastercms_profile

PROFILE = mastercms_profile(
    name="thoidai",
    description="Tạp chí Thời Đại (MasterCMS)",
    hosts=("thoidai.com.vn", "www.thoidai.com.vn"),
    # The sitemap path is a guess (usual on MasterCMS; docs/site-notes.md found none in public code);
    # discovery also reads the `Sitemap:` lines of robots.txt.
    entry_points=("https://thoidai.com.vn/", "https://thoidai.com.vn/sitemap.xml"),
)
