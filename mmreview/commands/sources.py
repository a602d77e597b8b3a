"""--repo, --base and --tree: where whole functions come from, for `mmreview check`
and `mmreview extract` (review/extract/sources.py reads them)."""
from __future__ import annotations

import argparse
from pathlib import Path

from review.inputs.repository import kernel_checkout


def add_source_arguments(p: argparse.ArgumentParser) -> None:
    """--repo, --base and --tree: where whole functions come from (check and extract)."""
    p.add_argument("--repo", metavar="PATH",
                   help="a kernel git repository (any clone, any branch): whole files for mail "
                        "INPUT from its index-line blobs, the series' base-commit or --base; or "
                        "INPUT is a revision range of it (default: the kernel checkout run in)")
    p.add_argument("--base", metavar="REV",
                   help="with --repo: the revision mail patches apply to when their blobs are not "
                        "in the repository (default: the base-commit trailer, else HEAD)")
    p.add_argument("--tree", metavar="PATH",
                   help="a kernel tree (a directory) to take whole functions from (mail input)")


def source_repo(args) -> str | None:
    """--repo, or by default the kernel checkout the command runs in (b4 runs check
    commands in the repository's top directory); an explicit --tree wins."""
    if args.repo is not None or args.tree is not None:
        return args.repo
    top = kernel_checkout(Path.cwd())
    return str(top) if top is not None else None
