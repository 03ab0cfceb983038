"""Our bare_extraction arguments (archive/extract/trafilatura_options.py): the options object, a copy of a
day's, holds every value the one trafilatura builds from our keyword arguments holds, for each page's URL,
with sets and dicts of its own; other arguments or code are passed as given; and the call's result is the
same."""
from __future__ import annotations

import lxml.html
import pytest
import trafilatura
from trafilatura import core, settings

from archive.extract import trafilatura_options
from archive.extract.body import TRAFILATURA_OPTIONS, _trafilatura_paragraphs
from archive.extract.trafilatura_options import trafilatura_arguments

_URLS = ["http://example.org/a", "https://nhandan.vn/bai-viet-post1.html", "http://example.org/ph\u1edf", "",
         None, "http://example.org/\udcff"]


def _built_by_trafilatura(arguments: dict) -> settings.Extractor:
    """The `Extractor` bare_extraction makes from these keyword arguments."""
    made = []

    class Recorded(settings.Extractor):
        __slots__ = ()

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            made.append(self)
    original = core.Extractor
    core.Extractor = Recorded
    try:
        trafilatura.bare_extraction(lxml.html.document_fromstring("<html><body><p>x</p></body></html>"), **arguments)
    finally:
        core.Extractor = original
    return made[0]


@pytest.mark.parametrize("url", _URLS)
@pytest.mark.parametrize("include_images", [True, False])
def test_the_options_hold_what_trafilatura_builds_from_our_arguments(url, include_images):
    arguments = dict(url=url, output_format="python", with_metadata=False, include_images=include_images,
                     **TRAFILATURA_OPTIONS)
    expected = _built_by_trafilatura(arguments)
    for _ in range(2):  # built, then copied
        got = trafilatura_arguments(**arguments)
        assert got.keys() == {"url", "options"} and got["url"] == url
        options = got["options"]
        assert type(options) is settings.Extractor
        for name in settings.Extractor.__slots__:
            assert getattr(options, name) == getattr(expected, name), name
        assert options.config is expected.config
        others = trafilatura_arguments(**arguments)["options"]
        for name in ("author_blacklist", "url_blacklist", "date_params"):  # its own, as each built one has
            assert getattr(options, name) is not getattr(others, name)


def test_other_arguments_or_code_are_passed_as_given(monkeypatch):
    arguments = dict(url="http://example.org/a", include_links=True)
    assert trafilatura_arguments(**arguments) == arguments
    monkeypatch.setattr(trafilatura_options, "_USABLE", False)  # (a trafilatura whose code is not this one's)
    arguments = dict(url="http://example.org/a", favor_precision=True)
    assert trafilatura_arguments(**arguments) == arguments


def test_a_new_day_builds_new_options(monkeypatch):
    arguments = dict(url="http://example.org/a", favor_precision=True)
    first = trafilatura_arguments(**arguments)["options"]

    class Tomorrow:
        @staticmethod
        def now():
            class Local:
                def astimezone(self):
                    class Day:
                        def strftime(self, _):
                            return "2999-01-01"
                    return Day()
            return Local()
    monkeypatch.setattr(trafilatura_options, "datetime", Tomorrow)
    second = trafilatura_arguments(**arguments)["options"]
    (key,) = trafilatura_options._templates  # yesterday's forgotten
    assert key[-1] == "2999-01-01" and second is not first
    assert second.date_params == first.date_params  # (Extractor reads the date itself when it is built)


def test_our_call_gives_the_same_paragraphs_as_with_trafilatura_building_its_options(monkeypatch):
    html = ("<html><body><article><h1>Tiêu đề</h1>" + "".join(f"<p>Đoạn văn số {n}, đủ dài để được giữ lại trong bài "
            f"viết này, có dấu phẩy, và chữ tiếng Việt.</p>" for n in range(12)) + "</article></body></html>")
    tree = lxml.html.document_fromstring(html)
    ours = _trafilatura_paragraphs(tree, "http://example.org/bai-viet", include_images=True)
    monkeypatch.setattr(trafilatura_options, "_USABLE", False)
    assert _trafilatura_paragraphs(tree, "http://example.org/bai-viet", include_images=True) == ours
    assert len(ours[0]) >= 12
