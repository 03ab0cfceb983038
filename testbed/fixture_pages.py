"""Where the synthetic fixture pages live and which URL each one stands for.

A URL path maps to `tests/fixtures/web/<host>/<path>`; a path that names a
directory (`/`, `/huu-nghi`) is served from its `index.html`. The expected
seed-format output of an article page is `tests/fixtures/gold/<host>/<path>.txt`.
"""
from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
WEB = FIXTURES / "web"
GOLD = FIXTURES / "gold"
_NOT_PAGES = {"robots.txt", "README.md", "_routes.json"}
_PAGE_SUFFIXES = {"", ".html", ".htm", ".vnp", ".amp"}  # not the pages' stylesheets and images


def url_for(page: Path) -> str:
    """The real URL a fixture file stands for."""
    host, *parts = page.relative_to(WEB).parts
    rel = "/".join(parts)
    if rel == "index.html":
        rel = ""
    elif rel.endswith("/index.html"):
        rel = rel[: -len("/index.html")]
    return f"https://{host}/{rel}"


def host_of(page: Path) -> str:
    return page.relative_to(WEB).parts[0]


def pages() -> list[Path]:
    """Every fixture HTML page (articles and listings), sorted."""
    return sorted(p for p in WEB.rglob("*") if p.is_file() and p.name not in _NOT_PAGES
                  and p.parent != WEB and p.suffix in _PAGE_SUFFIXES)


def gold_for(page: Path) -> Path:
    return GOLD / (str(page.relative_to(WEB)) + ".txt")


def article_pages() -> list[Path]:
    """Pages whose extraction must be emitted (they have a gold file)."""
    return [p for p in pages() if gold_for(p).exists()]


def page(host: str, path: str) -> Path:
    """The fixture file for `https://<host><path>`."""
    rel = path.lstrip("/")
    candidate = WEB / host / rel if rel else WEB / host / "index.html"
    return candidate / "index.html" if candidate.is_dir() else candidate
