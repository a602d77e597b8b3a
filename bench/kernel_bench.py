"""Kernel-model micro costs, on demand (not part of the test suite).

    .venv/bin/python bench/kernel_bench.py [--n N]

Prints microseconds per call of Kernel.apply for common ops, invariants.check,
Kernel.clone and State.key on a small but busy state (two processes, a THP, a pin,
a swap entry, a KSM page), and replay steps/s of the kernel alone and with the
invariants over a fixed pseudo-random trace per preset.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spec import invariants  # noqa: E402
from spec.errors import StepError  # noqa: E402
from spec.kernel import Kernel  # noqa: E402
from spec.presets import PRESETS  # noqa: E402

ADVICE = ("dontneed", "dontfork", "dofork", "wipeonfork", "pageout", "mergeable",
          "unmergeable", "hugepage", "nohugepage", "collapse")


def busy_kernel(preset: str = "current") -> Kernel:
    k = Kernel(PRESETS[preset])
    steps = [("mmap", dict(mm=0, vpn=0, npages=8, thp=False)),
             ("mmap", dict(mm=0, vpn=8, npages=4, thp=True)),
             ("madvise", dict(mm=0, vpn=0, npages=8, advice="mergeable"))]
    steps += [("write", dict(mm=0, vpn=v, value=v + 1)) for v in range(6)]
    steps += [("write", dict(mm=0, vpn=9, value=50)), ("write", dict(mm=0, vpn=7, value=6)),
              ("ksm_merge", dict(mm=0, vpn=5, mm2=0, vpn2=7)),
              ("fork", dict(mm=0, child=1)),
              ("pin", dict(mm=0, vpn=2, write=True, longterm=False, id="p")),
              ("swapout", dict(mm=1, vpn=4))]
    for op, a in steps:
        k.apply(op, a)
    return k


def random_trace(seed: int, n: int) -> list:
    r = random.Random(seed)
    out = [("mmap", dict(mm=0, vpn=0, npages=8, thp=r.random() < 0.5))]
    child = 1
    for i in range(n):
        op = r.choice(("read", "write", "write", "fork", "pin", "get", "swapout", "swapin",
                       "migrate", "madvise", "mprotect", "split_pmd", "unpin", "put"))
        a = dict(mm=r.randrange(child), vpn=r.randrange(8))   # ~3 processes per episode
        if op == "write":
            a["value"] = i + 1
        elif op == "fork":
            a = dict(mm=0, child=child)
            child += 1
        elif op == "pin":
            a.update(write=r.random() < 0.5, longterm=r.random() < 0.5, id=f"r{i}")
        elif op == "get":
            a["id"] = f"r{i}"
        elif op in ("unpin", "put"):
            a = dict(id=f"r{r.randrange(max(i, 1))}")
        elif op == "madvise":
            a.update(npages=r.randrange(1, 4), advice=r.choice(ADVICE))
        elif op == "mprotect":
            a.update(npages=r.randrange(1, 4), write=r.random() < 0.7)
        out.append((op, a))
    return out


def replay(preset: str, episodes: list, check: bool) -> float:
    """steps/s over episodes, each from a fresh Kernel (skipped steps not counted)."""
    rules = PRESETS[preset]
    t0 = time.perf_counter()
    done = 0
    for trace in episodes:
        k = Kernel(rules)
        for op, a in trace:
            try:
                k.apply(op, a)
            except StepError:
                continue
            done += 1
            if check:
                invariants.check(k)
    return done / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000, help="calls per micro benchmark")
    n = ap.parse_args().n
    k = busy_kernel()
    print(f"busy state: {len(k.state.folios)} folios, {len(k.state.slots)} slots, "
          f"{sum(len(m.ptes) + len(m.pmds) for m in k.state.mms.values())} entries")
    for label, fn in (
            ("apply read (mapped)", lambda: k.apply("read", {"mm": 0, "vpn": 1})),
            ("apply write (writable)", lambda: k.apply("write", {"mm": 0, "vpn": 9, "value": 3})),
            ("invariants.check", lambda: invariants.check(k)),
            ("Kernel.clone", k.clone),
            ("State.key", k.state.key)):
        us = timeit.timeit(fn, number=n) / n * 1e6
        print(f"{label:28s} {us:8.2f} us")
    episodes = [random_trace(seed, 40) for seed in range(500)]   # 40-step episodes
    for preset in PRESETS:
        print(f"replay {preset:8s} kernel {replay(preset, episodes, False):>10,.0f} steps/s"
              f"   kernel+invariants {replay(preset, episodes, True):>10,.0f} steps/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
