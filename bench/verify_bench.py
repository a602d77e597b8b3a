"""Benchmark of `mmreview verify` (run on demand; not part of the test suite).

For each preset: distinct states per second, steps (transitions) per second, states
per depth, and memory: peak RSS of a fresh process per run, divided by the states it
stored, as MB per million states. Each run is a separate interpreter so that runs do
not share memory or caches.

    .venv/bin/python bench/verify_bench.py                       # every preset, default bounds
    .venv/bin/python bench/verify_bench.py --presets current --depth 6 --processes 2 --pages 2 --pins 1
    .venv/bin/python bench/verify_bench.py --presets current --profile   # where the time goes
    .venv/bin/python bench/verify_bench.py --no-reduction                # without sleep sets
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import subprocess
import sys
import time
import tracemalloc
from array import array

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from review.verify import canon  # noqa: E402  (after the path set-up above)
from review.verify.model import ALL_OPS, DEFAULT_OPS, Bounds, SpecModel  # noqa: E402
from review.verify.search import verify  # noqa: E402
from spec import invariants  # noqa: E402
from spec.presets import PRESETS  # noqa: E402

PRESET_NAMES = ("v5.7", "v5.8", "v5.9", "v5.18", "v5.19", "current")


def _bounds(args):
    ops = tuple(args.ops.split(",")) if args.ops else DEFAULT_OPS
    assert set(ops) <= set(ALL_OPS), ops
    return Bounds(depth=args.depth, processes=args.processes, pages=args.pages, thp=args.thp,
                  pins=args.pins, ops=ops, max_states=args.max_states,
                  symmetry=args.full_symmetry)


def one(args) -> dict:
    """Run one preset in this process; return the numbers. The search goes on past
    violations (all_clauses), so the numbers cover the whole bounded space of every
    preset, and the shortest trace of each clause broken is reported beside them."""
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    cpu = time.process_time()
    r = verify(PRESETS[args.one], _bounds(args), all_clauses=True, reduce=not args.no_reduction)
    wall = time.perf_counter() - t
    # CPU time of this process: on a shared machine wall time says more about the
    # neighbours than about the explorer. One core: the explorer is single-threaded.
    elapsed = time.process_time() - cpu
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"preset": args.one, "status": r.status, "summary": r.summary(),
            "findings": {f.id: f.length for f in r.findings},
            "explored": "complete" if r.complete else r.status,
            "depth": r.bounds.depth if r.complete else r.depth_verified,
            "states": r.states, "transitions": r.transitions,
            "states_per_depth": r.states_per_depth,
            "cpu_seconds": round(elapsed, 3), "wall_seconds": round(wall, 3),
            "states_per_s": round(r.states / elapsed) if elapsed else 0,
            "steps_per_s": round(r.transitions / elapsed) if elapsed else 0,
            "rss_growth_mb": round((rss1 - rss0) / 1024, 1),
            "mb_per_million_states": round((rss1 - rss0) / 1024 / r.states * 1e6, 1) if r.states else 0}


def profile(args) -> None:
    prof = cProfile.Profile()
    prof.enable()
    r = verify(PRESETS[args.presets.split(",")[0]], _bounds(args), reduce=not args.no_reduction)
    prof.disable()
    print(r.summary())
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)


def breakdown(args) -> None:
    """CPU microseconds per explored step, by part, over a sample of reachable states
    (least of 5 repeats, process time): where a step of the search goes; then the
    memory a state takes, stored and on the frontier."""
    model = SpecModel(PRESETS[args.presets.split(",")[0]], _bounds(args), fast_same=False)
    sample = _sample_states(model, args.depth)
    pairs = [(s, st) for s in sample for st, _, _ in model.alphabet(s[1])[::5]]
    rows = _step_parts(model, sample, pairs)
    print(f"{len(sample)} states, {len(pairs)} (state, step) pairs; CPU microseconds:")
    for name, us in rows:
        print(f"  {name:52} {us:7.1f}")
    parts = dict(rows)
    changing = parts[_CHANGING]
    unchanging = parts[_UNCHANGING]
    print(f"  => {1e6 / changing:,.0f} changing / {1e6 / unchanging:,.0f} "
          f"unchanging steps/s on one core")
    print("memory, bytes per state (tracemalloc):")
    for name, b in _bytes_per_state(model, sample):
        print(f"  {name:52} {b:7.0f}")


def _sample_states(model, depth: int) -> list:
    """Up to 600 reachable states: about 300 a level of a breadth-first walk to
    depth 4 at most, the deepest last."""
    root, _, _ = model.initial()
    level, sample = [root], []
    for _ in range(min(depth, 4)):
        nxt = [c for s in level for _, c, _ in model.successors(s) if c is not None]
        level = nxt[:: max(1, len(nxt) // 300)]
        sample.extend(level)
    return sample[-600:]


def _best(fn, items) -> float:
    """CPU microseconds of fn per item: the least of 5 runs over `items`."""
    times = []
    for _ in range(5):
        t = time.process_time()
        for x in items:
            fn(x)
        times.append(time.process_time() - t)
    return min(times) / len(items) * 1e6


_CHANGING = "per step that changed the state: clone + step + key"
_UNCHANGING = "per step that changed nothing: step + unchanged (its clone is reused)"


def _step_parts(model, sample: list, pairs: list) -> list[tuple[str, float]]:
    """(part of a step, CPU microseconds) rows."""
    def step_only(pair):
        s, st = pair
        c = s[0].clone()
        canon.apply(c, st)

    def kernel_only(pair):
        s, st = pair
        k = s[0].kernel.clone()
        try:
            k.apply(st.op, st.args)
        except Exception:
            pass

    # clones measured over the same (state, step) pairs as the steps they precede
    clone = _best(lambda p: p[0][0].clone(), pairs)
    kclone = _best(lambda p: p[0][0].kernel.clone(), pairs)
    step = _best(step_only, pairs) - clone
    kapply = _best(kernel_only, pairs) - kclone
    raw = _best(lambda s: model.keyer.raw(*s), sample)
    key = _best(model.key, sample)
    inv = _best(lambda s: invariants.check(s[0].kernel), sample)
    twins = [(s[0], s[0].clone()) for s in sample]
    same = _best(lambda t: canon.unchanged(*t), twins)
    pk = _best(model.pack, sample)
    packed = [model.pack(s) for s in sample]
    unpk = _best(model.unpack, packed)
    return [
        ("Session.clone (kernel state + contract)", clone),
        ("  of which Kernel.clone", kclone),
        ("Session.step without invariants", step),
        ("  of which Kernel.apply", kapply),
        ("  of which contract before/observe + bookkeeping", step - kapply),
        ("canonical key (review/verify/canon.py)", key),
        ("  of which building the key tuple", raw),
        ("  of which marshal + BLAKE2b digest", key - raw),
        (_CHANGING, clone + step + key),
        ("canon.unchanged, an unchanged state (then no key)", same),
        (_UNCHANGING, step + same),
        ("invariants.check (once per distinct state)", inv),
        ("pack / unpack (frontier states past 20k a level)", pk + unpk),
    ]


def _bytes_per_state(model, sample: list) -> list[tuple[str, float]]:
    """(what is kept of a state, bytes) rows, measured with tracemalloc."""
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    live = [s[0].clone() for s in sample]
    live_b = (tracemalloc.get_traced_memory()[0] - base) / len(sample)
    del live
    base = tracemalloc.get_traced_memory()[0]
    packed = [(i, model.pack(s)) for i, s in enumerate(sample)]
    packed_b = (tracemalloc.get_traced_memory()[0] - base) / len(sample)
    del packed
    n = 200_000
    base = tracemalloc.get_traced_memory()[0]
    seen = {i.to_bytes(16, "little") for i in range(n)}
    last_b = (tracemalloc.get_traced_memory()[0] - base) / n
    parent = array("q", range(n))
    steps = [None] * n
    seen_b = (tracemalloc.get_traced_memory()[0] - base) / n
    del seen, parent, steps
    tracemalloc.stop()
    return [
        ("stored state: 16-byte key in the seen set + parent link + step", seen_b),
        ("state of the last level: the key only", last_b),
        ("frontier state, live Session", live_b),
        ("frontier state, packed (past 20k a level)", packed_b),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", default=",".join(PRESET_NAMES))
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--pages", type=int, default=1)
    ap.add_argument("--thp", action="store_true")
    ap.add_argument("--pins", type=int, default=1)
    ap.add_argument("--ops")
    ap.add_argument("--max-states", type=int, default=5_000_000)
    ap.add_argument("--full-symmetry", action="store_true")
    ap.add_argument("--no-reduction", action="store_true",
                    help="every step in every state (no sleep sets), as before the reduction")
    ap.add_argument("--profile", action="store_true", help="cProfile the first preset instead")
    ap.add_argument("--breakdown", action="store_true",
                    help="CPU time per step by part (clone, apply, contract, key) instead")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one preset, print JSON
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args)))
        return 0
    if args.profile:
        profile(args)
        return 0
    if args.breakdown:
        breakdown(args)
        return 0
    passthrough = [a for a in sys.argv[1:] if not a.startswith("--presets") and a != "--json"]
    if "--presets" in sys.argv:
        i = sys.argv.index("--presets")
        passthrough = [a for j, a in enumerate(sys.argv[1:], 1) if j not in (i, i + 1) and a != "--json"]
    rows = []
    for name in args.presets.split(","):
        out = subprocess.run([sys.executable, __file__, "--one", name, *passthrough],
                             capture_output=True, text=True, cwd=ROOT)
        if out.returncode:
            print(f"{name}: failed\n{out.stderr}", file=sys.stderr)
            continue
        row = json.loads(out.stdout)
        rows.append(row)
        if not args.json:
            print(f"{name:8} {row['explored']:10} depth {row['depth']:2}  "
                  f"{row['states']:>9,} states  {row['transitions']:>10,} steps  "
                  f"{row['cpu_seconds']:7.1f} s CPU  {row['states_per_s']:>7,} states/s  "
                  f"{row['steps_per_s']:>7,} steps/s  {row['mb_per_million_states']:>7,.0f} MB/M states")
            if row["findings"]:
                print(f"{'':8} shortest traces: " + ", ".join(
                    f"{k} {v} steps" for k, v in row["findings"].items()))
            print(f"{'':8} states per depth: {row['states_per_depth']}")
    if args.json:
        print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
