"""`mmreview verify`: bounded exhaustive exploration with shortest counterexamples.

Exit codes: 0 verified to the requested depth (or the state space was exhausted
before it), 1 a violating trace was found (printed on stdout in the replay format),
2 bad usage, 3 incomplete: the state budget (--max-states) was reached first,
130 interrupted (Ctrl-C); the last two print the depth verified so far.
"""
from __future__ import annotations

import json
import signal
import sys

from mmreview.commands.replay import load_trace_json
from review.errors import InputError

HELP = "exhaustively explore every operation sequence up to a depth; print the shortest violating trace"

EXIT_INCOMPLETE = 3
EXIT_INTERRUPTED = 130


def add_arguments(parser) -> None:
    parser.add_argument("--ruleset", help="preset rule set (default: the --from trace's, or current)")
    parser.add_argument("--from", dest="start", metavar="TRACE",
                        help="explore from the end of this replay trace (JSON) instead of a fresh "
                             "mmap of the pages; its processes and references count against the bounds")
    parser.add_argument("--depth", type=int, required=True, metavar="N",
                        help="explore every sequence of up to N operations after the setup mmap")
    parser.add_argument("--processes", type=int, default=2, metavar="P",
                        help="process ids a trace may use; fork creates the next (default 2)")
    parser.add_argument("--pages", type=int, default=1, metavar="K",
                        help="pages the operations address, vpn 0..K-1 (default 1)")
    parser.add_argument("--thp", action="store_true",
                        help="map one THP (4 pages) instead of K small pages; ops address its first K pages")
    parser.add_argument("--pins", type=int, default=1, metavar="M",
                        help="reference ids for pins and FOLL_GET references (default 1)")
    parser.add_argument("--ops", metavar="LIST",
                        help="comma-separated operations of the alphabet (default: all but mmap, "
                             "poke, clear_softdirty, softdirty, mremap, swapoff, writeback, pte "
                             "and pfn)")
    parser.add_argument("--advice", metavar="LIST",
                        help="comma-separated madvise advices (default: all)")
    parser.add_argument("--pin-kinds", metavar="LIST",
                        help="comma-separated FOLL_PIN flavours: ro, rw, ro-longterm, rw-longterm, "
                             "ro-fast, rw-fast, ro-longterm-fast, rw-longterm-fast, rw-force "
                             "(default: the first four)")
    parser.add_argument("--only", metavar="IDS",
                        help="comma-separated clause/invariant ids: report only these (the shortest "
                             "trace breaking one of them); others do not stop the search")
    parser.add_argument("--max-states", type=int, default=2_000_000, metavar="S",
                        help="stop, incomplete, after storing S distinct states (default 2000000)")
    parser.add_argument("--full-symmetry", action="store_true",
                        help="also identify states that differ by an order of the live processes "
                             "(sound when no step depends on the rmap-walk order; see docs/verify.md)")
    parser.add_argument("--no-reduction", action="store_true",
                        help="apply every step of the alphabet in every state (no sleep sets: "
                             "the same states and shortest traces, more steps; see docs/verify.md)")
    parser.add_argument("--json", action="store_true",
                        help="print the whole result as JSON instead of the summary and trace")
    parser.add_argument("--all", action="store_true", dest="all_clauses",
                        help="go on past violations to the depth bound: the shortest trace of "
                             "every clause broken (stdout: a JSON list of traces)")
    parser.add_argument("--out", metavar="PATH",
                        help="also write the violating trace to the file PATH (with --all: one "
                             "file per clause, PATH/<ruleset>-<clause>.json, PATH a directory)")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")


def _split(text: str | None, what: str, known: tuple[str, ...]) -> tuple[str, ...] | None:
    if text is None:
        return None
    items = tuple(t.strip() for t in text.split(",") if t.strip())
    bad = [t for t in items if t not in known]
    if bad or not items:
        raise InputError(f"--{what}: unknown {', '.join(bad) or '(empty list)'}; "
                         f"known: {', '.join(known)}")
    return items


def _load_start(path: str):
    # the spec loads when the command runs, not at start-up
    from spec.errors import TraceError
    from spec.trace import parse_trace

    try:
        obj = load_trace_json(path)   # replay's reader: every broken file is one line
    except InputError as exc:
        raise InputError(f"--from {exc}") from None
    try:
        return parse_trace(obj)
    except TraceError as exc:
        raise InputError(f"--from {path}: {exc}") from None


def bounds_from_args(args, start=()):
    # the explorer and the spec load when the command runs, not at start-up
    from review.verify.model import ADVICES, ALL_OPS, DEFAULT_OPS, DEFAULT_PIN_KINDS, PIN_KINDS, \
        Bounds

    ops = _split(args.ops, "ops", ALL_OPS) or DEFAULT_OPS
    advices = _split(args.advice, "advice", ADVICES) or ADVICES
    pin_kinds = _split(args.pin_kinds, "pin-kinds", tuple(PIN_KINDS)) or DEFAULT_PIN_KINDS
    try:
        return Bounds(depth=args.depth, processes=args.processes, pages=args.pages,
                      thp=args.thp, pins=args.pins, ops=ops, advices=advices, pin_kinds=pin_kinds,
                      max_states=args.max_states, symmetry=args.full_symmetry, start=start)
    except ValueError as exc:
        raise InputError(f"bounds: {exc}") from None


def run(args) -> int:
    # the explorer and the spec load when the command runs, not at start-up
    from review.verify.model import StartError
    from review.verify.search import verify
    from spec.clauses import CLAUSES
    from spec.errors import TraceError
    from spec.presets import PRESETS
    from spec.run import rules_for

    trace = _load_start(args.start) if args.start else None
    name = args.ruleset or (trace.ruleset if trace is not None else "current")
    if name not in PRESETS:
        raise InputError(f"--ruleset {name!r}: unknown; known: {', '.join(PRESETS)}")
    rules = PRESETS[name]
    start = ()
    if trace is not None:
        try:
            rules = rules_for(trace, name)  # the trace's free-atom valuation, if any
        except TraceError as exc:
            raise InputError(f"--from {args.start}: {exc}") from None
        start = tuple(s.to_json() for s in trace.steps)
        if not start:
            raise InputError(f"--from {args.start}: the trace has no steps")
    bounds = bounds_from_args(args, start)
    only = _split(args.only, "only", tuple(CLAUSES))
    interrupted = []

    def on_sigint(signum, frame):  # first Ctrl-C: finish with the best result so far
        interrupted.append(True)
        signal.signal(signal.SIGINT, previous)

    def on_progress(p) -> None:
        if not args.quiet:
            rate = p.transitions / p.elapsed if p.elapsed else 0.0
            print(f"verify: depth {p.depth + 1}: {p.expanded}/{p.frontier} expanded, "
                  f"{p.states} distinct states, {p.transitions} steps, {rate:,.0f} steps/s, "
                  f"{p.elapsed:.0f}s", file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        result = verify(rules, bounds, clauses=only,
                        all_clauses=args.all_clauses, on_progress=on_progress,
                        should_stop=lambda: bool(interrupted), reduce=not args.no_reduction)
    except StartError as exc:
        raise InputError(f"--from {args.start}: {exc}") from None
    finally:
        if not interrupted:
            signal.signal(signal.SIGINT, previous)

    trace = result.replay_trace()
    if args.out and trace is not None:
        _write(args, result)
    if args.json:
        print(json.dumps(result.to_json(), indent=1))
    else:
        if args.all_clauses:
            traces = [f.trace for f in result.findings]
            print("[" + ",\n".join(format_trace(t) for t in traces) + "]")
            for f, t in zip(result.findings, traces):
                _print_steps(t, result)
                for v in f.violations:
                    print(f"verify: {v.id} after step {v.step}: {v.message}", file=sys.stderr)
        elif trace is not None:
            print(format_trace(trace))
            _print_steps(trace, result)
            for v in result.violations:
                print(f"verify: {v.id} after step {v.step}: {v.message}", file=sys.stderr)
        to = sys.stderr if trace is not None or args.all_clauses else sys.stdout
        print(f"verify: {result.summary()}", file=to)
    if result.status == "violation" or result.findings:
        return 1
    if result.status == "max_states":
        return EXIT_INCOMPLETE
    if result.status == "stopped":
        return EXIT_INTERRUPTED
    return 0


def _write(args, result) -> None:
    import os

    try:
        if not args.all_clauses:
            with open(args.out, "w", encoding="utf-8") as fh:
                fh.write(format_trace(result.replay_trace()) + "\n")
            return
        os.makedirs(args.out, exist_ok=True)
        for f in result.findings:
            path = os.path.join(args.out, f"{result.rules}-{f.id}.json")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(format_trace(f.trace) + "\n")
    except OSError as exc:
        raise InputError(f"--out {args.out}: {exc.strerror}") from None


def format_trace(trace: dict) -> str:
    """The replay JSON with one step a line: easy to read, diff and edit by hand."""
    head = {k: v for k, v in trace.items() if k != "steps"}
    lines = [json.dumps(head)[:-1] + ', "steps": [']
    steps = trace["steps"]
    for i, step in enumerate(steps):
        lines.append("  " + json.dumps(step) + ("," if i < len(steps) - 1 else ""))
    lines.append("]}")
    return "\n".join(lines)


def _print_steps(trace: dict, result) -> None:
    # the spec loads when the command runs, not at start-up
    from spec.trace import format_step, parse_step

    setup = len(result.bounds.setup())
    for i, obj in enumerate(trace["steps"]):
        where = "setup" if i < setup else f"{i - setup + 1:5}"
        print(f"verify: {where:>5}  {format_step(parse_step(obj, i))}", file=sys.stderr)
