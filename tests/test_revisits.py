"""archive.warc.revisits: the one rule that finds the response record a revisit stands for."""
from __future__ import annotations

from archive.warc.revisits import Original, OriginalIndex, RevisitRef

URL = "https://example.vn/a-1.html"
FIRST = Original("<urn:uuid:1>", URL, "2025-01-02T03:04:05.000000Z", "sha1:AAA", "first")
SECOND = Original("<urn:uuid:2>", URL, "2025-02-02T03:04:05.250000Z", "sha1:BBB", "second")
THIRD = Original("<urn:uuid:3>", URL, "2025-03-02T03:04:05.000000Z", "sha1:AAA", "third")


def ref(**fields) -> RevisitRef:
    base = {"WARC-Target-URI": URL, "WARC-Date": "2025-04-01T00:00:00Z"}
    return RevisitRef.from_fields({**base, **fields}.get)


def test_named_record_first_then_uri_and_instant_then_first_of_same_digest():
    index = OriginalIndex([FIRST, SECOND, THIRD])
    # WARC-Refers-To wins over everything else it says.
    assert index.resolve(ref(**{"WARC-Refers-To": "<urn:uuid:2>", "WARC-Payload-Digest": "sha1:AAA"})) is SECOND
    # An id from elsewhere: the referred URI at the referred instant, at either precision.
    assert index.resolve(ref(**{"WARC-Refers-To": "<urn:uuid:9>", "WARC-Refers-To-Target-URI": URL,
                                "WARC-Refers-To-Date": "2025-03-02T03:04:05Z"})) is THIRD
    # Nothing named: the first capture of the URL with the same payload digest.
    assert index.resolve(ref(**{"WARC-Payload-Digest": "sha1:AAA"})) is FIRST
    assert index.resolve(ref(**{"WARC-Payload-Digest": "sha1:CCC"})) is None
    assert index.resolve(ref(**{"WARC-Payload-Digest": "sha1:AAA", "WARC-Target-URI": URL + "?x"})) is None


def test_what_an_unresolved_revisit_names_and_which_head_it_is_served_with():
    assert ref(**{"WARC-Refers-To": "<urn:uuid:9>"}).named == "<urn:uuid:9>"
    assert ref(**{"WARC-Refers-To-Target-URI": URL, "WARC-Refers-To-Date": "D"}).named == f"{URL} @ D"
    assert ref().named is None
    not_modified = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
    assert ref(**{"WARC-Profile": not_modified}).serves_original_head(200)
    assert ref(**{"WARC-Profile": not_modified.replace("1.1", "1.0")}).serves_original_head(200)
    assert ref().serves_original_head(304) and not ref().serves_original_head(200)
