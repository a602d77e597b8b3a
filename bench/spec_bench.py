"""Spec and fuzzer throughput, on demand (not part of the test suite).

    .venv/bin/python bench/spec_bench.py [--quick]

Prints:
  1. replay throughput: steps/s of spec.run.Session (kernel model + contract +
     invariants) over the traces a fuzz run on `current` drew (target >= 100,000),
     best of 5 passes after a warm-up pass, by CPU time (what the spec costs) and by
     wall time (which other jobs on a shared machine inflate);
  2. hypothesis-driven steps/s: the same fuzz run end to end;
  3. the spec's share of fuzzing time: time inside Session.step and the probes' peeks
     over the whole search (target < 1/3);
  4. median time to first finding over 5 seeds for each preset bug (and the trace
     length after shrinking);
  5. the mutation summary of bench/mutants.py (bugs nobody wrote down: how many
     mutants of the decision points the fuzzer kills, how fast) on a spread sample of
     each preset's mutants (--no-mutants leaves it out).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import mutants  # noqa: E402
from bench_util import time_to_first as first_finding  # noqa: E402
from review.fuzz import search as fuzz  # noqa: E402
from spec.kernel import Kernel  # noqa: E402
from spec.presets import PRESETS  # noqa: E402
from spec.run import Session  # noqa: E402
from spec.trace import parse_trace  # noqa: E402

# (preset, clause, variant): the must-show bugs first
BUGS = [("v5.7", "no-foreign-data", "FOLL_GET sees process write"),   # CVE-2020-29374
        ("v5.9", "pin-coherence", "R/O pin"),                          # COW fixes part 2
        ("v5.8", "pin-coherence", "R/W pin"),                          # early COW at fork
        ("v5.9", "pin-coherence", "R/W pin"),                          # pinned page in swap cache
        ("v5.18", "pin-coherence", "R/O pin"),
        ("v5.19", "pin-coherence", "R/O longterm pin of never-written memory"),  # fixed v6.2
        # the later vocabulary (files, hugetlb, soft-dirty, swapoff)
        ("v5.19", "softdirty", "shared mapping"),         # mprotect upgrade, fixed v6.0 (76aefad628aa)
        ("v5.18", "softdirty", "private mapping"),        # swapoff drops the bit, fixed v5.19 (14a762dd1977)
        ("v5.9", "pin-coherence", "R/W pin of hugetlb")]  # fork shares a pinned hugetlb page, fixed v5.12 (4eae4efa2c29)


def replay_throughput(traces, rules, repeat: int, what: str = "session",
                      clock=time.perf_counter) -> float:
    """steps/s of: the whole Session ("session"), the Session without the internal
    invariants ("no-invariants"), or the kernel model alone ("kernel"). One untimed
    pass first (the interpreter specialises hot code on first runs), then the best of
    `repeat` timed passes by `clock` (perf_counter: wall time; process_time: CPU time
    of this process, which a machine shared with other jobs does not inflate)."""
    parsed = [parse_trace(t).steps for t in traces]
    n = sum(len(s) for s in parsed)

    def one_pass() -> None:
        for steps in parsed:
            if what == "kernel":
                k = Kernel(rules)
                for st in steps:
                    k.apply(st.op, st.args)
                continue
            s = Session(rules, check_invariants=(what == "session"))
            for st in steps:
                s.step(st)

    one_pass()
    best = float("inf")
    for _ in range(repeat):
        t0 = clock()
        one_pass()
        best = min(best, clock() - t0)
    return n / best


def fuzz_share(examples: int) -> tuple[list, float, int, float]:
    """Run a search on current with timers around the spec; return the traces drawn,
    total seconds, steps, and seconds spent inside the spec."""
    spent = [0.0]
    real_step, real_probe = Session.step, fuzz._Runner.probe

    def timed_step(self, step):
        t = time.perf_counter()
        try:
            return real_step(self, step)
        finally:
            spent[0] += time.perf_counter() - t

    def timed_probe(self):
        t = time.perf_counter()
        try:
            return real_probe(self)
        finally:
            spent[0] += time.perf_counter() - t

    traces: list = []
    progress: dict = {}
    Session.step, fuzz._Runner.probe = timed_step, timed_probe
    try:
        t0 = time.perf_counter()
        fuzz.search(PRESETS["current"], seed=7, max_examples=examples, database=None,
                    on_progress=progress.update, _record=traces)
        total = time.perf_counter() - t0
    finally:
        Session.step, fuzz._Runner.probe = real_step, real_probe
    return traces, total, progress.get("steps", 0), spent[0]


def time_to_first(preset: str, clause: str, variant: str, seed: int,
                  cap: float) -> tuple[float | None, int]:
    """Seconds to the first finding of (clause, variant) on `preset`, and its shrunk length."""
    at, f = first_finding(PRESETS[preset], lambda f: (f.id, f.variant) == (clause, variant),
                          seed=seed, cap=cap)
    return at, len(f.trace["steps"]) if f is not None else 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer examples and seeds")
    ap.add_argument("--no-mutants", dest="mutants", action="store_false",
                    help="leave out the mutation summary")
    a = ap.parse_args()
    examples = 300 if a.quick else 1000
    seeds = range(1, 3 if a.quick else 6)

    traces, total, steps, spec_time = fuzz_share(examples)
    print(f"fuzz (current, {examples} examples): {steps} steps in {total:.2f} s = "
          f"{steps / total:,.0f} hypothesis-driven steps/s")
    print(f"spec share of fuzzing time: {spec_time:.2f} s of {total:.2f} s = "
          f"{spec_time / total:.0%} (target < 33%)")
    for what in ("session", "no-invariants", "kernel"):
        cpu = replay_throughput(traces, PRESETS["current"], 5, what, time.process_time)
        wall = replay_throughput(traces, PRESETS["current"], 5, what, time.perf_counter)
        label = {"session": "kernel + contract + invariants", "no-invariants":
                 "kernel + contract", "kernel": "kernel model alone"}[what]
        print(f"replay throughput, {label} (current, {len(traces)} fuzz traces, best of 5): "
              f"{cpu:,.0f} steps/s of CPU time, {wall:,.0f} steps/s of wall time"
              + (" (target >= 100,000)" if what == "session" else ""))
    for preset, clause, variant in BUGS:
        times, lens, missed = [], [], 0
        for s in seeds:
            at, n = time_to_first(preset, clause, variant, s, cap=30.0)
            if at is None:
                missed += 1
            else:
                times.append(at)
                lens.append(n)
        med = f"{statistics.median(times):.2f} s" if times else "-"
        print(f"time to first {clause} [{variant}] on {preset}: median {med} over {len(times)} seeds"
              f"{f' ({missed} not found in 30 s)' if missed else ''}; shrunk lengths {lens}")
    if a.mutants:
        mutation_summary(limit=8 if a.quick else 20, budget=3.0 if a.quick else 10.0)


def mutation_summary(limit: int, budget: float) -> None:
    """bench/mutants.py's summary lines per preset, on `limit` mutants spread over the
    decision points (the whole run is bench/mutants.py)."""
    for name in mutants.DEFAULT_PRESETS:
        summary = mutants.run_preset(name, budget=budget, seed=0, limit=limit, out=None)
        print(f"mutation sample of {name} ({limit} of its mutants):")
        for line in summary.lines():
            print(line)


if __name__ == "__main__":
    main()
