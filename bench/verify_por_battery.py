"""The footprint checks of review/verify_por_check.py on larger bounds than the suite's
(run on demand; minutes, not seconds).

For every preset and each bound set: `check_writes` (every step in every state of
depth below --depth writes only what its footprint says) and `check_independence`
(--states sampled states, every independent pair applied in both orders). Prints one
line per run and the problems found; exit 1 if any.

    .venv/bin/python bench/verify_por_battery.py                  # depth 4, every preset
    .venv/bin/python bench/verify_por_battery.py --depth 3 --presets current --only writes
"""
from __future__ import annotations

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

PRESET_NAMES = ("v5.7", "v5.8", "v5.9", "v5.18", "v5.19", "current")
# the bound sets of docs/verify.md: two pages and two references; a THP; three
# processes; three pages
BOUND_SETS = {
    "2 pages, 2 refs": dict(pages=2, pins=2),
    "THP, 2 refs": dict(pages=2, thp=True, pins=2),
    "3 processes, 1 page, 2 refs": dict(pages=1, processes=3, pins=2),
    "3 pages": dict(pages=3),
}


def main() -> int:
    from review.verify import Bounds
    from review.verify_por_check import check_independence, check_writes
    from spec.presets import PRESETS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", default=",".join(PRESET_NAMES))
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--states", type=int, default=40, help="sampled states per independence run")
    ap.add_argument("--only", choices=("writes", "independence"))
    args = ap.parse_args()

    totals = {"writes": [0, 0], "independence": [0, 0]}  # checked, problems
    for preset in args.presets.split(","):
        for name, kw in BOUND_SETS.items():
            bounds = Bounds(depth=args.depth, **kw)
            runs = []
            if args.only != "independence":
                runs.append(("writes", lambda: check_writes(PRESETS[preset], bounds)))
            if args.only != "writes":
                runs.append(("independence", lambda: check_independence(
                    PRESETS[preset], bounds, states=args.states)))
            for check, run in runs:
                cpu = time.process_time()
                checked, problems = run()
                totals[check][0] += checked
                totals[check][1] += len(problems)
                unit = "steps" if check == "writes" else "pairs"
                print(f"{preset:8} {name:28} {check:12} {checked:9,} {unit}  "
                      f"{len(problems)} problems  {time.process_time() - cpu:6.1f} s CPU",
                      flush=True)
                for p in problems[:10]:
                    print("    " + p)
    for check, (checked, problems) in totals.items():
        if checked:
            print(f"total {check}: {checked:,} checked, {problems} problems")
    return 1 if any(p for _c, p in totals.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
