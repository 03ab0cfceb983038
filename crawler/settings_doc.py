"""`python -m crawler.settings_doc [OUT]` (`make settings-doc`): docs/settings.md from crawler/settings.py.

The settings module is the one place a setting is declared, with its default
and the comment that says what it does; the reference is generated from it
(sections from its `# --- title ---` lines, text from the comments above and
beside each assignment) so it cannot drift. tests/test_docs.py fails when
docs/settings.md is stale. `--check` exits 1 instead of writing.
"""
from __future__ import annotations

import argparse
import ast
import os
import re
import sys
from pathlib import Path

from scrapy.settings import default_settings

from crawler import settings as project_settings
from crawler.setting_names import project_setting_names

SOURCE = Path(project_settings.__file__)
_CHECKOUT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = _CHECKOUT / "docs" / "settings.md"
_SECTION = re.compile(r"^# -{3}\s*(.*?)\s*-*$")
_SCRAPY_NAMES = frozenset(name for name in vars(default_settings) if name.isupper())
_MAX_INLINE = 70  # longer defaults are listed entry by entry


def _comment_of(line: str) -> str | None:
    stripped = line.strip()
    return stripped[1:].strip() if stripped.startswith("#") else None


def _inline_comment(line: str) -> str:
    """The `# …` after code on a line (a `#` inside a string does not count)."""
    in_string = None
    for i, char in enumerate(line):
        if in_string:
            if char == in_string:
                in_string = None
        elif char in "\"'":
            in_string = char
        elif char == "#":
            return line[i + 1:].strip()
    return ""


def _default(value) -> str:
    if isinstance(value, str) and value.startswith(str(_CHECKOUT) + os.sep):  # the shipped seeds/
        value = "<checkout>/" + Path(value).relative_to(_CHECKOUT).as_posix()
    text = repr(value)
    if len(text) <= _MAX_INLINE or not isinstance(value, dict):
        return f"`{text}`"
    return "<br>".join(f"`{k!r}: {v!r}`" for k, v in value.items())


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def declared_settings(source: str = None) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """[(section, [(NAME, default, what it does)])] in the order crawler/settings.py declares them."""
    source = SOURCE.read_text("utf-8") if source is None else source
    lines = source.splitlines()
    values = vars(project_settings)
    sections: list[tuple[str, list]] = [("Project and Scrapy plumbing", [])]
    tree = ast.parse(source)
    consumed_until = 0
    group_head = None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
            if isinstance(node, ast.AnnAssign) else []
        names = [t.id for t in targets if isinstance(t, ast.Name) and t.id.isupper()]
        if not names:
            continue
        above: list[str] = []
        for number in range(consumed_until, node.lineno - 1):
            line = lines[number]
            header = _SECTION.match(line.strip())
            if header:
                sections.append((header.group(1), []))
                above = []
            elif _comment_of(line) is not None:
                above.append(_comment_of(line))
            elif not line.strip():  # a comment a blank line away from the next setting is not about it
                above = []
        adjacent = consumed_until == node.lineno - 1  # no blank or comment line since the last one
        consumed_until = node.end_lineno
        inline = [_inline_comment(lines[n]) for n in range(node.lineno - 1, node.end_lineno)]
        what = " ".join(part for part in (*above, inline[0]) if part)
        if above:
            group_head = names[0]
        elif not what and adjacent and group_head and names[0] not in _SCRAPY_NAMES:
            # One comment above a block of the project's settings describes them all.
            what = f"see `{group_head}`"
        else:
            group_head = None
        for name in names:
            sections[-1][1].append((name, _default(values[name]), what))
    return [(title, rows) for title, rows in sections if rows]


def render() -> str:
    _, prefixes = project_setting_names("crawler.settings")
    out = [
        "# Settings reference",
        "",
        "<!-- Generated from crawler/settings.py by `make settings-doc` (crawler/settings_doc.py): "
        "edit the settings module, not this file. -->",
        "",
        "Every setting the crawl reads is declared once, with its default, in `crawler/settings.py`;",
        "`scrapy crawl news -s NAME=value` overrides one for a run. A name starting with one of the",
        f"project's prefixes ({', '.join(f'`{p}`' for p in sorted(prefixes))}) that is not declared",
        "is refused before anything is fetched (crawler/setting_names.py). *Scrapy* marks Scrapy's",
        "own settings given a project default; their full meaning is in Scrapy's documentation.",
    ]
    for title, rows in declared_settings():
        out += ["", f"## {title}", "", "| setting | default | what it does |", "|---|---|---|"]
        for name, default, what in rows:
            mark = " *Scrapy*" if name in _SCRAPY_NAMES else ""
            out.append(f"| `{name}`{mark} | {_cell(default)} | {_cell(what)} |")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.settings_doc", description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if OUT is not up to date; write nothing")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.out.read_text("utf-8") if args.out.is_file() else None
        if current != text:
            print(f"error: {args.out} is stale: run `make settings-doc`", file=sys.stderr)
            return 1
        return 0
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_text(text, "utf-8")
    os.replace(tmp, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
