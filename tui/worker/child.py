"""The fuzz run of one patch in its own process, so the TUI stays responsive.

hypothesis is CPU-bound Python: in a thread of the TUI's process it would hold the
GIL and every key would wait for it. The TUI therefore starts

    python -m tui.worker.child SOURCE PATCH-KEY [--repo R] [--tree T] [--budget S] [--seed N]

which loads the same input, extracts and checks that one patch exactly as
`mmreview check` does (tui.worker.analysis.PatchRun), and writes JSON lines on stdout:

    {"progress": {"done": s, "total": s}, "findings": [Finding JSON, ...]}   as it goes
    {"result": PatchResult JSON, "stopped": bool}                           at the end
    {"error": "one line"}                                                    on bad input

SIGTERM (or SIGINT) asks it to stop: the searches end at their next example and the
findings so far are still reported in the final line.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
from dataclasses import asdict

STOP = {"flag": False}


def _stop(_sig, _frm) -> None:
    STOP["flag"] = True


def finding_from_json(obj: dict):
    from review.report.types import CheckFinding
    return CheckFinding.from_json(obj)


def result_from_json(obj: dict, patch_ref=None):
    from review.report.types import PatchRef, PatchResult
    ref = PatchRef(**obj["patch"]) if isinstance(obj.get("patch"), dict) else patch_ref
    res = PatchResult(ref)
    for k in ("checked", "modes", "nfc_claim", "examples", "seconds", "skipped"):
        if k in obj:
            setattr(res, k, obj[k])
    res.findings = [finding_from_json(f) for f in obj.get("findings", [])]
    return res


def _emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tui.worker.child")
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
        import os
        os.nice(10)
    except (AttributeError, OSError):
        pass

    from review.errors import InputError
    from review.inputs.load import load
    from review.model import patch_key
    from tui.worker import analysis
    try:
        collection = load(args.source, repo=args.repo)
        patch = next((p for p in collection.patches if patch_key(p) == args.patch_key), None)
        if patch is None:
            raise InputError(f"{args.source}: no patch {args.patch_key}")
        rules = analysis.extract(patch, args.tree)
    except InputError as exc:
        _emit({"error": str(exc)})
        return 2
    except Exception as exc:  # extraction trouble is reported, not a traceback
        _emit({"error": f"{type(exc).__name__}: {exc}"})
        return 2
    sent = {"n": -1}

    def progress(p: analysis.Progress) -> None:
        if len(p.findings) != sent["n"]:
            sent["n"] = len(p.findings)
            _emit({"progress": {"done": p.done, "total": p.total},
                   "findings": [f.to_json() for f in p.findings]})
        else:
            _emit({"progress": {"done": p.done, "total": p.total}})

    run = analysis.PatchRun(patch, rules, index=patch.counter, total=patch.expected, source=args.source,
                            budget=args.budget, seed=args.seed, on_progress=progress,
                            should_stop=lambda: STOP["flag"])
    result = run.run()
    out = {k: v for k, v in asdict(result).items() if k != "findings"}
    out["findings"] = [f.to_json() for f in result.findings]
    _emit({"result": out, "stopped": run.stopped})
    return 0


if __name__ == "__main__":
    sys.exit(main())
