"""THP: PMD split (thp.split), folio split, MADV_COLLAPSE, partial zap/mprotect."""
from __future__ import annotations

import pytest

from spec.decisions import DecisionContext
from spec.kernel import Kernel
from spec.presets import PRESETS
from spec.result import Result
from spec.state import PRESENT

from tests.spec.kernel_util import folio, kernel, pte, step, violations


def _thp(preset="current"):
    k = kernel(preset)
    step(k, "mmap", mm=0, vpn=0, npages=4, thp=True)
    for v in range(4):
        step(k, "write", mm=0, vpn=v, value=10 + v)
    return k


def test_split_pmd_propagates_the_heads_exclusive_flag():
    k = _thp()
    assert step(k, "split_pmd", mm=0, vpn=0) == Result()
    assert ("thp.split", "propagate") in k.outcomes
    mm = k.state.mms[0]
    assert not mm.pmds and all(mm.ptes[v].writable for v in range(4))
    f = folio(k, 0, 0)
    assert f.anon_exclusive == [True] * 4 and f.mapcount == [1] * 4 and f.refcount == 4
    assert [k.peek(0, v) for v in range(4)] == [10, 11, 12, 13] and not violations(k)
    assert step(k, "split_pmd", mm=0, vpn=0).status == "refused"


def test_a_rule_that_drops_the_flag_breaks_the_writable_invariant():
    rules = PRESETS["current"]
    bad = type(rules)(name="drop", decide={**rules.decide, "thp.split": lambda c: "drop"},
                      features=rules.features)
    k = Kernel(bad)
    step(k, "mmap", mm=0, vpn=0, npages=4, thp=True)
    step(k, "write", mm=0, vpn=0, value=1)
    step(k, "split_pmd", mm=0, vpn=0)
    assert "anon-exclusive-writable" in violations(k)
    assert DecisionContext  # the point sees a DecisionContext like any other


def test_split_folio_makes_small_folios_and_keeps_exclusivity():
    k = _thp()
    assert step(k, "split_folio", mm=0, vpn=1) == Result()
    ids = {pte(k, 0, v).folio for v in range(4)}
    assert len(ids) == 4 and all(k.state.folios[i].nr == 1 for i in ids)
    assert all(folio(k, 0, v).anon_exclusive == [True] and pte(k, 0, v).writable
               for v in range(4))
    assert [k.peek(0, v) for v in range(4)] == [10, 11, 12, 13] and not violations(k)


def test_split_folio_of_a_shared_thp_after_fork():
    k = _thp()
    step(k, "fork", mm=0, child=1)
    step(k, "split_pmd", mm=1, vpn=0)
    assert step(k, "split_folio", mm=0, vpn=0) == Result()
    assert all(pte(k, 0, v).folio == pte(k, 1, v).folio for v in range(4))
    assert all(folio(k, 0, v).mapcount == [2] for v in range(4))
    assert not violations(k)
    step(k, "write", mm=1, vpn=2, value=99)
    assert (k.peek(0, 2), k.peek(1, 2)) == (12, 99)


@pytest.mark.parametrize("preset", ["v5.9", "current"])
def test_pinned_thp_cannot_be_split(preset):
    k = _thp(preset)
    step(k, "pin", mm=0, vpn=3, write=False, longterm=False, id="p")
    assert step(k, "split_folio", mm=0, vpn=0).status == "refused"
    assert k.state.mms[0].pmds


def test_split_of_a_partly_unmapped_thp_frees_the_unmapped_pieces():
    k = _thp()
    step(k, "madvise", mm=0, vpn=2, npages=1, advice="dontneed")   # splits the PMD
    assert not k.state.mms[0].pmds and 2 not in k.state.mms[0].ptes
    step(k, "split_folio", mm=0, vpn=0)
    assert len(k.state.folios) == 3 and not violations(k)
    assert [k.peek(0, v) for v in (0, 1, 3)] == [10, 11, 13]


def test_collapse_copies_small_pages_into_a_new_thp():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=4)
    step(k, "write", mm=0, vpn=0, value=1)
    step(k, "write", mm=0, vpn=2, value=3)
    step(k, "read", mm=0, vpn=3)
    assert step(k, "madvise", mm=0, vpn=0, npages=4, advice="collapse") == Result()
    pmd = k.state.mms[0].pmds[0]
    f = k.state.folios[pmd.folio]
    assert pmd.kind == PRESENT and pmd.writable and f.nr == 4
    assert f.anon_exclusive == [True, False, False, False] and len(k.state.folios) == 1
    assert [k.peek(0, v) for v in range(4)] == [1, 0, 3, 0] and not violations(k)


def test_collapse_refuses_a_block_that_two_vmas_share():
    """An mprotect of one page split the VMA: no PMD may span it (transhuge_vma_suitable
    in hugepage_vma_check), so the R/O page is never mapped writable by a later split."""
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=4)
    step(k, "mprotect", mm=0, vpn=1, npages=1, prot="r")
    step(k, "write", mm=0, vpn=0, value=1)
    assert step(k, "madvise", mm=0, vpn=0, npages=4, advice="collapse").status == "EINVAL"
    assert not k.state.mms[0].pmds
    step(k, "split_pmd", mm=0, vpn=1)
    assert not violations(k)


def test_collapse_refuses_referenced_pages_and_old_eras():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=4)
    step(k, "write", mm=0, vpn=0, value=1)
    step(k, "get", mm=0, vpn=0, id="g")
    assert step(k, "madvise", mm=0, vpn=0, npages=4, advice="collapse").status == "EAGAIN"
    ro = kernel()
    step(ro, "mmap", mm=0, vpn=0, npages=4)
    step(ro, "write", mm=0, vpn=0, value=1)
    step(ro, "fork", mm=0, child=1)                    # every PTE now R/O
    assert step(ro, "madvise", mm=0, vpn=0, npages=4, advice="collapse").status == "EINVAL"
    step(ro, "write", mm=0, vpn=1, value=2)            # one writable PTE is enough
    assert step(ro, "madvise", mm=0, vpn=0, npages=4, advice="collapse").status == "ok"
    assert (ro.peek(0, 0), ro.peek(1, 0), ro.peek(0, 1)) == (1, 1, 2)
    assert not violations(ro)
    old = kernel("v5.19")
    step(old, "mmap", mm=0, vpn=0, npages=4)
    assert step(old, "madvise", mm=0, vpn=0, npages=4, advice="collapse").status == "EINVAL"


def test_mprotect_of_part_of_a_thp_splits_the_pmd():
    k = _thp()
    step(k, "mprotect", mm=0, vpn=1, npages=1, write=False)
    mm = k.state.mms[0]
    assert not mm.pmds and not mm.ptes[1].writable and mm.ptes[0].writable
    assert not violations(k)


def test_no_thp_across_differing_vma_flags():
    """transhuge_vma_suitable: the PMD range must lie inside one VMA."""
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=4, thp=True)
    step(k, "madvise", mm=0, vpn=1, npages=1, advice="wipeonfork")
    step(k, "write", mm=0, vpn=0, value=1)
    assert not k.state.mms[0].pmds and folio(k, 0, 0).nr == 1


@pytest.mark.parametrize("preset", ["v5.7", "v5.9"])
def test_pmd_cow_counts_the_largest_subpage_mapcount_before_v5_18(preset):
    """reuse_swap_page on a PMD-mapped THP the parent still maps in part: copy."""
    k = _thp(preset)
    step(k, "fork", mm=0, child=1)
    step(k, "munmap", mm=0, vpn=0, npages=1)       # the parent's PMD is split
    step(k, "write", mm=1, vpn=1, value=2)
    assert ("wp.reuse", "copy") in k.outcomes
    assert (k.peek(0, 1), k.peek(1, 1)) == (11, 2)


# ---------------------------------------------------------------- mTHP (v6.8)

@pytest.mark.parametrize("era,nr", [("v6.5", 1), ("v6.8", 2), ("current", 2)])
def test_an_mthp_range_faults_in_an_order_1_folio_from_v6_8(era, nr):
    k = kernel(era)
    step(k, "mmap", mm=0, vpn=0, npages=4, thp=True, thp_order=1)
    step(k, "write", mm=0, vpn=1, value=5)
    f = folio(k, 0, 1)
    assert f.nr == nr and not k.state.mms[0].pmds
    if nr == 2:
        assert pte(k, 0, 0).folio == f.id and f.mapcount == [1, 1] and f.refcount == 2
        assert f.anon_exclusive == [True, True] and pte(k, 0, 0).writable
    assert [k.peek(0, 0), k.peek(0, 1)] == [0 if nr == 2 else None, 5] and not violations(k)


def test_an_mthp_needs_every_pte_of_its_range_none():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=4, thp=True, thp_order=1)
    step(k, "read", mm=0, vpn=0)                       # the zero page at vpn 0
    step(k, "write", mm=0, vpn=1, value=5)
    assert folio(k, 0, 1).nr == 1
    step(k, "madvise", mm=0, vpn=2, npages=2, advice="nohugepage")
    step(k, "write", mm=0, vpn=2, value=6)
    assert folio(k, 0, 2).nr == 1


def test_an_mthp_shared_by_fork_is_copied_on_write_and_split_in_two():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=4, thp=True, thp_order=1)
    step(k, "write", mm=0, vpn=0, value=1)
    step(k, "write", mm=0, vpn=1, value=2)
    step(k, "fork", mm=0, child=1)
    step(k, "write", mm=0, vpn=0, value=3)            # PTE-mapped large: never reused
    assert folio(k, 0, 0).nr == 1 and folio(k, 1, 0).nr == 2
    step(k, "exit", mm=1)
    assert step(k, "split_folio", mm=0, vpn=1) == Result()
    assert folio(k, 0, 1).nr == 1 and k.peek(0, 1) == 2 and not violations(k)
