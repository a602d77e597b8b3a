"""fork: copy_present_pte / copy_huge_pmd / copy_nonpresent_pte per era."""
from __future__ import annotations

import pytest

from spec.errors import StepError
from spec.state import GUP_PIN_COUNTING_BIAS, SWAP

from tests.spec.kernel_util import folio, kernel, pte, step, violations, written




def test_fork_shares_write_protected_and_clears_exclusive():
    k = written()
    step(k, "fork", mm=0, child=1)
    p, c = pte(k, 0, 0), pte(k, 1, 0)
    assert p.folio == c.folio and not p.writable and not c.writable
    f = folio(k, 0, 0)
    assert f.anon_exclusive == [False] and f.mapcount == [1 + 1] and f.refcount == 2
    assert k.peek(1, 0) == 1
    assert not violations(k)


def test_cow_after_fork_child_copies_then_parent_reuses():
    k = written()
    step(k, "fork", mm=0, child=1)
    old = pte(k, 0, 0).folio
    step(k, "write", mm=1, vpn=0, value=2)
    assert ("wp.reuse", "copy") in k.outcomes
    assert pte(k, 1, 0).folio != old
    step(k, "write", mm=0, vpn=0, value=3)
    assert ("wp.reuse", "reuse") in k.outcomes     # refcount 1 again: reuse
    assert pte(k, 0, 0).folio == old
    assert (k.peek(0, 0), k.peek(1, 0)) == (3, 2)
    assert not violations(k)


def test_dontfork_and_wipeonfork():
    k = written()
    step(k, "write", mm=0, vpn=1, value=2)
    step(k, "madvise", mm=0, vpn=0, npages=1, advice="dontfork")
    step(k, "madvise", mm=0, vpn=1, npages=1, advice="wipeonfork")
    step(k, "fork", mm=0, child=1)
    assert step(k, "read", mm=1, vpn=0).status == "SIGSEGV"
    assert step(k, "read", mm=1, vpn=1).value == 0
    assert k.peek(0, 1) == 2 and pte(k, 0, 0).writable     # the parent is untouched
    step(k, "madvise", mm=0, vpn=0, npages=1, advice="dofork")
    step(k, "fork", mm=0, child=2)
    assert step(k, "read", mm=2, vpn=0).value == 1


@pytest.mark.parametrize("preset,copied", [("v5.7", False), ("v5.8", False), ("v5.9", True),
                                           ("v5.18", True), ("v5.19", True), ("current", True)])
def test_pinned_page_is_copied_for_the_child_since_v5_9(preset, copied):
    k = written(preset)
    step(k, "pin", mm=0, vpn=0, write=True, longterm=True, id="p")
    assert folio(k, 0, 0).refcount == 1 + GUP_PIN_COUNTING_BIAS
    step(k, "fork", mm=0, child=1)
    assert ("fork.anon_pte", "copy" if copied else "share") in k.outcomes
    assert (pte(k, 1, 0).folio != pte(k, 0, 0).folio) is copied
    assert pte(k, 0, 0).writable is copied        # shared pages are write-protected
    step(k, "dma_write", id="p", value=5)
    assert k.peek(1, 0) == (1 if copied else 5)   # the child sees the device only if shared


def test_fork_of_pmd_mapped_thp_shares_the_pmd():
    k = written(thp=True)
    step(k, "fork", mm=0, child=1)
    f = k.state.folios[k.state.mms[0].pmds[0].folio]
    assert k.state.mms[1].pmds[0].folio == f.id
    assert f.entire_mapcount == 2 and f.anon_exclusive[0] is False
    assert not k.state.mms[0].pmds[0].writable
    assert not violations(k)


def test_fork_of_pinned_thp_splits_the_parent_pmd_and_copies_per_pte():
    k = written(thp=True)
    step(k, "pin", mm=0, vpn=1, write=True, longterm=False, id="p")
    step(k, "fork", mm=0, child=1)
    parent, child = k.state.mms[0], k.state.mms[1]
    assert not parent.pmds and len(parent.ptes) == 4 and not child.pmds
    assert all(child.ptes[v].folio != parent.ptes[v].folio for v in range(4))
    assert [k.peek(1, v) for v in range(4)] == [1, 0, 0, 0]
    assert not violations(k)


def test_fork_duplicates_swap_entries_and_clears_the_exclusive_bit():
    k = written()
    assert step(k, "swapout", mm=0, vpn=0).status == "ok"
    assert pte(k, 0, 0).kind == SWAP and pte(k, 0, 0).swp_exclusive
    step(k, "fork", mm=0, child=1)
    assert not pte(k, 0, 0).swp_exclusive and not pte(k, 1, 0).swp_exclusive
    assert k.state.slots[pte(k, 0, 0).slot].count == 2
    assert k.peek(1, 0) == 1
    assert not violations(k)


def test_fork_to_a_used_id_is_a_step_error():
    k = written()
    step(k, "fork", mm=0, child=1)
    step(k, "exit", mm=1)
    with pytest.raises(StepError, match="already used"):
        step(k, "fork", mm=0, child=1)
    with pytest.raises(StepError, match="already used"):
        step(k, "fork", mm=0, child=0)
