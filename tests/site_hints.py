"""Extraction hints of the two fixture sites, taken from their site profiles.

The profiles in crawler/sites/ are plain data (no Scrapy imports), so the
archive tests use exactly what the crawler uses.
"""
from crawler.sites.nhandan import PROFILE as _NHANDAN
from crawler.sites.thoidai import PROFILE as _THOIDAI

NHANDAN_HINTS = _NHANDAN.extraction
THOIDAI_HINTS = _THOIDAI.extraction
HINTS_BY_HOST = {"nhandan.vn": NHANDAN_HINTS, "thoidai.com.vn": THOIDAI_HINTS}
