"""mmreview fuzz --ruleset NAME [--max-examples N | --budget SECONDS] [--seed S] [--out DIR]

hypothesis searches the spec for traces that break a contract clause or an invariant
under the rule set NAME (or, with --against REF, for traces where NAME and REF differ;
with --against REF --introduced, for traces on which NAME breaks a clause that REF,
replaying the same trace, does not: what NAME brings in, REF's own bugs aside).
Each finding is shrunk, printed with the violated id and its steps, and written as a
replay trace to --out. Exit 1 when something was found, 0 when not, 2 on bad usage.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from review.errors import InputError
from review.finding_ids import FINDING_IDS, FUZZ_IDS

HELP = "search the spec for traces that break a clause (hypothesis, swarm testing)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ruleset", metavar="NAME", default="current",
                        help="rule set to fuzz (a preset: v5.7 v5.8 v5.9 v5.18 v5.19 v6.0 v6.2 "
                             "v6.5 v6.8 current)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--max-examples", type=int, metavar="N",
                       help="traces to try, in hypothesis examples of 4 (default 2000 unless --budget "
                            "is given)")
    group.add_argument("--budget", type=float, metavar="SECONDS",
                       help="wall-clock time to search")
    parser.add_argument("--seed", type=int, metavar="S", help="seed (default: random, printed)")
    parser.add_argument("--out", metavar="DIR",
                        help="write each finding as DIR/<clause>[--<variant>].json")
    parser.add_argument("--against", metavar="REF",
                        help="differential mode: compare --ruleset with the rule set REF")
    parser.add_argument("--introduced", action="store_true",
                        help="with --against REF: report only the clauses --ruleset breaks "
                             "on a trace that REF does not break there")
    parser.add_argument("--exclude", action="append", default=[], metavar="ID[:VARIANT]",
                        help="clause id (or one variant of it, e.g. 'pin-coherence:R/O "
                             "longterm pin of never-written memory') not to report; repeatable")
    parser.add_argument("--db", metavar="DIR", default=None,
                        help="hypothesis example database directory (default .hypothesis/mmreview)")
    parser.add_argument("--no-db", action="store_true", help="do not store or replay findings")
    parser.add_argument("--json", action="store_true", help="print findings as JSON")


def _preset(name: str):
    # the spec loads when the command runs, not at start-up
    from spec.presets import PRESETS
    rules = PRESETS.get(name)
    if rules is None:
        raise InputError(f"--ruleset: unknown rule set {name!r} (known: {', '.join(PRESETS)})")
    return rules


def _file_name(f) -> str:
    """no-foreign-data, or no-foreign-data--foll_get-sees-process-write for a variant."""
    if not f.variant:
        return f.id
    slug = "".join(ch if ch.isalnum() else "-" for ch in f.variant.lower())
    return f"{f.id}--{'-'.join(p for p in slug.split('-') if p)}"


def run(args: argparse.Namespace) -> int:
    from review.fuzz.search import DEFAULT_DB, search  # hypothesis: only when fuzzing (start-up)

    if args.max_examples is not None and args.max_examples < 1:
        raise InputError("--max-examples must be at least 1")
    if args.budget is not None and args.budget <= 0:
        raise InputError("--budget must be positive")
    reported = f"fuzz reports: {', '.join(FUZZ_IDS)}"
    for item in args.exclude:
        cid = item.split(":", 1)[0]
        if cid not in FINDING_IDS:
            raise InputError(f"--exclude: unknown finding id {cid!r} ({reported})")
        if cid not in FUZZ_IDS:
            raise InputError(f"--exclude: {cid!r} is a finding of mmreview check, not of the "
                             f"fuzzer ({reported})")
    rules = _preset(args.ruleset)
    reference = _preset(args.against) if args.against else None
    if args.introduced and reference is None:
        raise InputError("--introduced needs --against REF (the rule set to compare with)")
    mode = "invariants" if reference is None else "introduced" if args.introduced else "differential"
    out = Path(args.out) if args.out else None
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"--out {args.out}: {exc.strerror or exc}") from None
    database = None if args.no_db else (args.db or DEFAULT_DB)
    progress = {}

    findings = search(rules, reference=reference, mode=mode, max_examples=args.max_examples,
                      budget=args.budget, seed=args.seed, database=database,
                      exclude=args.exclude, on_progress=progress.update)
    seed = progress.get("seed", args.seed)
    names = f"{reference.name} vs {rules.name}" if reference else rules.name
    summary = (f"{len(findings)} finding(s) on {names} in {progress.get('examples', 0)} traces, "
               f"{progress.get('elapsed', 0.0):.1f} s (seed {seed})")
    written = []
    for f in findings:
        if out is not None:
            path = out / f"{_file_name(f)}.json"
            trace = {"name": f"{f.id} on {' vs '.join(f.rulesets)}", "about": f.message,
                     "source": f"mmreview fuzz --ruleset {args.ruleset}"
                               + (f" --against {args.against}" if args.against else "")
                               + (" --introduced" if args.introduced else "")
                               + f" --seed {seed}", **f.trace}
            path.write_text(json.dumps(trace, indent=2) + "\n", encoding="utf-8")
            written.append(str(path))
    if args.json:
        json.dump({"summary": summary, "findings": [f.to_json() for f in findings],
                   "written": written}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for f, i in zip(findings, range(len(findings))):
            print(f.text())
            if written:
                print(f"  trace: {written[i]}")
            print()
        print(summary)
    return 1 if findings else 0
