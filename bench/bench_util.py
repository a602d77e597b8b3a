"""What the benchmarks share: where the real thread is, timing repeated runs, and the
time a fuzz run takes to its first finding. Not a benchmark itself."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from review.findings import Finding  # noqa: E402
from review.fuzz import search as fuzz  # noqa: E402
from spec.decisions import RuleSet  # noqa: E402

# The real thread "[PATCH v1 00/15] mm: COW fixes part 2", when present beside the project.
REAL_THREAD = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "cow-fixes-part2-v1.mbox"


def timed(fn, repeat: int):
    """(the result of the last of `repeat` calls of fn, the wall time of each call)."""
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return result, times


def time_to_first(rules: RuleSet, wanted: Callable[[Finding], bool], *, seed: int,
                  cap: float, reference: RuleSet | None = None
                  ) -> tuple[float | None, Finding | None, float | None]:
    """Fuzz `rules` (invariants mode; with `reference`, introduced mode: only what the
    reference does not break; no example database) until the first finding that
    `wanted` accepts, at most `cap` seconds: (seconds to it, shrinking included, and the
    finding, and the CPU seconds of this process to it) or (None, None, None). The
    search reports findings once per round of examples, so the time is that of the
    round that found it."""
    t0, c0 = time.perf_counter(), time.process_time()
    state: dict = {}

    def progress(info):
        for f in info["findings"]:
            if "at" not in state and wanted(f):
                state["at"] = time.perf_counter() - t0
                state["cpu"] = time.process_time() - c0
                state["finding"] = f

    fuzz.search(rules, reference=reference, mode="introduced" if reference else "invariants",
                seed=seed, budget=cap, database=None,
                on_progress=progress, should_stop=lambda: "at" in state)
    return state.get("at"), state.get("finding"), state.get("cpu")
