"""The fixture server compresses each body once and sends the same bytes as compressing it anew."""
import gzip

import brotli

from testbed.fixtureserver import CompressedBodies


def test_a_body_is_compressed_once_into_the_bytes_a_fresh_compression_gives():
    bodies = CompressedBodies()
    page = "<p>Hợp tác Việt Nam - Lào</p>".encode() * 500
    first = bodies(page, "gzip")
    assert first == gzip.compress(page, mtime=0) and gzip.decompress(first) == page
    assert bodies(bytes(page), "gzip") is first  # an equal body (another object): the bytes already made
    assert bodies(page, "br") == brotli.compress(page) and brotli.decompress(bodies(page, "br")) == page
    assert bodies.held == 2 * len(page) + len(first) + len(bodies(page, "br"))


def test_the_bodies_held_are_bounded_oldest_dropped_first():
    bodies = CompressedBodies(limit=3000)
    pages = [bytes([n]) * 1000 for n in range(4)]
    made = [bodies(page, "gzip") for page in pages]
    assert bodies.held <= 3000
    assert bodies(pages[3], "gzip") is made[3]  # the newest is kept
    again = bodies(pages[0], "gzip")  # the oldest was dropped: compressed again, the same bytes
    assert again == made[0] and again is not made[0]
