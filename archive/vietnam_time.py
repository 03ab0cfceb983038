"""The sites' time zone and the one parser for the times they (and users) write.

Why one: four copies read a time without an offset four ways. The rule now, everywhere:
a time a site or a user writes without an offset (a page's `datePublished`, a sitemap
`lastmod`, `-a since=2024-09-01`) is Vietnam local time, GMT+7, because that is the time
the sites print; a time the crawl wrote itself (state, WARC, run records) always carries
its offset, and its readers keep their own UTC rule (archive/state/, archive/warc/).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

__all__ = ["VIETNAM_TZ", "parse_iso", "in_vietnam"]

VIETNAM_TZ = timezone(timedelta(hours=7), "GMT+7")

_DATE_SPACE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d")
_COMPACT_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")  # +0700 → +07:00


def parse_iso(value: str | None, naive_zone: timezone = VIETNAM_TZ) -> datetime | None:
    """An ISO 8601 date or time as an aware datetime, with the offset it was written with;
    without one it is taken to be in `naive_zone`. None when the text is not ISO 8601.

    Accepts what the sites write beside strict ISO: `Z`, `+0700`, a space for the `T`."""
    if not value:
        return None
    text = str(value).strip()
    if _DATE_SPACE_TIME.match(text):
        text = text.replace(" ", "T", 1)
    text = _COMPACT_OFFSET.sub(r"\1:\2", re.sub(r"Z$", "+00:00", text))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=naive_zone)


def in_vietnam(when: datetime | None) -> datetime | None:
    """The same instant in GMT+7 (a naive time is GMT+7 already; None stays None)."""
    if when is None:
        return None
    if when.tzinfo is None:
        return when.replace(tzinfo=VIETNAM_TZ)
    return when.astimezone(VIETNAM_TZ)
