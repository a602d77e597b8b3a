"""mmreview tui: review a thread, series or git range in the terminal.

Reads INPUT as `mmreview show` does (mbox, maildir, .eml/.patch, a lore message-id
or URL, or a revision range with --repo), restores the reviewer's drafts for that
input, and opens the review TUI (tui/). Drafts are saved as they are typed, under
--drafts DIR (default $MMREVIEW_STATE_DIR or $XDG_STATE_HOME/mmreview/drafts).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from review.errors import InputError
from review.inputs.load import load
from review.reviewer import identity as ident
from review.reviewer.state import ReviewState

HELP = "review a thread, series or git range in the terminal (thread, patch and spec side by side)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="INPUT",
                        help="mbox, maildir, .eml/.patch file, lore message-id or URL, or with "
                             "--repo a revision range")
    parser.add_argument("--repo", metavar="PATH", help="git repository: INPUT is a revision range")
    parser.add_argument("--tree", metavar="PATH",
                        help="kernel source tree: whole functions for mail input (extraction)")
    parser.add_argument("--drafts", metavar="DIR", help="where review drafts are kept")
    parser.add_argument("--identity", metavar="'NAME <MAIL>'",
                        help="who you are in trailers and replies (default: $MMREVIEW_IDENTITY, else git's "
                             "sendemail.from, else user.name and user.email)")
    parser.add_argument("--budget", type=float, metavar="SECONDS",
                        help="fuzzing budget per patch (default: as mmreview check)")
    parser.add_argument("--theme", choices=("dark", "light"), help="colour theme")


def open_app(source: str, *, repo: str | None = None, tree: str | None = None,
             drafts: str | None = None, identity: str | None = None, budget: float | None = None,
             theme: str | None = None):
    """Load INPUT and its drafts, and build the app (not yet running)."""
    # Textual takes a while to import: only when the TUI opens, not at start-up of
    # the command line (`mmreview --help` loads every command's module)
    from tui.app import MMReviewApp

    collection = load(source, repo=repo)
    if not collection.messages and not collection.patches:
        raise InputError(f"{source}: no message or patch found")
    # no identity is allowed here: reading needs none, and export and trailers say
    # how to set one (review/reviewer/identity.py)
    state = ReviewState.open(source, repo=repo, directory=Path(drafts) if drafts else None,
                             identity=ident.resolve(identity, repo))
    textual_theme = {"dark": "textual-dark", "light": "textual-light"}.get(theme or "")
    return MMReviewApp(collection, state, tree=tree, repo=repo, budget=budget, theme=textual_theme)


def run(args: argparse.Namespace) -> int:
    # the input first: a bad path is reported as such, with or without a terminal
    app = open_app(args.input, repo=args.repo, tree=args.tree, drafts=args.drafts,
                   identity=args.identity, budget=args.budget, theme=args.theme)
    if not sys.stdout.isatty() or not sys.stdin.isatty():
        raise InputError(f"{args.input}: the TUI needs a terminal (`mmreview show` and "
                         "`mmreview check` print text)")
    app.run()
    return 0
