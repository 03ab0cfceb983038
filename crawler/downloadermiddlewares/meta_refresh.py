"""Scrapy's MetaRefreshMiddleware, decoding only the 4,096 characters it reads.

Scrapy's `get_meta_refresh` looks for `<meta http-equiv="refresh">` in `response.text[0:4096]`,
and `response.text` decodes the whole body: ~0.3–1 ms for a 100 KB page, on the event loop, for
every HTML response of a crawl that never needs that text there (an extraction worker decodes
the page it parses). For a UTF-8 page this decodes a prefix of the body the way `TextResponse.text`
decodes all of it (w3lib's `html_to_unicode` with the response's encoding, a BOM included) and
hands w3lib the same 4,096 characters: UTF-8 decodes a prefix as the start of the whole (a
character cut at the prefix's end is past those 4,096). A page that asks for a refresh, or in
another encoding, goes through Scrapy's own code, so what is followed is decided there. The page's
`<base>` (which Scrapy reads first, for the refresh's URL) is not looked for when no refresh is declared.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse
from w3lib import html
from w3lib.encoding import html_to_unicode

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response

HEAD_CHARS = 4096  # what scrapy.utils.response.get_meta_refresh and get_base_url read
_PREFIX_BYTES = 4 * HEAD_CHARS + 4  # UTF-8: at most 4 bytes a character, so > HEAD_CHARS characters


def head_text(response: HtmlResponse) -> str | None:
    """`response.text[0:HEAD_CHARS]` without decoding the rest; None unless the page is UTF-8."""
    body = response.body
    prefix = body[:_PREFIX_BYTES]
    encoding, text = html_to_unicode(f"charset={response.encoding}", prefix)
    if encoding != "utf-8" or (len(prefix) < len(body) and len(text) <= HEAD_CHARS):
        return None
    return text[:HEAD_CHARS]


class HeadMetaRefreshMiddleware(MetaRefreshMiddleware):
    """METAREFRESH: Scrapy's middleware, reading only the head of a UTF-8 page."""

    def process_response(self, request: Request, response: Response, spider=None) -> Request | Response:
        # Scrapy's own checks (dont_redirect, HEAD, the scheme) run in super(): a page without a
        # refresh is returned as it is whatever they say, and they are not copied here to drift.
        text = head_text(response) if isinstance(response, HtmlResponse) else None
        # Whether the characters declare a refresh does not depend on the base URL (w3lib joins the base
        # only with a refresh's URL once found), so the page's <base> is not looked for here: a page
        # that declares one goes through Scrapy's code, which reads it.
        if text is not None and html.get_meta_refresh(text, "", response.encoding,
                                                      ignore_tags=self._ignore_tags)[1] is None:
            return response  # what Scrapy's would return: no refresh in the same characters
        return super().process_response(request, response)
