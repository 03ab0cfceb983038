"""Extraction hints of the two fixture sites, taken from their site profiles.

The profiles in archive/sites/ are plain data (no Scrapy imports), so the
archive tests use exactly what the crawler uses.
"""
from archive.sites import profiles
from archive.sites.nhandan import PROFILE as _NHANDAN
from archive.sites.thoidai import PROFILE as _THOIDAI

NHANDAN_HINTS = _NHANDAN.extraction
THOIDAI_HINTS = _THOIDAI.extraction
HINTS_BY_HOST = {"nhandan.vn": NHANDAN_HINTS, "thoidai.com.vn": THOIDAI_HINTS}
# Every other fixture host (tests/fixtures/web/<host>/) gets its own profile's hints.
HINTS_BY_HOST.update({p.hosts[0]: p.extraction for p in profiles() if p.hosts[0] not in HINTS_BY_HOST})
