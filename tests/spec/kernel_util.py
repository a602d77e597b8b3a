"""Helpers for the kernel-model tests: run steps directly through spec.kernel.Kernel."""
from __future__ import annotations

from spec import invariants
from spec.kernel import Kernel
from spec.presets import PRESETS


def kernel(preset: str = "current") -> Kernel:
    return Kernel(PRESETS[preset])


def written(preset: str = "current", npages: int = 4, thp: bool = False) -> Kernel:
    """A process 0 with `npages` mapped at vpn 0 and its first page written (value 1)."""
    k = kernel(preset)
    step(k, "mmap", mm=0, vpn=0, npages=npages, thp=thp)
    step(k, "write", mm=0, vpn=0, value=1)
    return k


def run(k: Kernel, *steps: tuple) -> list:
    """Apply (op, {args}) steps; returns the Results. Defaults: mmap thp=False."""
    out = []
    for op, args in steps:
        if op == "mmap":
            args = {"thp": False, **args}
        out.append(k.apply(op, args))
    return out


def step(k: Kernel, op: str, **args):
    if op == "mmap":
        args.setdefault("thp", False)
    return k.apply(op, args)


def violations(k: Kernel) -> set[str]:
    return {v.id for v in invariants.check(k)}


def pte(k: Kernel, mm: int, vpn: int):
    return k.state.entry(k.state.mms[mm], vpn)[0]


def folio(k: Kernel, mm: int, vpn: int):
    p = pte(k, mm, vpn)
    return k.state.folios[p.folio]
