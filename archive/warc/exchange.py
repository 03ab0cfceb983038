"""What crosses between the crawler and a WARC writer: one `Exchange` in, one `RecordLocation` out.

Both are pickled once a page when the writer runs in a child process
(archive/warc/process.py), so each carries a compact pickled form of its own:
a tuple of its fields, built in C, and the large bodies as out-of-band buffers
that archive/warc/pipe.py sends as they are.

Plain data: no Scrapy, no Twisted, no I/O.
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass, fields
from datetime import datetime
from operator import attrgetter

__all__ = ["Exchange", "RecordLocation"]


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP exchange as captured off the wire.

    `response_block_body` is the body as sent (still chunked, still gzip/br);
    `payload` is that body after transfer decoding only. `exact` is False when
    the heads were rebuilt from parsed headers instead of teed.
    """

    url: str
    request_head: bytes
    request_body: bytes
    response_head: bytes
    response_block_body: bytes
    payload: bytes
    ip_address: str | None
    fetched_at: datetime
    exact: bool = True
    # 1xx heads (e.g. 103 Early Hints) received before the final response.
    interim_heads: tuple[bytes, ...] = ()
    # WARC-Truncated reason when the body is known to be incomplete.
    truncated: str | None = None

    def __reduce_ex__(self, protocol):
        # Pickled on the crawler's event loop for the writer process: the fields as one tuple
        # (C code) instead of the dataclass's generic __getstate__ (Python, measured 7.5 vs
        # 2.8 µs a page). From protocol 5 on, large bodies go as PickleBuffers, which a pickler
        # with a buffer_callback leaves out of band (archive/warc/pipe.py sends them as
        # they are) and any other pickler writes in band; one buffer when payload is the block.
        fields = _exchange_fields(self)
        if protocol < 5 or len(self.response_block_body) < _OUT_OF_BAND_BYTES:
            return (Exchange, fields)
        block = _out_of_band(self.response_block_body)
        # An out-of-band buffer is not memoised: "payload is the block" goes as None.
        payload = None if self.payload is self.response_block_body else _out_of_band(self.payload)
        return (_exchange_sharing_body, fields[:4] + (block, payload) + fields[6:])


_exchange_fields = attrgetter(*(f.name for f in fields(Exchange)))
_OUT_OF_BAND_BYTES = 4096  # smaller bodies are cheaper inside the pickle than as a buffer of their own


def _out_of_band(body: bytes) -> bytes | pickle.PickleBuffer:
    return pickle.PickleBuffer(body) if len(body) >= _OUT_OF_BAND_BYTES else body


def _exchange_sharing_body(url, request_head, request_body, response_head, block, payload, *rest) -> Exchange:
    """Unpickles `Exchange.__reduce_ex__`'s out-of-band form (payload None: the block itself)."""
    return Exchange(url, request_head, request_body, response_head, block, block if payload is None else payload,
                    *rest)


@dataclass(frozen=True, slots=True)
class RecordLocation:
    """Where a record landed: enough for a CDX line or a manifest pointer."""

    warc_file: str
    offset: int
    length: int
    record_id: str
    payload_digest: str | None = None

    def __reduce__(self):
        # One per page comes back from the writer process: as cheap to unpickle as a tuple.
        return (RecordLocation, _location_fields(self))


_location_fields = attrgetter(*(f.name for f in fields(RecordLocation)))
