"""mmreview extract: the rules each patch's C implements, before and after (docs/extract.md)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from review import terminal
from review.errors import InputError

HELP = "show the rules (decisions, assertions) each patch's C implements, before and after"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", metavar="INPUT",
                   help="mbox, maildir, .patch/.eml file, '-' for stdin, a lore message-id; "
                        "with --repo, a revision range (A..B, -N, one commit)")
    p.add_argument("--tree", metavar="PATH",
                   help="a kernel checkout the (mail) patches apply to: whole functions and "
                        "helpers come from it")
    p.add_argument("--repo", metavar="PATH", help="a git repository: INPUT is a revision range")
    p.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    # tree-sitter and the spec load when the command runs, not at start-up
    from review.extract.rules import extract_series
    from review.report.rules import patch_json, patch_text
    from review.inputs.load import load

    if args.tree is not None and not Path(args.tree).is_dir():
        raise InputError(f"--tree {args.tree}: not a directory")
    coll = load(args.input, repo=args.repo)
    patches = list(coll.patches)
    if not patches:
        raise InputError(f"{args.input}: no patch found")
    results = extract_series(patches, tree=args.tree)
    if args.format == "json":
        sys.stdout.write(terminal.json_dumps({"input": args.input, "patches": [patch_json(r) for r in results]},
                                             indent=2) + "\n")
        return 0
    for i, r in enumerate(results):
        if i:
            print()
        for line in patch_text(r):
            print(line)
    return 0
