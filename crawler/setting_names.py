"""Refuse a misspelled project setting instead of crawling on the default.

Scrapy accepts any `-s NAME=value`, so `-s WARC_DIRR=/big/disk` used to be
ignored and the WARC files went to `data/warc`. A setting whose name starts
with one of the project's prefixes (`WARC_`, `CORPUS_`, `REDIS_`, …) must be
one the project declares. Both the names and the prefixes are read from the
settings module at run time (crawler/settings.py, or SCRAPY_SETTINGS_MODULE):
a setting added there is known at once, with no list to keep in step.
"""
from __future__ import annotations

import difflib
import os
from importlib import import_module

from scrapy.settings import default_settings

DEFAULT_MODULE = "crawler.settings"


def _uppercase_names(module) -> set[str]:
    return {name for name in vars(module) if name.isupper() and not name.startswith("_")}


def _third_party_names() -> set[str]:
    """Settings scrapy-redis reads under our `REDIS_` prefix without our declaring them."""
    try:
        from scrapy_redis import connection
    except ImportError:  # pragma: no cover - a dependency
        return set()
    return set(connection.SETTINGS_PARAMS_MAP) | {
        "REDIS_PARAMS", "REDIS_START_URLS_KEY", "REDIS_START_URLS_AS_SET", "REDIS_START_URLS_AS_ZSET",
        "REDIS_ITEMS_KEY", "REDIS_ITEMS_SERIALIZER"}


def project_setting_names(module_name: str | None = None) -> tuple[set[str], set[str]]:
    """(every name the project or Scrapy declares, the project's prefixes).

    A prefix is the part up to the first `_` of a name the project declares that is not one of
    Scrapy's own (`WARC_DIR` gives `WARC_`; `DOWNLOAD_TIMEOUT`, a Scrapy setting, gives none).
    """
    module = import_module(module_name or os.environ.get("SCRAPY_SETTINGS_MODULE") or DEFAULT_MODULE)
    ours = _uppercase_names(module)
    scrapy_names = _uppercase_names(default_settings)
    prefixes = {name.split("_", 1)[0] + "_" for name in ours - scrapy_names if "_" in name}
    return ours | scrapy_names, prefixes


def unknown_settings(names, module_name: str | None = None) -> list[str]:
    """One message per name with a project prefix that nothing declares, with the nearest known name."""
    known, prefixes = project_setting_names(module_name)
    candidates = [name for name in sorted(set(names)) if name not in known and name.startswith(tuple(prefixes))]
    if candidates:  # scrapy-redis is imported only to clear a name it may read (never in a plain crawl)
        known |= _third_party_names()
    problems = []
    for name in candidates:
        if name in known:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
        problems.append(f"{name} (did you mean {close[0]}?)" if close else name)
    return problems


def check_setting_names(settings, module_name: str | None = None) -> None:
    """ValueError naming every unknown project setting in `settings` (a Scrapy Settings object)."""
    problems = unknown_settings(list(settings.keys()), module_name)
    if problems:
        raise ValueError(f"unknown setting{'s' if len(problems) > 1 else ''}: {', '.join(problems)}; "
                         "the project's settings are declared in crawler/settings.py")
