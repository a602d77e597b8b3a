"""Fuzz mmreview's own inputs for a long time: damaged mail, lying diffs, hostile C
and broken replay traces through `mmreview show`, `extract`, `check` and `replay`,
with the properties the test suite checks with few examples
(tests/inputs_fuzz/: no traceback, a failure is one line on stderr naming the input
with exit 2, nothing written but the declared outputs).

    .venv/bin/python bench/input_fuzz.py [--examples N] [--seed S] [--db DIR]
                                         [--target show|extract|check|replay|all] [--cli]
                                         [--slowest DIR]

--cli runs `mmreview` in a subprocess per example (slow: use fewer examples); without
it the commands run in this process. Prints per target the examples run, the
tracebacks and other failures seen (0 expected) and the slowest example, with a
progress line every --every examples so that a stopped run still says how far it got;
exits 1 after printing the minimal failing input when a property failed. --db keeps
hypothesis's example database in DIR between runs: a failing input found once is
tried first next time, until it passes.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis.database import DirectoryBasedExampleDatabase  # noqa: E402

from tests.inputs_fuzz.harness import TARGETS, Outcome, describe, run  # noqa: E402


@dataclass
class Tally:
    examples: int = 0
    tracebacks: int = 0
    failures: int = 0
    slowest: float = 0.0
    slowest_size: int = 0
    slowest_input: bytes = b""   # what took longest: to read and profile (--slowest DIR)
    last_failure: tuple[bytes, str] | None = None  # hypothesis runs the minimal one last

    def add(self, data: bytes, o: Outcome) -> None:
        self.examples += 1
        self.tracebacks += o.crashed
        if o.problems:
            self.failures += 1
            self.last_failure = (data, describe(o))
        if o.seconds > self.slowest:
            self.slowest, self.slowest_size, self.slowest_input = o.seconds, len(data), data


def fuzz(name: str, examples: int, seed_value: int, cli: bool, db: Path | None = None,
         every: int = 0) -> tuple[Tally, BaseException | None]:
    target, tally = TARGETS[name], Tally()
    database = DirectoryBasedExampleDatabase(str(db / name)) if db is not None else None
    start = time.perf_counter()

    # @seed turns hypothesis's database off; the same attribute set directly keeps it
    @settings(max_examples=examples, deadline=None, database=database, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(target.inputs())
    def prop(data: bytes) -> None:
        o = run(target, data, cli=cli)
        tally.add(data, o)
        if every and tally.examples % every == 0:
            print(f"  {name}: {tally.examples} examples, {tally.tracebacks} tracebacks, "
                  f"{tally.failures} failures, {time.perf_counter() - start:.0f} s", flush=True)
        assert not o.problems, describe(o)
    prop._hypothesis_internal_use_seed = seed_value

    try:
        prop()
    except Exception as exc:  # the property failed: reported below, with the input
        return tally, exc
    return tally, None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--examples", type=int, default=200, help="examples per target (default 200)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--target", choices=(*TARGETS, "all"), default="all")
    ap.add_argument("--cli", action="store_true", help="run `mmreview` in a subprocess per example")
    ap.add_argument("--db", type=Path, metavar="DIR",
                    help="keep hypothesis's example database here between runs (default: none)")
    ap.add_argument("--every", type=int, default=1000, metavar="N",
                    help="a progress line every N examples (0: none; default 1000)")
    ap.add_argument("--slowest", type=Path, metavar="DIR",
                    help="write each target's slowest input to DIR/<target>-slowest.bin")
    args = ap.parse_args()
    names = list(TARGETS) if args.target == "all" else [args.target]
    failed = False
    mode = "cli" if args.cli else "in-process"
    print(f"{'target':8} {'mode':10} {'examples':>8} {'tracebacks':>10} {'failures':>8} "
          f"{'slowest s':>9} {'(bytes)':>8} {'wall s':>7}")
    for name in names:
        start = time.perf_counter()
        tally, error = fuzz(name, args.examples, args.seed, args.cli, args.db, args.every)
        print(f"{name:8} {mode:10} {tally.examples:8d} {tally.tracebacks:10d} {tally.failures:8d} "
              f"{tally.slowest:9.3f} {tally.slowest_size:8d} {time.perf_counter() - start:7.1f}", flush=True)
        if args.slowest is not None and tally.slowest_input:
            args.slowest.mkdir(parents=True, exist_ok=True)
            (args.slowest / f"{name}-slowest.bin").write_bytes(tally.slowest_input)
        if error is not None:
            failed = True
            data, problems = tally.last_failure or (b"", str(error))
            print(f"  FAILED {name}: minimal input ({len(data)} bytes):\n  {data!r}\n  {problems}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
