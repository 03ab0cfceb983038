"""Registry of site profiles: one module per site, listed here.

Adding a site is adding one module with a ``PROFILE`` and naming it in
``SITE_MODULES``. This package imports no Scrapy, so offline tools
(``python -m archive extract``) can look up extraction hints too.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import import_module
from urllib.parse import urlsplit

from archive.sites.base import SiteProfile
from archive.sites.generic import generic_profile

SITE_MODULES = ("nhandan", "thoidai", "vietnamplus", "baoquocte", "huunghivietlao", "qdnd", "dangcongsan")


@lru_cache(maxsize=1)
def profiles() -> tuple[SiteProfile, ...]:
    """All site profiles, in registry order."""
    return tuple(import_module(f"{__name__}.{name}").PROFILE for name in SITE_MODULES)


@lru_cache(maxsize=4096)
def _profile_for_host(host: str) -> SiteProfile:
    for profile in profiles():
        if host in profile.hosts:
            return profile
    return generic_profile(f"http://{host}/")


def profile_for(url: str) -> SiteProfile:
    """The profile of the site the URL belongs to (generic fallback per host)."""
    return _profile_for_host((urlsplit(url).hostname or "").lower().rstrip("."))


def hints_for(url: str):
    """Extraction hints for a URL: the hook `python -m archive extract` uses."""
    return profile_for(url).extraction


__all__ = ["SiteProfile", "profiles", "profile_for", "hints_for", "SITE_MODULES"]
