"""mmreview demo: the spec finds CVE-2020-29374 by itself.

Runs the fuzzer on the v5.7 preset with a fixed seed and no example database (so the
run is the same everywhere) until it has found a FOLL_GET reference that observes
another process's write after fork (no-foreign-data), prints that trace step by step
with the violated clause, replays it on the reference rule set to show the fix, and
lists the other bugs met on the way. Offline, about ten seconds. Exit 0 when the demo
showed what it should, so that `make demo` succeeds. (The TUI takes over `demo` when a
terminal is available; this text path stays as the fallback.)
"""
from __future__ import annotations

import argparse

HELP = "run the fuzzer on the v5.7 preset and show the CVE-2020-29374 trace it finds (offline)"
SEED = 1
RULESET = "v5.7"
WANTED = ("no-foreign-data", "FOLL_GET sees process write")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=SEED, help=f"seed (default {SEED})")
    parser.add_argument("--text", action="store_true",
                        help="print the text demo even on a terminal (no TUI)")
    parser.add_argument("--drafts", metavar="DIR", help="where the demo review's drafts are kept")


def demo_thread():
    """The bundled synthetic thread (fixtures/demo, written for mmreview)."""
    from pathlib import Path
    return Path(__file__).resolve().parents[2] / "fixtures" / "demo" / "anon-excl-cleanups.mbox"


def find_cve(seed: int = SEED, max_examples: int = 4000):
    """(the CVE finding or None, every finding of the run)."""
    # the fuzzer (hypothesis) and the spec load when the demo runs, not at start-up
    from review.fuzz.search import search
    from spec.presets import PRESETS

    state: dict = {}

    def progress(info: dict) -> None:
        for f in info["findings"]:
            if (f.id, f.variant) == WANTED:
                state.setdefault("cve", f)

    findings = search(PRESETS[RULESET], seed=seed, max_examples=max_examples, database=None,
                      on_progress=progress, should_stop=lambda: "cve" in state)
    return state.get("cve"), findings


def run_text(seed: int = SEED) -> int:
    # the spec loads when the demo runs, not at start-up (`mmreview --help` imports us)
    from spec.presets import PRESETS, REFERENCE
    from spec.run import run_trace
    from spec.trace import format_step, parse_trace

    print(f"mmreview demo: hypothesis searches the spec under the {RULESET} rule set "
          f"(seed {seed}) for a trace that breaks the user-visible contract.")
    print(f"  {RULESET}: {PRESETS[RULESET].cites}")
    print()
    cve, findings = find_cve(seed)
    if cve is None:
        print("nothing like CVE-2020-29374 found with this seed (try another --seed)")
        return 1
    print("Found, and shrunk to its essentials (CVE-2020-29374: COW can break either way,")
    print("so a FOLL_GET reference such as vmsplice's ends up on another process's page):")
    print()
    print(cve.text())
    print()
    trace = parse_trace(cve.trace)
    fixed = run_trace(trace, PRESETS[REFERENCE])
    last = fixed.results[cve.step]
    print(f"The same trace on `{REFERENCE}`: "
          + ("clean" if fixed.clean else ", ".join(sorted(fixed.clauses)))
          + f"; step {cve.step} ({format_step(trace.steps[cve.step])}) returns {last.value}.")
    others = [f for f in findings if f is not cve]
    if others:
        print()
        print(f"Also found on {RULESET} on the way:")
        for f in others:
            how = f" [{f.variant}]" if f.variant else ""
            print(f"  {f.id}{how}: {len(f.trace['steps'])} steps")
    print()
    print("Reproduce, keep and replay: mmreview fuzz --ruleset v5.7 --seed 1 --out DIR; "
          "mmreview replay DIR/<clause>.json")
    return 0


def run(args: argparse.Namespace) -> int:
    """On a terminal: the review TUI on the bundled thread. Otherwise (a pipe, CI,
    `make demo` without a tty) the text demo, so that it never fails for want of a
    terminal."""
    import sys
    thread = demo_thread()
    if not args.text and sys.stdout.isatty() and sys.stdin.isatty() and thread.is_file():
        # start-up: Textual loads only when the TUI opens
        from mmreview.commands.tui import open_app
        app = open_app(str(thread), drafts=args.drafts)
        app.run()
        return 0
    if not args.text:
        print(f"mmreview demo: no terminal, so no TUI; `mmreview tui {thread}` opens the bundled "
              "review thread in one. The text demo follows.")
        print()
    return run_text(args.seed)
