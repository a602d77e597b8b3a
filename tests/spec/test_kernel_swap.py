"""Reclaim (swapout, MADV_PAGEOUT) and swap-in per era."""
from __future__ import annotations

import pytest

from spec.result import Result
from spec.state import PRESENT, SWAP

from tests.spec.kernel_util import folio, kernel, pte, step, violations, written




@pytest.mark.parametrize("preset", ["v5.7", "v5.9", "v5.18", "v5.19", "current"])
def test_swapout_frees_the_folio_and_swapin_restores_the_data(preset):
    k = written(preset, npages=1)
    assert step(k, "swapout", mm=0, vpn=0) == Result()
    p = pte(k, 0, 0)
    assert p.kind == SWAP and k.state.folios == {}
    assert p.swp_exclusive is (preset in ("v5.19", "current"))
    slot = k.state.slots[p.slot]
    assert (slot.count, slot.data, slot.folio) == (1, 1, 0)
    assert k.peek(0, 0) == 1
    assert step(k, "swapin", mm=0, vpn=0) == Result()
    p = pte(k, 0, 0)
    assert p.kind == PRESENT and not p.writable      # a read fault maps R/O
    exclusive = preset in ("v5.19", "current")
    f = folio(k, 0, 0)
    assert f.anon_exclusive == [exclusive]
    (slot,) = k.state.slots.values()       # a read fault leaves the swap cache to reclaim
    assert (slot.count, slot.folio, f.swapcache) == (0, f.id, slot.id)
    assert not violations(k)
    step(k, "write", mm=0, vpn=0, value=2)
    assert step(k, "read", mm=0, vpn=0).value == 2
    assert not violations(k)
    if preset == "v5.9":
        # page_count() == 1 fails on a swap-cache page: the write copied, and the old
        # folio stays in the swap cache for reclaim (what 53a05ad9f21d optimised, v5.18)
        (slot,) = k.state.slots.values()
        assert slot.count == 0 and not k.state.folios[slot.folio].mapped()
        assert pte(k, 0, 0).folio != slot.folio
    elif exclusive:
        # PageAnonExclusive: reused "without further checks", the cache stays
        assert pte(k, 0, 0).folio == f.id and f.swapcache
    else:
        # reuse_swap_page (v5.7) / try_to_free_swap + page_count (v5.18) drop the cache
        assert pte(k, 0, 0).folio == f.id and k.state.slots == {}
    step(k, "munmap", mm=0, vpn=0, npages=1)       # zap: free_swap_cache
    if preset == "v5.9":    # the old copy was never mapped here: it waits for reclaim
        assert [f.refcount for f in k.state.folios.values()] == [1]
    else:
        assert k.state.slots == {} and k.state.folios == {}
    assert not violations(k)


def test_write_fault_on_a_swap_entry_maps_writable_at_once():
    k = written(npages=1)
    step(k, "swapout", mm=0, vpn=0)
    step(k, "write", mm=0, vpn=0, value=5)
    assert ("swap.in_exclusive", "exclusive") in k.outcomes
    assert pte(k, 0, 0).writable and k.state.slots == {}
    assert not violations(k)


@pytest.mark.parametrize("preset,reclaimed", [("v5.9", True), ("v5.18", False),
                                              ("v5.19", False), ("current", False)])
def test_reclaim_skips_pinned_pages_since_v5_10(preset, reclaimed):
    k = written(preset, npages=1)
    step(k, "pin", mm=0, vpn=0, write=True, longterm=True, id="p")
    assert step(k, "swapout", mm=0, vpn=0).status == ("ok" if reclaimed else "refused")
    if reclaimed:   # unmapped into the swap cache, the pin keeps the folio there
        f = k.state.folios[k.state.refs["p"].folio]
        assert f.swapcache and not f.mapped()
        step(k, "swapin", mm=0, vpn=0)
        assert pte(k, 0, 0).folio == f.id            # swap-in finds the same folio
    else:
        assert pte(k, 0, 0).kind == PRESENT and pte(k, 0, 0).writable


def test_v5_9_swapped_pinned_page_goes_stale_on_the_next_write():
    k = written("v5.9", npages=1)
    step(k, "pin", mm=0, vpn=0, write=True, longterm=True, id="p")
    step(k, "swapout", mm=0, vpn=0)
    step(k, "read", mm=0, vpn=0)                     # swap-in: R/O, the cache holds a ref
    step(k, "write", mm=0, vpn=0, value=2)           # page_count != 1: copy
    assert ("wp.reuse", "copy") in k.outcomes
    assert step(k, "dma_read", id="p").value == 1    # the pin lost the process's write


def test_swapout_with_a_foll_get_reference_keeps_the_folio_in_the_swap_cache():
    k = written(npages=1)
    step(k, "get", mm=0, vpn=0, id="g")
    fid = pte(k, 0, 0).folio
    assert step(k, "swapout", mm=0, vpn=0) == Result()
    assert ("rmap.try_share", "share") in k.outcomes
    f = k.state.folios[fid]
    assert f.swapcache and f.anon_exclusive == [False] and f.refcount == 2
    assert not violations(k)
    step(k, "swapin", mm=0, vpn=0)
    assert pte(k, 0, 0).folio == fid
    step(k, "put", id="g")
    step(k, "munmap", mm=0, vpn=0, npages=1)
    assert k.state.folios == {} and k.state.slots == {}


def test_swapout_of_a_shared_page_unmaps_every_process():
    k = written(npages=1)
    step(k, "fork", mm=0, child=1)
    step(k, "swapout", mm=1, vpn=0)
    assert pte(k, 0, 0).kind == SWAP and pte(k, 1, 0).kind == SWAP
    assert k.state.slots[pte(k, 0, 0).slot].count == 2
    step(k, "write", mm=1, vpn=0, value=7)
    assert (k.peek(0, 0), k.peek(1, 0)) == (1, 7)
    assert not violations(k)
    step(k, "exit", mm=1)
    step(k, "exit", mm=0)
    assert k.state.folios == {} and k.state.slots == {}


def test_thp_is_split_before_swapout():
    k = written(npages=4, thp=True)
    step(k, "write", mm=0, vpn=3, value=4)
    assert step(k, "swapout", mm=0, vpn=0) == Result()
    assert all(pte(k, 0, v).kind == SWAP for v in range(4))
    assert [k.peek(0, v) for v in range(4)] == [1, 0, 0, 4]
    assert not violations(k)


def test_pageout_skips_folios_mapped_more_than_once():
    k = written(npages=2)
    step(k, "write", mm=0, vpn=1, value=2)
    step(k, "fork", mm=0, child=1)
    step(k, "write", mm=0, vpn=1, value=3)           # vpn 1 is now private again
    assert step(k, "madvise", mm=0, vpn=0, npages=2, advice="pageout") == Result()
    assert pte(k, 0, 0).kind == PRESENT and pte(k, 0, 1).kind == SWAP
    assert not violations(k)


def test_nothing_to_swap_is_refused():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=1)
    assert step(k, "swapout", mm=0, vpn=0).status == "refused"
    step(k, "read", mm=0, vpn=0)
    assert step(k, "swapout", mm=0, vpn=0).status == "refused"   # the zero page
    assert step(k, "swapin", mm=0, vpn=0).status == "refused"
    assert step(k, "swapout", mm=0, vpn=9).status == "refused"
