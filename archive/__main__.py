"""`python -m archive COMMAND …`: offline tools over WARC archives and corpora.

Each command lives in its own module exposing ``add_arguments(parser)`` and
``run(args) -> int``; this file only dispatches, so a command's imports cost
nothing to the others. Errors a user can fix end with one ``error:`` line and
exit code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import sys
from importlib import import_module

# command name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
}


class UserError(Exception):
    """Bad input a user can fix: reported as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m archive", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        import_module(module).add_arguments(command)
        command.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(import_module(args._module).run(args) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
