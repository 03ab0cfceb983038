"""`python -m archive.sites` (`make sites`): the supported sites, their entry points and what each profile provides."""
from __future__ import annotations

import argparse

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from archive.extract.page_gate import MIN_SENTENCES, MIN_WORDS

from archive.sites import profiles
from archive.sites.generic import TEMPLATE

_HINT_FIELDS = ("title", "lead", "body", "date", "author", "category", "tags", "captions")


def provides(profile) -> str:
    """What a profile knows, in a few words: link rules and the extraction hints it declares."""
    hints = profile.extraction
    found = [name for name in _HINT_FIELDS if getattr(hints, name)]
    parts = [f"{len(profile.related_links)} related-link rules",
             f"{len(profile.listing_links)} listing + {len(profile.pagination_links)} next-page rules"]
    parts.append("hints: " + (", ".join(found) if found else "none (plain trafilatura)"))
    if hints.drop:
        parts.append(f"drops {len(hints.drop)} boilerplate blocks")
    if hints.ignore_authors:
        parts.append(f"ignores {len(hints.ignore_authors)} site-wide bylines")
    return "; ".join(parts)


def sites_table() -> Table:
    table = Table(title="Supported sites (archive/sites/)", show_lines=True)
    table.add_column("site", style="bold")
    table.add_column("hosts", overflow="fold")
    table.add_column("article URLs", overflow="fold")
    table.add_column("entry points", overflow="fold", min_width=30)
    table.add_column("provides")
    # Data cells are escaped: rich reads `[a-z0-9-]` in a URL pattern as markup and drops it.
    for profile in profiles():
        table.add_row(f"{escape(profile.name)}\n[dim]{escape(profile.description)}[/dim]",
                      escape("\n".join(profile.hosts)), escape(profile.article_path),
                      escape("\n".join(profile.entry_points)), escape(provides(profile)))
    table.add_row("generic (fallback)\n[dim]any other host[/dim]", "one host each",
                  f"decided from the page (archive/extract/article/article/page_gate.py): a headline and a main text of "
                  f"≥ {MIN_SENTENCES} sentences, ≥ {MIN_WORDS} words",
                  "(start URLs only)", provides(TEMPLATE) + "; courlan URL filter")
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=None, help="table width (default: the terminal's)")
    args = parser.parse_args(argv)
    Console(width=args.width).print(sites_table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
