"""The arguments of our `trafilatura.bare_extraction` call: its options object (`Extractor`) built
once a day for our settings and copied for each page, not built by trafilatura at every call.

`Extractor.__init__` reads nine settings of trafilatura's configuration (configparser, ~3-8 µs
each) and the local date: ~40 µs a page, ~2 % of trafilatura's call on a nhandan.vn page
(docs/performance.md, session 20). Given an `Extractor`, bare_extraction reads none of its keyword
arguments but `url`, for one log line (passed too), so its result is the same when the object
holds the same values: a copy of one built from the same arguments without a URL, with the page's
`url` and `source` set as `Extractor.__init__` sets them, and its own sets and dict. Used only when
`Extractor.__init__`, the date it reads and bare_extraction are the code this was written for.
"""
from __future__ import annotations

import copy
from datetime import datetime

from trafilatura import core, settings

from archive.extract.trafilatura_fast_functions import source_digest

__all__ = ["trafilatura_arguments"]

# bare_extraction's keyword arguments this builds from → `Extractor`'s (the others keep their defaults,
# which are the same in both: bare_extraction passes its own to `Extractor` unchanged)
_EXTRACTOR_ARGUMENT = {"output_format": "output_format", "with_metadata": "with_metadata", "include_images": "images",
                       "favor_precision": "precision", "include_comments": "comments", "include_tables": "tables",
                       "deduplicate": "dedup"}
_USABLE = source_digest((settings.Extractor.__init__, settings.set_date_params, settings._get_optional_int,
                         core.bare_extraction)) == "ed7ee7984567da86"

_templates: dict[tuple, settings.Extractor] = {}  # by (the arguments but the URL, the local date)


def trafilatura_arguments(**arguments) -> dict:
    """What to call `bare_extraction(tree, **…)` with for these keyword arguments (`url` and those of
    `_EXTRACTOR_ARGUMENT`): `url` and a copy of a day's `Extractor` for the others; the arguments as
    given where this cannot stand for trafilatura's own (other code, other arguments)."""
    url = arguments.get("url")
    given = {name: value for name, value in arguments.items() if name != "url"}
    if not _USABLE or not given.keys() <= _EXTRACTOR_ARGUMENT.keys():
        return arguments
    given.setdefault("output_format", "python")  # (bare_extraction's default, not Extractor's)
    key = (*sorted(given.items()), datetime.now().astimezone().strftime("%Y-%m-%d"))  # (the day set_date_params reads)
    template = _templates.get(key)
    if template is None:
        _templates.clear()  # (yesterday's)
        template = _templates[key] = settings.Extractor(**{_EXTRACTOR_ARGUMENT[name]: value
                                                             for name, value in given.items()})
    options = copy.copy(template)
    source = url or None  # (`Extractor.__init__`: `source = url or source`, then made valid UTF-8)
    options.url, options.source = url, source and source.encode("utf-8", "replace").decode("utf-8")
    options.author_blacklist, options.url_blacklist = set(), set()
    options.date_params = dict(template.date_params)
    return {"url": url, "options": options}
