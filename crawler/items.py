"""Items the spider emits; pipelines read them through itemadapter."""
from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

@dataclass
class ArticlePage:
    """A fetched page whose URL says it is an article, before extraction.

    The pipeline decides from the extracted text whether it really is one.
    """

    url: str
    site: str
    body: bytes = field(repr=False)
    encoding: str | None  # the Content-Type header's charset as sent, for the pipeline's extraction (None with `article`)
    status: int
    depth: int
    found_from: str | None
    fetched_at: str
    warc_record_id: str | None = None
    # The response record's WARC-Date (full precision): the page's place in the corpus order.
    warc_date: str | None = None
    # When the page's request reached the downloader (the corpus order's bound reads the same clock):
    # its place in the corpus order when it has no record (a crawl with WARC capture off).
    reached_at: str | None = None
    # Resolves to archive.warc.exchange.RecordLocation once the WARC writer (a child process by
    # default, archive/warc/process.py) has it on disk.
    warc_location: Future | None = field(default=None, repr=False)
    article: Any = field(default=None, repr=False)
    corpus_file: str | None = None
    extra: dict = field(default_factory=dict)
