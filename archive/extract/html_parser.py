"""The HTML parser every extraction tree comes from: lxml.html's, with its element classes
chosen in C.

Why: lxml makes a Python object for an element each time code reaches it (our readers, and
trafilatura, which copies the tree five times and walks each copy), and lxml.html's parser
picks that object's class by calling a Python method (`HtmlElementClassLookup.lookup`),
~6,000 times for one generic page. This parser gives every element, comment, processing
instruction and entity the very class lxml.html's would (`FormElement` for `<form>`,
`InputElement` for `<input>` ..., `HtmlElement` otherwise) through lxml's own lookups,
which run in C; copies of a tree keep its parser, so trafilatura's copies use it too. The
parser's options are lxml.html's defaults. No Scrapy here.

`UTF8_HTML_PARSER` is the same parser reading UTF-8 bytes: lxml hands a `str` to libxml2 in
its internal form (UTF-16 or UCS-4 for Vietnamese text), which libxml2 converts to UTF-8
first; a page's own UTF-8 bytes skip that (~0.2 ms an 80 KB page) and give the same tree
(tests/test_extract.py).

Neither keeps a table of the page's `id` attributes (`collect_ids=False`, as trafilatura's and
htmldate's own parsers): libxml2 fills it while parsing, and every copy of a tree whose
document has one looks each copied attribute up to fill the copy's (trafilatura copies the
page three to five times). Only XPath's `id()` reads it, which none of our readers or
trafilatura's use; the tree is the same, node for node.
"""
from __future__ import annotations

import lxml.html
from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlElementClassLookup, HtmlEntity, HtmlProcessingInstruction

__all__ = ["HTML_PARSER", "UTF8_HTML_PARSER"]


def _class_lookup() -> etree.ElementNamespaceClassLookup:
    """lxml.html's classes by tag name (tags of parsed HTML are lower case), the rest by node type."""
    lookup = etree.ElementNamespaceClassLookup(etree.ElementDefaultClassLookup(
        element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity))
    by_tag = lookup.get_namespace(None)
    for tag, element_class in HtmlElementClassLookup._default_element_classes.items():
        by_tag[tag] = element_class
    return lookup


HTML_PARSER = lxml.html.HTMLParser(collect_ids=False)
HTML_PARSER.set_element_class_lookup(_class_lookup())
UTF8_HTML_PARSER = lxml.html.HTMLParser(encoding="utf-8", collect_ids=False)
UTF8_HTML_PARSER.set_element_class_lookup(_class_lookup())
