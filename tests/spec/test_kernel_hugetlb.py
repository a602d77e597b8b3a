"""hugetlb: faults, hugetlb_wp reuse by mapcount, copy_hugetlb_page_range per era, and
the ranges a hugetlb VMA refuses to split."""
from __future__ import annotations

import pytest

from spec import expr as E
from spec.decisions import ExtractedDecision, GuardedOutcome
from spec.kernel import Kernel
from spec.presets import PRESETS
from spec.run import run_trace
from spec.trace import parse_trace

from tests.spec.kernel_util import kernel, run, step, violations

ERAS = tuple(PRESETS)


def _hugetlb(era="current"):
    k = kernel(era)
    step(k, "mmap", mm=0, vpn=0, npages=4, hugetlb=True)
    return k


def test_a_read_fault_maps_a_fresh_zeroed_folio_read_only_a_write_reuses_it():
    k = _hugetlb()
    assert step(k, "read", mm=0, vpn=2).value == 0
    pmd = k.state.mms[0].pmds[0]
    f = k.state.folios[pmd.folio]
    assert f.hugetlb and f.nr == 4 and not pmd.writable and f.anon_exclusive[0]
    step(k, "write", mm=0, vpn=2, value=5)
    assert ("hugetlb.reuse", "reuse") in k.outcomes
    assert pmd.writable and k.state.mms[0].pmds[0].folio == f.id and f.data[2] == 5
    assert not violations(k)


@pytest.mark.parametrize("era", ERAS)
def test_fork_then_child_write_copies_for_the_child(era):
    k = _hugetlb(era)
    step(k, "write", mm=0, vpn=0, value=1)
    step(k, "fork", mm=0, child=1)
    parent, child = k.state.mms[0].pmds[0], k.state.mms[1].pmds[0]
    assert parent.folio == child.folio and not parent.writable and not child.writable
    step(k, "write", mm=1, vpn=0, value=2)
    assert ("hugetlb.reuse", "copy") in k.outcomes
    assert [k.peek(0, 0), k.peek(1, 0)] == [1, 2]
    step(k, "write", mm=0, vpn=0, value=3)                 # mapped once again: reuse
    assert ("hugetlb.reuse", "reuse") in k.outcomes and not violations(k)


@pytest.mark.parametrize("era,early_cow", [
    ("v5.7", False), ("v5.8", False), ("v5.9", False), ("v5.18", True), ("v5.19", True),
    ("v6.0", True), ("v6.2", True), ("v6.5", True), ("v6.8", True), ("current", True)])
def test_a_pinned_page_is_copied_at_fork_from_v5_12(era, early_cow):
    k = _hugetlb(era)
    run(k, ("write", dict(mm=0, vpn=0, value=1)),
        ("pin", dict(mm=0, vpn=0, write=True, longterm=False, id="p")),
        ("fork", dict(mm=0, child=1)))
    assert (("hugetlb.fork", "copy") in k.outcomes) is early_cow
    step(k, "write", mm=0, vpn=0, value=2)
    assert step(k, "dma_read", id="p").value == (2 if early_cow else 1)


def test_the_v5_12_fork_that_leaves_the_child_entry_writable_is_caught():
    """4eae4efa2c29's child entry kept the write bit (84894e1c42e9): the outcome
    "share_writable" for an unpinned page."""
    buggy = ExtractedDecision("hugetlb.fork", (GuardedOutcome(E.TRUE, "share_writable"),))
    rules = PRESETS["v5.18"].with_overlay(decisions=(buggy,), name="v5.12")
    k = Kernel(rules)
    step(k, "mmap", mm=0, vpn=0, npages=4, hugetlb=True)
    step(k, "write", mm=0, vpn=0, value=1)
    step(k, "fork", mm=0, child=1)
    assert k.state.mms[1].pmds[0].writable and violations(k) == {"hugetlb-cow-readonly"}
    t = parse_trace({"steps": [
        {"op": "mmap", "mm": 0, "vpn": 0, "npages": 4, "hugetlb": True},
        {"op": "write", "mm": 0, "vpn": 0, "value": 1},
        {"op": "fork", "mm": 0, "child": 1},
        {"op": "write", "mm": 1, "vpn": 0, "value": 2},
        {"op": "read", "mm": 0, "vpn": 0}]})
    assert run_trace(t, rules).clauses == {"hugetlb-cow-readonly", "isolation"}


def test_ranges_that_end_inside_a_hugetlb_folio_are_einval():
    k = _hugetlb()
    step(k, "write", mm=0, vpn=0, value=1)
    for op, args in (("munmap", dict(npages=2)), ("mprotect", dict(npages=1, write=False)),
                     ("madvise", dict(npages=3, advice="dontneed")),
                     ("mmap", dict(npages=2)), ("mremap", dict(npages=4, new_vpn=8))):
        assert step(k, op, mm=0, vpn=0, **args).status == "EINVAL", op
    assert k.peek(0, 0) == 1
    for op in ("swapout", "migrate", "split_folio", "split_pmd", "writeback"):
        assert step(k, op, mm=0, vpn=0).status == "refused", op
    assert step(k, "madvise", mm=0, vpn=0, npages=4, advice="wipeonfork").status == "EINVAL"
    assert step(k, "madvise", mm=0, vpn=0, npages=4, advice="dontneed").status == "ok"
    assert k.state.mms[0].pmds == {} and not k.state.folios


def test_mprotect_of_a_whole_hugetlb_folio_follows_vm_page_prot():
    k = _hugetlb()
    step(k, "write", mm=0, vpn=0, value=1)
    step(k, "mprotect", mm=0, vpn=0, npages=4, prot="r")
    assert not k.state.mms[0].pmds[0].writable
    step(k, "mprotect", mm=0, vpn=0, npages=4, prot="rw")
    assert not k.state.mms[0].pmds[0].writable         # private: the write fault decides
    step(k, "mmap", mm=1, vpn=0, npages=4, hugetlb=True, shared=True)
    step(k, "write", mm=1, vpn=0, value=1)
    step(k, "mprotect", mm=1, vpn=0, npages=4, prot="r")
    step(k, "mprotect", mm=1, vpn=0, npages=4, prot="rw")
    assert k.state.mms[1].pmds[0].writable             # shared: writable again
    assert not violations(k)
