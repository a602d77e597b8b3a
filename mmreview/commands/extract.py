"""mmreview extract: the rules each patch's C implements, before and after (docs/extract.md)."""
from __future__ import annotations

import argparse
import sys

from review import terminal
from review.errors import InputError

from mmreview.commands.sources import add_source_arguments, source_repo

HELP = "show the rules (decisions, assertions) each patch's C implements, before and after"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", metavar="INPUT",
                   help="mbox, maildir, .patch/.eml file, '-' for stdin, a lore message-id; "
                        "with --repo, also a revision range (A..B, -N, one commit)")
    add_source_arguments(p)
    p.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    # tree-sitter and the spec load when the command runs, not at start-up
    from review.extract.rules import extract_with
    from review.extract.sources import Base, whole_functions_hint
    from review.report.rules import patch_json, patch_text
    from review.inputs.load import load

    repo = source_repo(args)
    with Base(repo=repo, tree=args.tree, rev=args.base) as base:
        coll = load(args.input, repo=repo)
        patches = list(coll.patches)
        if not patches:
            raise InputError(f"{args.input}: no patch found")
        results = extract_with(patches, base)
        notes = list(base.notes)
        if not base.whole:
            notes.append(whole_functions_hint("mmreview extract INPUT"))
    if args.format == "json":
        sys.stdout.write(terminal.json_dumps({"input": args.input, "notes": notes,
                                              "patches": [patch_json(r) for r in results]},
                                             indent=2) + "\n")
        return 0
    for i, r in enumerate(results):
        if i:
            print()
        for line in patch_text(r):
            print(line)
    for note in notes:
        print(terminal.escape(f"note: {note}"))
    return 0
