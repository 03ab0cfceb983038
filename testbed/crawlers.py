"""A crawler for tests and benchmarks that sees the project's declared defaults, as a real crawl does.

`scrapy.utils.test.get_crawler` starts from Scrapy's own defaults only; components read their
settings with no call-site fallback (crawler/settings.py is the one place defaults live), so a
test built on it would measure a configuration nobody runs.
"""
from __future__ import annotations

from scrapy.utils.test import get_crawler

import crawler.settings as project_settings


def project_settings_dict(**overrides) -> dict:
    """Every setting crawler/settings.py declares, with `overrides` on top."""
    values = {name: getattr(project_settings, name) for name in dir(project_settings) if name.isupper()}
    values.update(overrides)
    return values


def project_crawler(spidercls=None, **overrides):
    """`get_crawler` with the project's settings and `overrides` (setting names as keywords)."""
    return get_crawler(spidercls, settings_dict=project_settings_dict(**overrides))
