"""trafilatura's copies of the page that it reads only on rare paths, made only when one is taken.

With our options (favor_precision, no comments, not fast) trafilatura copies the whole page five
times; on a page of a host with no profile each copy and its freeing cost ~0.2 ms (~900 elements;
docs/performance.md, session 14). Three of them are read only when the extraction goes a rare way:
- `_prepare_tree` keeps a copy of the cleaned tree for justext, which runs only when the extracted
  body is short or holds "unclean" elements;
- `extract_content` keeps a deep copy of the converted tree (and a list of its elements) for its
  wild-text recovery, which runs only when the main pass found little;
- `_extract_and_compare` hands readability a copy of the raw tree, which with favor_precision
  nothing reads after readability (the baseline rescue and the recall retry run only in the other
  modes).

Inside `spared_copies()` (in the thread that entered it), the first two are not made: a `_Unmade` stands in for each, and reading
one raises `CopyNeeded` (a BaseException: no `except Exception` of trafilatura's swallows it), after
which the caller runs trafilatura again without this block on the same input, which trafilatura
never changes (bare_extraction works on its own copy). readability reads the raw tree itself. The
result is the one trafilatura gives, on every path: either nothing it reads was left out, or the
extraction is done again in full. Used only when the code these functions write out or rely on is
the code they were written for (sha256 of its source), else trafilatura's own runs.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from lxml.etree import strip_elements, strip_tags
from trafilatura import core, external, main_extractor
from trafilatura.settings import Extractor

from archive.extract.trafilatura_fast_functions import source_digest

__all__ = ["CopyNeeded", "spared_copies", "SPARED"]


class CopyNeeded(BaseException):
    """A copy left out by `spared_copies()` is read: the extraction is to be done again without it."""


class _Unmade:
    """Stands where a copy was not made. Its one reader, justext (`external.justext_rescue`), raises
    `CopyNeeded` when handed it (lxml would raise a TypeError, which trafilatura takes for "no
    text"); any other use of it raises `CopyNeeded` too."""

    __slots__ = ()

    def __getattr__(self, name: str):
        raise CopyNeeded(name)


_UNMADE = _Unmade()

_PREPARE_TREE = core._prepare_tree
_EXTRACT_AND_COMPARE = core._extract_and_compare
_JUSTEXT_RESCUE = external.justext_rescue


def _justext_rescue(tree, options: Extractor):
    """`external.justext_rescue`, which reads the copy `_prepare_tree` did not make."""
    if tree is _UNMADE:
        raise CopyNeeded("justext_rescue")
    return _JUSTEXT_RESCUE(tree, options)


_ACTIVE = threading.local()  # `.on`: this thread is inside `spared_copies()`


def _spared(options: Extractor) -> bool:
    """Whether this call is to spare the copies: inside `spared_copies()` in this thread (another
    thread's trafilatura, running while the stand-ins are in place, gets its own copies), with the
    options this module was written for (trafilatura's other paths read the copies)."""
    return (getattr(_ACTIVE, "on", False) and options.focus == "precision" and not options.comments
            and not options.fast)


def _prepare_tree(tree, options: Extractor, url):
    """`core._prepare_tree` without the pre-conversion copy for justext (an `_Unmade` instead)."""
    if not _spared(options):
        return _PREPARE_TREE(tree, options, url)
    cleaned = core.tree_cleaning(core.copy(tree), options)
    cleaned = core.convert_tags(cleaned, options, url)
    return cleaned, _UNMADE


def _extract_content(cleaned_tree, options: Extractor):
    """`main_extractor.extract_content` without the backup for the wild-text recovery: when the main
    pass finds little, `CopyNeeded`. The rest written out as it is there."""
    result_body, temp_text, _ = main_extractor._extract(cleaned_tree, options)
    if len(result_body) == 0 or len(temp_text) < options.min_extracted_size:
        raise CopyNeeded("extract_content")  # (the recovery reads the backup)
    previous = None
    for el in list(result_body):
        current = main_extractor._elem_text(el)
        if current and current == previous and len(current) > main_extractor.MIN_DUPLICATE_LENGTH:
            main_extractor.delete_element(el, keep_tail=False)
        else:
            previous = current
    strip_elements(result_body, "done")
    strip_tags(result_body, "div")
    for linebreak in result_body.iter("lb"):
        if (
            linebreak.tail
            and not main_extractor.text_chars_test(linebreak.tail)
            and not any(anc.tag in main_extractor.SPACING_PROTECTED for anc in linebreak.iterancestors())
        ):
            linebreak.tail = None
    return result_body, temp_text


def _extract_and_compare(cleaned_tree, cleaned_tree_backup, tree, options: Extractor):
    """`core._extract_and_compare`: the main extraction without its backup, and readability on the
    raw tree itself (with favor_precision `trafilatura_sequence` reads it no more)."""
    if not _spared(options):
        return _EXTRACT_AND_COMPARE(cleaned_tree, cleaned_tree_backup, tree, options)
    postbody, temp_text = _extract_content(cleaned_tree, options)
    return core.compare_extraction(cleaned_tree_backup, tree, postbody, temp_text, options)


# What the stand-ins write out or rely on: the sequence that calls them and reads the raw tree after
# them (trafilatura_sequence, and bare_extraction, which copies the caller's tree), the functions
# written out, and what reads the pre-conversion copy (compare_extraction: justext only).
_RELIED_ON = (core.bare_extraction, core.trafilatura_sequence, core._prepare_tree, core._extract_and_compare,
              main_extractor.extract_content, core.compare_extraction)
_DIGEST = "3179ec3a119325d9"

# (module, attribute, original, stand-in), when the code is the one they were written for
SPARED = ([(core, "_prepare_tree", _PREPARE_TREE, _prepare_tree),
           (core, "_extract_and_compare", _EXTRACT_AND_COMPARE, _extract_and_compare),
           (external, "justext_rescue", _JUSTEXT_RESCUE, _justext_rescue)]
          if source_digest(_RELIED_ON) == _DIGEST else [])


_USERS_LOCK = threading.Lock()
_users = 0  # blocks running, in all threads: the stand-ins stay in place until the last one ends


@contextmanager
def spared_copies() -> Iterator[int]:
    """trafilatura without the copies it reads only on rare paths, for the block in this thread
    (yields how many stand-ins are in place); reading one raises `CopyNeeded` out of the block."""
    global _users
    with _USERS_LOCK:
        if _users == 0:
            for owner, attribute, _, stand_in in SPARED:
                setattr(owner, attribute, stand_in)
        _users += 1
    outer, _ACTIVE.on = getattr(_ACTIVE, "on", False), True
    try:
        yield len(SPARED)
    finally:
        _ACTIVE.on = outer
        with _USERS_LOCK:
            _users -= 1
            if _users == 0:
                for owner, attribute, original, _ in SPARED:
                    setattr(owner, attribute, original)
