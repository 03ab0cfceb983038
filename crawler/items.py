"""Items the spider emits; pipelines read them through itemadapter."""
from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

# Signal (kwargs: seq): the spider numbered a page (`ArticlePage.seq`) but will not emit it (judged
# off topic after the worker read it); the corpus writer must not wait for that number.
SEQ_RELEASED = object()


@dataclass
class ArticlePage:
    """A fetched page whose URL says it is an article, before extraction.

    The pipeline decides from the extracted text whether it really is one.
    """

    url: str
    site: str
    body: bytes = field(repr=False)
    encoding: str | None
    status: int
    depth: int
    found_from: str | None
    fetched_at: str
    warc_record_id: str | None = None
    seq: int | None = None  # emission order; the corpus commits in this order
    # Resolves to archive.warc.exchange.RecordLocation once the WARC writer (a child process by
    # default, archive/warc/process.py) has it on disk.
    warc_location: Future | None = field(default=None, repr=False)
    article: Any = field(default=None, repr=False)
    corpus_file: str | None = None
    extra: dict = field(default_factory=dict)
