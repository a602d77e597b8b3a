"""Kernel.peek_many (the contract's no-loss snapshots) reads exactly what peek reads."""
from __future__ import annotations

from hypothesis import given, strategies as st

from spec.presets import PRESETS

from tests.spec.kernel_util import kernel, step
from tests.spec.test_invariants import applied, step_st

VPNS = tuple(range(-1, 10))     # around every mapping the traces make, holes included


def _agrees(k) -> None:
    for mm in (*k.state.mms, 99):                       # exited and unknown processes too
        assert k.peek_many(mm, VPNS) == [k.peek(mm, v) for v in VPNS], (mm, k.state)


@given(st.sampled_from(tuple(PRESETS)), st.booleans(), st.lists(step_st, max_size=30))
def test_peek_many_is_peek_per_page(preset, thp, steps):
    k = kernel(preset)
    step(k, "mmap", mm=0, vpn=0, npages=8, thp=thp)
    step(k, "fork", mm=0, child=1)
    _agrees(k)
    for _got in applied(k, steps):
        _agrees(k)


def test_peek_many_follows_swap_and_thp_entries():
    k = kernel("current")
    step(k, "mmap", mm=0, vpn=0, npages=4, thp=True)
    step(k, "write", mm=0, vpn=1, value=7)              # a PMD-mapped THP
    step(k, "mmap", mm=0, vpn=4, npages=2)
    step(k, "write", mm=0, vpn=4, value=3)
    step(k, "swapout", mm=0, vpn=4)                     # a swap entry
    assert k.peek_many(0, (0, 1, 4, 5, 6)) == [0, 7, 3, None, None]
    step(k, "exit", mm=0)
    assert k.peek_many(0, (0, 1)) == [None, None]
