"""JSON-LD: every object a page's `application/ld+json` scripts hold, and which types are
articles. Why apart: the page gate (page_gate.py) reads the same types without the rest of
metadata extraction, which imports it; both read a page's scripts, parsed once (`json_ld_objects`)."""
from __future__ import annotations

import json
import re
from typing import Any

from archive.extract.bounded_memo import BoundedMemo

__all__ = ["ARTICLE_TYPES", "json_ld_objects"]

ARTICLE_TYPES = frozenset({
    "newsarticle", "article", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "backgroundnewsarticle", "reviewnewsarticle", "blogposting", "liveblogposting", "report",
    "scholarlyarticle", "techarticle",
})


def json_ld_objects(raw: str) -> tuple[dict[str, Any], ...]:
    """Every JSON object in a JSON-LD script (lists and @graph flattened).

    Tolerates what CMS templates emit: raw line breaks inside strings
    (`strict=False`), HTML comments/CDATA around the JSON, trailing commas.
    Remembered by the script's text (`_PARSED`): the page gate and the metadata read the same
    scripts of a page, and a site repeats its site-wide ones on every page. The objects are
    shared by every caller: read them, never change them.
    """
    return _PARSED[raw]


class _Parsed(BoundedMemo):
    """`_objects` of the scripts met lately: a few a page, kept while fewer than `LIMIT`; a script
    longer than `MAX_CHARS` is parsed again each time rather than held."""

    LIMIT, MAX_CHARS = 16, 200_000


def _objects(raw: str) -> tuple[dict[str, Any], ...]:
    """`json_ld_objects`, parsed."""
    raw = raw.strip()
    raw = re.sub(r"^(?:<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)|(?:-->|//\s*\]\]>|\]\]>)$", "", raw).strip()
    data = None
    for candidate in (raw, re.sub(r",\s*([}\]])", r"\1", raw)):
        try:
            data = json.loads(candidate, strict=False)
            break
        except ValueError:
            continue
    out: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            out.append(node)
            if "@graph" in node:
                walk(node["@graph"])

    walk(data)
    return tuple(out)


_PARSED = _Parsed(_objects)
