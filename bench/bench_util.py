"""What the benchmarks share: where the real thread is, and timing repeated runs.
Not a benchmark itself."""
from __future__ import annotations

import time
from pathlib import Path

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
