"""Mutation benchmark: does the fuzzer find bugs nobody wrote down?

    .venv/bin/python bench/mutants.py [--preset v5.9] [--preset current] [--budget 10]
        [--seed 0] [--limit N] [--jobs 1] [--depth D] [--explain DEPTH] [--quick]

For each preset (default: v5.9 and current): every mutant of every decision point
(bench/mutation.py: a conjunct or disjunct dropped, an atom negated, a mapcount test
swapped for a refcount test, a boundary shifted, a returned outcome replaced), then
  1. equivalence (bench/equivalence.py): the mutant and the preset side by side over
     every trace up to --depth steps; no observable difference: "equivalent within
     depth D", not counted; the state budget spent first: "undecided", fuzzed and
     counted (and reported apart);
  2. the fuzzer on each other mutant (`mmreview fuzz --ruleset MUTANT --against PRESET
     --introduced`: a clause the mutant breaks where the preset, stepped on the same
     trace, does not; --budget seconds, seed --seed, no example database) up to its
     first finding. The preset's own bugs (v5.9 has some) are turned away trace by
     trace, not by clause or variant, so a mutant that breaks the same clause in a new
     way is still killed; the shrunk trace is replayed under the preset once more.

One line per mutant (killed by which clause and variant, time to the kill, shrunk
trace length, and the length of the shortest observable difference the equivalence
pass found: what a differential search could have shown; with --explain, for each
survivor the shortest trace within that depth on which it breaks a clause the preset
does not), then per preset:
    mutants: killed K of N non-equivalent, median time to kill T s
and a line with what was generated, equivalent and undecided, and the targets.
"""
from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_util import time_to_first  # noqa: E402
from equivalence import equivalence, fields_read, shortest_kill  # noqa: E402
from mutation import Mutant, mutants, reached  # noqa: E402
from review.findings import Finding  # noqa: E402
from spec.decisions import RuleSet  # noqa: E402
from spec.errors import TraceError  # noqa: E402
from spec.presets import PRESETS  # noqa: E402
from spec.run import run_trace  # noqa: E402
from spec.trace import parse_trace  # noqa: E402

DEFAULT_PRESETS = ("v5.9", "current")
DEPTH = 5          # equivalence bound: a few minutes per preset on the shared machine
TARGET_KILLED = 0.9
TARGET_SECONDS = 1.0


@dataclass(frozen=True)
class Outcome:
    """What became of one mutant (plain values: it crosses process boundaries)."""
    label: str
    status: str                # "equivalent" | "killed" | "survived"
    undecided: bool = False    # equivalence ran out of states (fuzzed all the same)
    clause: str = ""
    variant: str = ""
    seconds: float | None = None
    steps: int = 0             # the shrunk trace's length
    difference: int = 0        # the shortest observable difference's length (0: none found)
    hint: str = ""             # a survivor: the shortest killing trace (--explain), or why none
    killable: bool = False     # a survivor that --explain found a killing trace for

    def line(self, depth: int) -> str:
        status = f"{self.status}{' (undecided)' if self.undecided else ''}"
        if self.status == "equivalent":
            return f"{status:<22} {self.label}  (no difference within depth {depth})"
        diff = f"; differs after {self.difference} steps" if self.difference else \
            f"; no difference within depth {depth}" if self.undecided else ""
        if self.status == "killed":
            by = self.clause + (f" [{self.variant}]" if self.variant else "")
            return (f"{status:<22} {self.label}  by {by} in {self.seconds:.2f} s, "
                    f"{self.steps} steps{diff}")
        hint = f"\n{'':<24}{self.hint}" if self.hint else ""
        return f"{status:<22} {self.label}  nothing new found{diff}{hint}"


@dataclass(frozen=True)
class Summary:
    preset: str
    generated: int
    equivalent: int
    undecided: int
    killed: int
    counted: int            # non-equivalent mutants (undecided ones included)
    median: float | None    # median time to kill
    budget: float
    depth: int
    explain: int = 0        # the --explain depth (0: survivors not explained)
    killable: int = 0       # survivors with a killing trace within that depth

    def lines(self) -> list[str]:
        med = f"{self.median:.2f}" if self.median is not None else "-"
        share = self.killed / self.counted if self.counted else 0.0
        out = [f"mutants: killed {self.killed} of {self.counted} non-equivalent, "
               f"median time to kill {med} s",
               f"  {self.preset}: {self.generated} generated, {self.equivalent} equivalent "
               f"within depth {self.depth}, {self.undecided} undecided (fuzzed and counted); "
               f"killed {share:.0%}; budget {self.budget:g} s per mutant; targets: killed "
               f">= {TARGET_KILLED:.0%} with a 10 s budget, median under {TARGET_SECONDS:g} s"]
        if self.explain:
            safe = self.counted - self.killed - self.killable
            out.append(f"  survivors: {self.killable} with a killing trace within depth "
                       f"{self.explain} (the fuzzer's misses), {safe} without (only a "
                       f"differential search tells them apart)")
        return out


# ---------------------------------------------------------------- one mutant
def counts_against(original: RuleSet) -> Callable[[Finding], bool]:
    """Whether a finding on a mutant kills it: the preset, replaying the same trace,
    does not break the same clause (a trace the preset cannot replay kills too)."""
    def kills(f: Finding) -> bool:
        try:
            report = run_trace(parse_trace(f.trace), original)
        except TraceError:
            return True
        return f.id not in report.clauses
    return kills


def judge(m: Mutant, original: RuleSet, *, budget: float, seed: int, depth: int,
          explain: int = 0) -> Outcome:
    """Equivalence, then the fuzzer; for a survivor, with `explain`, the shortest trace
    that kills it within that depth."""
    fields = fields_read(reached(original.decide[m.point]))
    verdict = equivalence(m.rules, original, m.point, fields, depth=depth)
    if verdict.status == "equivalent":
        return Outcome(m.label, "equivalent")
    at, f, _ = time_to_first(m.rules, counts_against(original), seed=seed, cap=budget,
                             reference=original)
    undecided = verdict.status == "undecided"
    if f is None:
        hint = explained(m, original, fields, explain) if explain else ""
        return Outcome(m.label, "survived", undecided, difference=verdict.steps, hint=hint,
                       killable=hint.startswith("killed"))
    return Outcome(m.label, "killed", undecided, f.id, f.variant, at,
                   len(f.trace["steps"]), verdict.steps)


def explained(m: Mutant, original: RuleSet, fields: set[str], depth: int) -> str:
    clause, trace, why = shortest_kill(m.rules, original, m.point, fields, depth=depth)
    if trace is None:
        return f"no trace kills it within depth {depth} ({why})"
    steps = "; ".join(" ".join([s["op"]] + [f"{k}={v}" for k, v in s.items() if k != "op"])
                      for s in trace)
    return f"killed by {clause} within depth {depth}: {steps}"


# Worker processes (--jobs) are forked with the mutants of the preset at hand: compiled
# mutant functions do not pickle, so a worker is handed an index.
_JOB: dict = {}


def _judge_index(i: int) -> Outcome:
    return judge(_JOB["mutants"][i], _JOB["original"], **_JOB["args"])


# ---------------------------------------------------------------- one preset
def sample(items: list, limit: int | None) -> list:
    """At most `limit` items, evenly spread (so every decision point has its share)."""
    if limit is None or limit >= len(items):
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def run_preset(name: str, *, budget: float, seed: int, depth: int = DEPTH,
               limit: int | None = None, jobs: int = 1, explain: int = 0,
               out: Callable[[str], None] | None = print) -> Summary:
    """Mutate, filter and fuzz one preset; `out` gets one line per mutant (None: quiet)."""
    original = PRESETS[name]
    all_mutants = mutants(original)
    chosen = sample(all_mutants, limit)
    args = {"budget": budget, "seed": seed, "depth": depth, "explain": explain}
    _JOB.update(mutants=chosen, original=original, args=args)
    if jobs > 1:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            outcomes = _report(pool.imap(_judge_index, range(len(chosen))), depth, out)
    else:
        outcomes = _report(map(_judge_index, range(len(chosen))), depth, out)
    kills = [o.seconds for o in outcomes if o.status == "killed"]
    counted = [o for o in outcomes if o.status != "equivalent"]
    return Summary(name, len(chosen), len(outcomes) - len(counted),
                   sum(o.undecided for o in outcomes), len(kills), len(counted),
                   statistics.median(kills) if kills else None, budget, depth, explain, sum(o.killable for o in outcomes))


def _report(outcomes, depth: int, out) -> list[Outcome]:
    done = []
    for o in outcomes:
        done.append(o)
        if out is not None:
            out(o.line(depth))
    return done


# ---------------------------------------------------------------- command line
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="mutants of the decision points, and how many "
                                             "the fuzzer kills")
    ap.add_argument("--preset", action="append", help="preset to mutate (repeatable; "
                    f"default: {' and '.join(DEFAULT_PRESETS)})")
    ap.add_argument("--budget", type=float, default=10.0, help="fuzz seconds per mutant")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, help="at most N mutants per preset, evenly spread")
    ap.add_argument("--jobs", type=int, default=1, help="mutants judged in parallel")
    ap.add_argument("--depth", type=int, default=DEPTH, help="equivalence bound (steps)")
    ap.add_argument("--explain", type=int, default=0, metavar="DEPTH",
                    help="for each survivor, the shortest killing trace within DEPTH steps")
    ap.add_argument("--quick", action="store_true", help="--limit 12 --budget 3")
    a = ap.parse_args(argv)
    if a.quick:
        a.limit = a.limit or 12
        a.budget = min(a.budget, 3.0)
    a.preset = a.preset or list(DEFAULT_PRESETS)
    unknown = [p for p in a.preset if p not in PRESETS]
    if unknown:
        print(f"mutants: unknown preset {unknown[0]!r} (known: {', '.join(PRESETS)})",
              file=sys.stderr)
        sys.exit(2)
    if a.budget <= 0 or a.jobs < 1 or a.depth < 1 or a.explain < 0 or \
            (a.limit is not None and a.limit < 1):
        print("mutants: --budget, --jobs, --depth, --explain and --limit must be positive",
              file=sys.stderr)
        sys.exit(2)
    return a


def main(argv: list[str] | None = None) -> None:
    a = parse_args(argv)
    for name in a.preset:
        t0 = time.perf_counter()
        print(f"{name}: mutants of every decision point (equivalence within depth {a.depth}, "
              f"fuzz budget {a.budget:g} s, seed {a.seed})", flush=True)
        summary = run_preset(name, budget=a.budget, seed=a.seed, depth=a.depth,
                             limit=a.limit, jobs=a.jobs, explain=a.explain,
                             out=lambda line: print(f"  {line}", flush=True))
        for line in summary.lines():
            print(line)
        print(f"  ({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
