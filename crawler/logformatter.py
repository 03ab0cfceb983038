"""Log items by URL and verdict, never their contents (`LOG_FORMATTER`).

Scrapy's default formatter writes the whole item into the log when an item is
scraped (DEBUG) or dropped (DEFAULT_DROPITEM_LOG_LEVEL, INFO here). An
ArticlePage carries the page body, the article text and its dedupe sample
(thousands of integers), so one dropped duplicate cost kilobytes of log and
most of a crawl log was item dumps. Here an item is its URL; the verdict is
the drop reason (crawler/pipelines/corpus.py puts status, URL and cause in it).
"""
from __future__ import annotations

import logging

from itemadapter import ItemAdapter, is_item
from scrapy import logformatter


def item_label(item) -> str:
    """The item's URL when it has one, else its type: never its fields."""
    if is_item(item):
        url = ItemAdapter(item).get("url")
        if url:
            return str(url)
    return type(item).__name__


class UrlLogFormatter(logformatter.LogFormatter):
    """`crawled` and `scraped` (DEBUG lines, one a response and one an item) return None, i.e.
    nothing is logged, when `LOG_LEVEL` is above DEBUG: Scrapy's root handler would drop them,
    but only after building the record (caller look-up, headers) on the reactor thread."""

    def __init__(self, debug: bool = True):
        self.debug = debug

    @classmethod
    def from_crawler(cls, crawler):
        level = crawler.settings.get("LOG_LEVEL")
        if isinstance(level, str):
            level = int(level) if level.isdigit() else logging.getLevelName(level.upper())
        return cls(debug=not isinstance(level, int) or level <= logging.DEBUG)  # unknown: as before

    def crawled(self, request, response, spider):
        return super().crawled(request, response, spider) if self.debug else None

    def scraped(self, item, response, spider):
        if not self.debug:
            return None
        entry = super().scraped(item, response, spider)
        entry["msg"] = "Scraped %(item)s"
        entry["args"] = {"item": item_label(item)}
        return entry

    def dropped(self, item, exception, response, spider):
        entry = super().dropped(item, exception, response, spider)
        reason = str(exception)
        label = item_label(item)
        # The pipelines' reasons already name the URL ("duplicate-url: URL (…)"): say it once.
        entry["msg"] = "Dropped: %(exception)s" if label in reason else "Dropped: %(exception)s: %(item)s"
        entry["args"] = {"exception": reason, "item": label}
        return entry

    def item_error(self, item, exception, response, spider):
        entry = super().item_error(item, exception, response, spider)
        entry["msg"] = "Error processing %(item)s"
        entry["args"] = {"item": item_label(item)}
        return entry

