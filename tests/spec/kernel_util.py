"""Helpers for the kernel-model tests: run steps directly through spec.kernel.Kernel."""
from __future__ import annotations

from spec import invariants
from spec.kernel import Kernel
from spec.presets import PRESETS


def kernel(preset: str = "current") -> Kernel:
    return Kernel(PRESETS[preset])


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
