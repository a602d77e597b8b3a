"""The fuzz run of one patch in its own process, so the TUI stays responsive.

hypothesis is CPU-bound Python: in a thread of the TUI's process it would hold the
GIL and every key would wait for it. The TUI therefore starts

    python -m tui.worker.child SOURCE PATCH-KEY [--repo R] [--tree T] [--budget S] [--seed N]

(tui/worker/protocol.py builds that command and reads what this writes), which loads
the same input, extracts and checks that one patch exactly as `mmreview check` does
(tui.worker.runs.PatchRun), and reports on stdout in the protocol's JSON lines.
SIGTERM (or SIGINT) asks it to stop: the searches end at their next example and the
findings so far are still reported in the final line.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys

from review.check.run import extract_patches
from review.errors import InputError
from review.inputs.load import load
from review.model import patch_key
from tui.worker import protocol
from tui.worker.runs import PatchRun

STOP = {"flag": False}


def _stop(_sig, _frm) -> None:
    STOP["flag"] = True


def _emit(line: str) -> None:
    sys.stdout.write(line)
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog=f"python -m {protocol.CHILD_MODULE}")
    ap.add_argument("source")
    ap.add_argument("patch_key")
    ap.add_argument("--repo")
    ap.add_argument("--tree")
    ap.add_argument("--budget", type=float)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        # background work: the reviewer's keystrokes come first on a busy machine
        os.nice(10)
    except (AttributeError, OSError):
        pass
    try:
        collection = load(args.source, repo=args.repo)
        patch = next((p for p in collection.patches if patch_key(p) == args.patch_key), None)
        if patch is None:
            raise InputError(f"{args.source}: no patch {args.patch_key}")
        rules, error = extract_patches([patch], args.tree)[0]
        if rules is None:
            raise InputError(f"{patch.label}: extraction failed: {error}")
    except InputError as exc:
        _emit(protocol.error_line(str(exc)))
        return 2
    sent = -1   # how many findings the last progress line carried

    def progress(p: protocol.Progress) -> None:
        nonlocal sent
        changed = len(p.findings) != sent
        sent = len(p.findings)
        _emit(protocol.progress_line(p.done, p.total, p.findings if changed else None))

    run = PatchRun(patch, rules, source=args.source, budget=args.budget, seed=args.seed,
                   on_progress=progress, should_stop=lambda: STOP["flag"])
    result = run.run()
    _emit(protocol.result_line(result, run.stopped))
    return 0


if __name__ == "__main__":
    sys.exit(main())
