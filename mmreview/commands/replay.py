"""mmreview replay TRACE.json [--ruleset NAME]: run a trace on the spec.

Prints JSON on stdout: each step's result and every contract or invariant violation
(id, kind, step, message), each clause once (its first occurrence). Exit 0 when
nothing was violated, 1 when something was, 2 for a malformed trace (one line on
stderr naming the file and the step). `-` reads the trace from stdin.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from review.errors import InputError

HELP = "replay a trace (JSON) on the spec and print each step's result and every violation"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("trace", metavar="TRACE.json", help="the trace file, or - for stdin")
    parser.add_argument("--ruleset", metavar="NAME",
                        help="rule set to run (default: the trace's own 'ruleset')")


def load_trace_json(path: str) -> Any:
    """The decoded JSON of `path` ('-' for stdin); InputError naming the file."""
    name = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as f:
                text = f.read()
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"{name}: not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise InputError(f"{name}: JSON nested too deeply") from None
    except ValueError:  # Python's bound on the digits of an integer it converts
        raise InputError(f"{name}: a number of more than {sys.get_int_max_str_digits()} digits") from None


def replay(obj: Any, name: str, ruleset: str | None = None):
    """Parse and run a decoded trace; TraceError becomes InputError naming `name`."""
    # the spec loads when the command runs, not at start-up
    from spec.errors import TraceError
    from spec.run import rules_for, run_trace
    from spec.trace import parse_trace

    try:
        trace = parse_trace(obj)
    except TraceError as exc:
        raise InputError(f"{name}: {exc}") from None
    if ruleset is None and "@" in trace.ruleset:
        # PRESET+post@KEY: a patch's extracted rules, which only the patch can supply
        source = obj.get("source") if isinstance(obj, dict) else None
        raise InputError(
            f"{name}: rule set {trace.ruleset!r} is a patch's extracted rules, written by "
            f"mmreview check{f' for {source}' if isinstance(source, str) else ''}: replay it "
            "with `mmreview check INPUT --patch N --replay FILE` (or pass --ruleset PRESET)")
    try:
        return run_trace(trace, rules_for(trace, ruleset))
    except TraceError as exc:
        raise InputError(f"{name}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    name = "<stdin>" if args.trace == "-" else args.trace
    report = replay(load_trace_json(args.trace), name, args.ruleset)
    out = {"trace": name, **report.to_json()}
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 1 if report.violations else 0
