"""mmap, read, write, munmap, mprotect, exit: the fault paths (do_anonymous_page,
do_huge_pmd_anonymous_page, do_wp_page) and the Kernel API itself."""
from __future__ import annotations

import pytest

from spec.errors import StepError
from spec.result import Result
from spec.state import PRESENT, ZERO

from tests.spec.kernel_util import folio, kernel, pte, step, violations


def test_fresh_memory_reads_zero_through_the_zero_page():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=2)
    assert k.peek(0, 0) is None            # nothing mapped yet
    assert step(k, "read", mm=0, vpn=0) == Result("ok", 0)
    assert pte(k, 0, 0).kind == ZERO
    assert k.peek(0, 0) == 0
    assert k.state.folios == {}


@pytest.mark.parametrize("preset,exclusive", [("current", True), ("v5.19", True),
                                              ("v5.18", False), ("v5.7", False)])
def test_write_fault_maps_a_fresh_exclusive_page(preset, exclusive):
    k = kernel(preset)
    step(k, "mmap", mm=0, vpn=0, npages=1)
    step(k, "read", mm=0, vpn=0)
    assert step(k, "write", mm=0, vpn=0, value=7) == Result()
    p = pte(k, 0, 0)
    assert p.kind == PRESENT and p.writable and p.dirty
    f = folio(k, 0, 0)
    assert f.anon_exclusive == [exclusive]   # no PG_anon_exclusive before v5.19
    assert (f.refcount, f.mapcount) == (1, [1])
    assert step(k, "read", mm=0, vpn=0) == Result("ok", 7)
    assert not violations(k)


def test_sigsegv_outside_a_vma_and_on_write_to_readonly():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=1)
    assert step(k, "read", mm=0, vpn=5).status == "SIGSEGV"
    assert step(k, "write", mm=0, vpn=5, value=1).status == "SIGSEGV"
    step(k, "write", mm=0, vpn=0, value=1)
    assert step(k, "mprotect", mm=0, vpn=0, npages=1, write=False) == Result()
    assert not pte(k, 0, 0).writable
    assert step(k, "write", mm=0, vpn=0, value=2).status == "SIGSEGV"
    assert step(k, "read", mm=0, vpn=0).value == 1


@pytest.mark.parametrize("preset,upgraded", [("current", True), ("v5.19", False), ("v5.9", False)])
def test_mprotect_write_upgrade_of_exclusive_anon_pages(preset, upgraded):
    k = kernel(preset)
    step(k, "mmap", mm=0, vpn=0, npages=1)
    step(k, "write", mm=0, vpn=0, value=1)
    fid = pte(k, 0, 0).folio
    step(k, "mprotect", mm=0, vpn=0, npages=1, write=False)
    step(k, "mprotect", mm=0, vpn=0, npages=1, write=True)
    assert pte(k, 0, 0).writable is upgraded
    assert ("mprotect.writable", "writable" if upgraded else "readonly") in k.outcomes
    step(k, "write", mm=0, vpn=0, value=2)
    assert pte(k, 0, 0).folio == fid         # reused either way: no copy
    assert not violations(k)


def test_mprotect_over_a_hole_is_enomem_but_changes_the_mapped_part():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=1)
    assert step(k, "mprotect", mm=0, vpn=0, npages=2, write=False).status == "ENOMEM"
    assert step(k, "write", mm=0, vpn=0, value=1).status == "SIGSEGV"


def test_thp_first_write_populates_a_pmd_mapped_folio():
    k = kernel()
    assert step(k, "mmap", mm=0, vpn=4, npages=4, thp=True) == Result()
    step(k, "write", mm=0, vpn=5, value=9)
    mm = k.state.mms[0]
    assert 1 in mm.pmds and not mm.ptes
    f = k.state.folios[mm.pmds[1].folio]
    assert f.nr == 4 and f.entire_mapcount == 1 and f.refcount == 1
    assert f.anon_exclusive == [True, False, False, False]   # the head only
    assert [k.peek(0, v) for v in range(4, 8)] == [0, 9, 0, 0]
    assert not violations(k)


def test_thp_read_maps_huge_zero_page_then_write_falls_back_to_small_pages():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=4, thp=True)
    assert step(k, "read", mm=0, vpn=2).value == 0
    mm = k.state.mms[0]
    assert mm.pmds[0].kind == ZERO
    step(k, "write", mm=0, vpn=2, value=3)
    assert 0 not in mm.pmds
    assert folio(k, 0, 2).nr == 1
    assert [k.peek(0, v) for v in range(4)] == [0, 0, 3, 0]


def test_thp_mapping_must_be_aligned():
    k = kernel()
    assert step(k, "mmap", mm=0, vpn=2, npages=4, thp=True).status == "EINVAL"
    assert step(k, "mmap", mm=0, vpn=0, npages=0).status == "EINVAL"


def test_munmap_frees_and_mmap_over_replaces():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=2)
    step(k, "write", mm=0, vpn=0, value=1)
    step(k, "write", mm=0, vpn=1, value=2)
    step(k, "mmap", mm=0, vpn=1, npages=1)       # MAP_FIXED over vpn 1
    assert step(k, "read", mm=0, vpn=1).value == 0
    step(k, "munmap", mm=0, vpn=0, npages=2)
    assert k.state.folios == {}
    assert step(k, "read", mm=0, vpn=0).status == "SIGSEGV"
    assert not violations(k)


def test_exit_frees_everything_and_the_process_is_gone():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=4, thp=True)
    step(k, "write", mm=0, vpn=0, value=1)
    assert step(k, "exit", mm=0) == Result()
    assert k.state.folios == {}
    assert k.peek(0, 0) is None
    with pytest.raises(StepError, match="exited"):
        step(k, "read", mm=0, vpn=0)
    with pytest.raises(StepError, match="exited"):
        step(k, "mmap", mm=0, vpn=0, npages=1)


def test_unknown_process_and_op_are_step_errors():
    k = kernel()
    with pytest.raises(StepError, match="unknown process"):
        step(k, "read", mm=3, vpn=0)
    with pytest.raises(StepError, match="unknown op"):
        k.apply("frobnicate", {})


def test_outcomes_are_per_apply_and_clone_is_independent():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=1)
    step(k, "write", mm=0, vpn=0, value=1)
    step(k, "fork", mm=0, child=1)
    assert ("fork.anon_pte", "share") in k.outcomes
    c = k.clone()
    step(c, "write", mm=0, vpn=0, value=2)
    assert ("wp.reuse", "copy") in c.outcomes
    assert k.outcomes and ("wp.reuse", "copy") not in k.outcomes
    assert k.peek(0, 0) == 1 and c.peek(0, 0) == 2
    assert k.state.key() != c.state.key()
    assert k.clone().state.key() == k.state.key()
    assert c.step_count == k.step_count + 1


def test_state_key_is_canonical_over_folio_ids():
    a, b = kernel(), kernel()
    step(a, "mmap", mm=0, vpn=0, npages=2)
    step(b, "mmap", mm=0, vpn=0, npages=2)
    step(b, "write", mm=0, vpn=1, value=5)       # burns folio id 1 in b only
    step(b, "munmap", mm=0, vpn=1, npages=1)
    step(b, "mmap", mm=0, vpn=1, npages=1)
    for k in (a, b):
        step(k, "write", mm=0, vpn=0, value=1)
    assert pte(a, 0, 0).folio != pte(b, 0, 0).folio
    assert a.state.key() == b.state.key()
