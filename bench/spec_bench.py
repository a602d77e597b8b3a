"""Spec and fuzzer throughput, on demand (not part of the test suite).

    .venv/bin/python bench/spec_bench.py [--quick]

Prints:
  1. replay throughput: steps/s of spec.run.Session (kernel model + contract +
     invariants) over the traces a fuzz run on `current` drew (target >= 100,000),
     best of 5 passes after a warm-up pass, by CPU time (what the spec costs) and by
     wall time (which other jobs on a shared machine inflate);
  2. hypothesis-driven steps/s: the same fuzz run end to end (wall and CPU time);
  3. the spec's share of fuzzing time: time inside Session.step and the probes' peeks
     over the whole search (target < 1/3);
  4. hypothesis's floor: the same data-driven loop (given(st.data()), a swarm menu,
     then per step the continue flag, the kind and two arguments) with no spec behind
     it, every choice drawn from hypothesis, in steps/s of CPU time, and the fuzzer's
     ratio to it; beside it the loop drawn as the fuzzer draws (a seed per example
     from hypothesis, the choices from a seeded generator), the fuzzer's own ceiling;
  5. median time to first finding over 15 seeds for each preset bug, wall and CPU, and
     over the first 5 (the measure this bench began with)
     (target < 1 s), and the trace lengths after shrinking next to the known length
     (the shortest trace known to show it: the scenarios' and earlier shrinks').
  6. the mutation summary of bench/mutants.py (bugs nobody wrote down: how many
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

from hypothesis import HealthCheck, Phase, Verbosity, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import mutants  # noqa: E402
from bench_util import time_to_first as first_finding  # noqa: E402
from review.fuzz import search as fuzz  # noqa: E402
from review.fuzz.strategies import MAX_STEPS, P_CONTINUE, Choices, World, draw_menu, draw_seed  # noqa: E402
from spec.kernel import Kernel  # noqa: E402
from spec.presets import PRESETS  # noqa: E402
from spec.run import Session  # noqa: E402
from spec.trace import parse_trace  # noqa: E402

# (preset, clause, variant, known length, other routes): the must-show bugs first. The
# known length is the shortest trace known to show the bug (a scenario's, or the
# shrinks of earlier runs): a longer shrunk trace is a detour the shrink could not
# remove, or another route to the same (clause, variant) whose own shortest trace is
# longer (the shrink does not move between routes); the last field names those.
BUGS = [("v5.7", "no-foreign-data", "FOLL_GET sees process write", 6,    # CVE-2020-29374
         "7 with the CVE's R/O reference taken in the child; 6 with a R/W one taken before fork"),
        ("v5.9", "pin-coherence", "R/O pin", 6, ""),                      # COW fixes part 2
        ("v5.8", "pin-coherence", "R/W pin", 5, ""),                      # early COW at fork
        ("v5.9", "pin-coherence", "R/W pin", 4,                           # pinned page in swap cache
         "4 through FOLL_FORCE on a R/O mapping and a poke; 5 through clear_softdirty; 6 through swap"),
        ("v5.18", "pin-coherence", "R/O pin", 6, ""),
        ("v5.19", "pin-coherence", "R/O longterm pin of never-written memory", 4, ""),  # fixed v6.2
        # the later vocabulary (files, hugetlb, soft-dirty, swapoff)
        ("v5.19", "softdirty", "shared mapping", 7, ""),   # mprotect upgrade, fixed v6.0 (76aefad628aa)
        ("v5.18", "softdirty", "private mapping", 6, ""),  # swapoff drops the bit, fixed v5.19 (14a762dd1977)
        ("v5.9", "pin-coherence", "R/W pin of hugetlb", 5, "")]  # fork shares a pinned hugetlb page, fixed v5.12 (4eae4efa2c29)


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


def fuzz_share(examples: int) -> tuple[list, float, int, float, float]:
    """Run a search on current with timers around the spec; return the traces drawn,
    total seconds, steps, seconds spent inside the spec, and CPU seconds."""
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
        t0, c0 = time.perf_counter(), time.process_time()
        fuzz.search(PRESETS["current"], seed=7, max_examples=examples, database=None,
                    on_progress=progress.update, _record=traces)
        total, cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        Session.step, fuzz._Runner.probe = real_step, real_probe
    return traces, total, progress.get("steps", 0), spent[0], cpu


class PerChoice:
    """Choices drawn one by one from hypothesis's choice sequence (what st.integers and
    st.booleans draw through), as a hypothesis state machine draws its rules and
    arguments: the floor's way of drawing."""

    def __init__(self, hypothesis_data):
        cd = hypothesis_data.conjecture_data
        self.index = lambda n: 0 if n <= 1 else cd.draw_integer(0, n - 1)
        self.flag = cd.draw_boolean


def hypothesis_floor(examples: int, per_choice: bool = True) -> float:
    """Steps/s of CPU time of the fuzzer's data-driven loop with nothing behind it:
    given(st.data()), the swarm menu, then per step the continue flag, the kind and two
    arguments (an mm and a page), as many steps as the fuzzer would draw. per_choice:
    every choice drawn from hypothesis (the floor of a hypothesis-driven state machine);
    else as the fuzzer draws (one seed per example from hypothesis, TRACES_PER_EXAMPLE
    traces from seeded generators: the fuzzer cannot go faster than that)."""
    steps = [0]

    def one_trace(data) -> None:
        menu = draw_menu(data, World())
        for _ in range(MAX_STEPS):
            if not data.flag(P_CONTINUE):
                break
            data.index(len(menu))
            data.index(4)
            data.index(8)
            steps[0] += 1

    def loop(hypothesis_data):
        if per_choice:
            one_trace(PerChoice(hypothesis_data))
            return
        base = draw_seed(hypothesis_data)
        for j in range(fuzz.TRACES_PER_EXAMPLE):
            one_trace(Choices(base * fuzz.TRACES_PER_EXAMPLE + j))

    test = settings(max_examples=examples, database=None, deadline=None,
                    verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck),
                    phases=(Phase.generate,))(given(st.data())(loop))
    c0 = time.process_time()
    test()
    return steps[0] / (time.process_time() - c0)


def time_to_first(preset: str, clause: str, variant: str, seed: int,
                  cap: float) -> tuple[float | None, int, float | None]:
    """Wall seconds to the first report of the bug (shrunk), its length, CPU seconds."""
    at, f, cpu = first_finding(PRESETS[preset], lambda f: (f.id, f.variant) == (clause, variant),
                               seed=seed, cap=cap)
    return at, len(f.trace["steps"]) if f is not None else 0, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer examples and seeds")
    ap.add_argument("--no-mutants", dest="mutants", action="store_false",
                    help="leave out the mutation summary")
    a = ap.parse_args()
    examples = 300 if a.quick else 1000
    # 15 seeds: a median over 5 moved by up to three times between sets of seeds
    seeds = range(1, 3 if a.quick else 16)

    traces, total, steps, spec_time, fuzz_cpu = fuzz_share(examples)
    print(f"fuzz (current, {examples} examples): {steps} steps in {total:.2f} s = "
          f"{steps / total:,.0f} hypothesis-driven steps/s ({steps / fuzz_cpu:,.0f} steps/s of "
          f"CPU time)")
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
    floor = hypothesis_floor(examples)
    ceiling = hypothesis_floor(examples // fuzz.TRACES_PER_EXAMPLE, per_choice=False)
    rate = steps / fuzz_cpu
    print(f"hypothesis floor (the same data-driven loop, no spec, every choice drawn from "
          f"hypothesis; {examples} examples): {floor:,.0f} steps/s of CPU time; the fuzzer "
          f"runs at {rate / floor:.2f} times it")
    print(f"the loop drawn as the fuzzer draws (one seed per example, "
          f"{fuzz.TRACES_PER_EXAMPLE} traces from it, no spec): "
          f"{ceiling:,.0f} steps/s of CPU time; the fuzzer runs at 1/{ceiling / rate:.1f} of it")
    for preset, clause, variant, known, routes in BUGS:
        times, cpus, lens, missed = [], [], [], 0
        for s in seeds:
            at, n, c = time_to_first(preset, clause, variant, s, cap=30.0)
            if at is None:
                missed += 1
            else:
                times.append(at)
                cpus.append(c)
                lens.append(n)
        med = f"{statistics.median(times):.2f} s" if times else "-"
        cpu_med = f"{statistics.median(cpus):.2f} s" if cpus else "-"
        first5 = times[:5]
        med5 = (f" ({statistics.median(first5):.2f} s over seeds 1..5)"
                if len(times) > 5 and len(first5) == 5 else "")
        print(f"time to first {clause} [{variant}] on {preset}: median {med} over {len(times)} seeds"
              f"{med5}{f' ({missed} not found in 30 s)' if missed else ''}, CPU {cpu_med}; "
              f"shrunk lengths {lens}, known {known}" + (f" ({routes})" if routes else ""))
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
