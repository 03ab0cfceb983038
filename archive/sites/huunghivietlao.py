"""Hữu nghị Việt - Lào (huunghivietlao.thoidai.com.vn): a MasterCMS sub-site of Thời Đại.

Same markup as thoidai.com.vn (docs/site-notes.md lists it among the MasterCMS sites);
it republishes VietnamPlus and Nhân Dân stories, so its related boxes lead to
those sites, which the crawler follows into their own profiles.
"""
from archive.sites.mastercms import mastercms_profile

PROFILE = mastercms_profile(
    name="huunghivietlao",
    description="Chuyên trang Hữu nghị Việt - Lào của Thời Đại (MasterCMS)",
    hosts=("huunghivietlao.thoidai.com.vn",),
    entry_points=("https://huunghivietlao.thoidai.com.vn/",),
)
