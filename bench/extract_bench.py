"""Extraction time for the real thread "[PATCH v1 00/15] mm: COW fixes part 2" when
present, and for the fixture patches against the fixture tree.

    .venv/bin/python bench/extract_bench.py [--repeat N]

Prints the load time (mail parsing, review.inputs.load) and the extraction time
(review.extract.rules.extract_series) separately: the target is extraction < 1 s for the
whole thread.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_util import REAL_THREAD as THREAD, timed  # noqa: E402
from review.extract.rules import extract_series  # noqa: E402
from review.inputs.load import load  # noqa: E402

FIXTURES = ROOT / "fixtures"


def report(name: str, times: list[float]) -> None:
    print(f"{name:<44} median {statistics.median(times) * 1000:8.1f} ms   "
          f"min {min(times) * 1000:8.1f} ms   max {max(times) * 1000:8.1f} ms   (n={len(times)})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    if THREAD.is_file():
        coll, t_load = timed(lambda: load(str(THREAD)), args.repeat)
        results, t_extract = timed(lambda: extract_series(coll.patches), args.repeat)
        hunks = sum(len(f.hunks) for p in coll.patches for f in p.files)
        print(f"thread: {len(coll.patches)} patches, {hunks} hunks; "
              f"{sum(len(r.bound) for r in results)} bound functions, "
              f"{sum(len(r.pre.assertions) + len(r.post.assertions) for r in results)} assertion rules, "
              f"{sum(len(r.partial) for r in results)} partial")
        report("load (review.inputs.load.load)", t_load)
        report("extract_series, whole thread, no tree", t_extract)
    else:
        print(f"{THREAD} absent: thread benchmark skipped")
    patches = [p for f in sorted((FIXTURES / "patches").glob("*.patch")) for p in load(str(f)).patches]
    _, t_fix = timed(lambda: extract_series(patches, tree=str(FIXTURES / "ctree")), args.repeat)
    report(f"extract_series, {len(patches)} fixture patches, --tree", t_fix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
