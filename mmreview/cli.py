"""mmreview command line: one sub-command per module in mmreview/commands/.

Each module mmreview/commands/<name>.py provides
    HELP: str                          one-line description
    add_arguments(parser) -> None      its argparse options
    run(args) -> int                   exit code: 0 clean, 1 findings, 2 usage/input error
Modules are imported only when their sub-command runs, so start-up stays fast.

Errors the user can act on are raised as review.errors.InputError and printed as one
line on stderr with exit code 2; no traceback for bad input.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from review.errors import InputError

# sub-command -> module in mmreview.commands (the module name may differ: `demo` is
# its own command but lives beside `tui`).
COMMANDS = {
    "replay": "replay",
    "fuzz": "fuzz",
    "verify": "verify",
    "check": "check",
    "extract": "extract",
    "show": "show",
    "tui": "tui",
    "demo": "demo",
}


def _load(name: str):
    return importlib.import_module(f"mmreview.commands.{COMMANDS[name]}")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mmreview",
        description="Review Linux mm patches against an executable spec of anonymous memory.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        if only is not None and name != only:
            # Other commands are listed by name only; their options load on use.
            sub.add_parser(name, add_help=False)
            continue
        module = _load(name)
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    if command not in COMMANDS:
        command = None
    try:
        parser = build_parser(only=command) if command else build_parser()
    except ModuleNotFoundError as exc:  # a sub-command not built yet
        print(f"mmreview: {command}: not available ({exc.name})", file=sys.stderr)
        return 2
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: usage errors exit 2 already
        return int(exc.code or 0)
    if not args.command:
        parser.print_help()
        return 2
    try:
        return int(_load(args.command).run(args))
    except InputError as exc:
        print(f"mmreview {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"mmreview {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
