"""`Article` → the seed format of docs/design.md (`render_seed_text`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from archive.extract.text import clean, nfc

if TYPE_CHECKING:
    from archive.extract.article import Article

__all__ = ["DATE_LINE_FORMAT", "render_seed_text"]

DATE_LINE_FORMAT = "%H:%M | %d/%m/%Y"  # the date line, GMT+7


def render_seed_text(article: Article) -> str:
    """The seed format of docs/design.md: title, date line, lead, body, author, `Nguồn:` line.

    Blocks are single lines separated by one blank line; a missing date line,
    lead or author is left out rather than invented. NFC, `\\n` line ends,
    exactly one final newline.
    """
    blocks = [article.title, article.date_line, article.lead, *article.paragraphs, article.author,
              f"Nguồn: {article.canonical_url}"]
    lines = [line for block in blocks if block and (line := clean(block))]
    return nfc("\n\n".join(lines)) + "\n"
