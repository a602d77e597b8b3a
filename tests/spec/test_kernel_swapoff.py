"""swapoff (unuse_pte, swap.unuse) and writeback (a folio left in the swap cache under
writeback)."""
from __future__ import annotations

import pytest

from spec.presets import PRESETS

from tests.spec.kernel_util import folio, kernel, pte, run, step, violations

ERAS = tuple(PRESETS)
AE = ("v5.19", "v6.0", "v6.2", "v6.5", "v6.8", "current")


@pytest.mark.parametrize("era", ERAS)
def test_swapoff_brings_every_entry_back_read_only_exclusive_from_v5_19(era):
    k = kernel(era)
    run(k, ("mmap", dict(mm=0, vpn=0, npages=2)), ("write", dict(mm=0, vpn=0, value=1)),
        ("write", dict(mm=0, vpn=1, value=2)), ("fork", dict(mm=0, child=1)),
        ("swapout", dict(mm=0, vpn=0)), ("swapout", dict(mm=0, vpn=1)),
        ("swapin", dict(mm=1, vpn=1)))
    assert step(k, "swapoff").status == "ok"
    st = k.state
    assert not st.slots and all(p.kind == 1 and not p.writable
                                for m in st.mms.values() for p in m.ptes.values())
    assert all(not f.swapcache for f in st.folios.values())
    assert [k.peek(0, 0), k.peek(0, 1), k.peek(1, 0), k.peek(1, 1)] == [1, 2, 1, 2]
    assert not violations(k)
    # vpn 0 was shared by both processes: never exclusive
    assert not folio(k, 0, 0).anon_exclusive[0]


@pytest.mark.parametrize("era", ERAS)
def test_swapoff_restores_exclusivity_from_the_swap_entry(era):
    k = kernel(era)
    run(k, ("mmap", dict(mm=0, vpn=0, npages=1)), ("write", dict(mm=0, vpn=0, value=1)),
        ("swapout", dict(mm=0, vpn=0)))
    assert pte(k, 0, 0).swp_exclusive is (era in AE)
    step(k, "swapoff")
    assert ("swap.unuse", "exclusive" if era in AE else "shared") in k.outcomes
    assert folio(k, 0, 0).anon_exclusive[0] is (era in AE)
    assert step(k, "pte", mm=0, vpn=0).value.split(",")[0] == "present"


def test_writeback_leaves_the_folio_in_the_swap_cache_until_it_is_reclaimed_again():
    k = kernel("v5.18")
    run(k, ("mmap", dict(mm=0, vpn=0, npages=1)), ("write", dict(mm=0, vpn=0, value=1)))
    assert step(k, "writeback", mm=0, vpn=0).status == "ok"
    slot = next(iter(k.state.slots.values()))
    f = k.state.folios[slot.folio]
    assert f.writeback and f.refcount == 1 and pte(k, 0, 0).kind == 3
    step(k, "swapin", mm=0, vpn=0)                 # found in the swap cache
    assert pte(k, 0, 0).folio == f.id and f.swapcache and not violations(k)
    assert step(k, "migrate", mm=0, vpn=0).status == "refused"
    # v5.18's reuse frees the swap cache first; under writeback it cannot: copy
    step(k, "write", mm=0, vpn=0, value=2)
    assert ("wp.reuse", "copy") in k.outcomes and pte(k, 0, 0).folio != f.id
    assert k.peek(0, 0) == 2 and not violations(k)


def test_swapout_ends_writeback_and_swapoff_waits_for_it():
    k = kernel()
    run(k, ("mmap", dict(mm=0, vpn=0, npages=2)), ("write", dict(mm=0, vpn=0, value=1)),
        ("write", dict(mm=0, vpn=1, value=2)), ("writeback", dict(mm=0, vpn=0)),
        ("writeback", dict(mm=0, vpn=1)), ("swapin", dict(mm=0, vpn=1)))
    step(k, "swapout", mm=0, vpn=1)
    assert all(not f.writeback for f in k.state.folios.values() if f.mapped()) \
        or len(k.state.folios) == 1
    step(k, "swapoff")
    assert not k.state.slots and all(not f.writeback for f in k.state.folios.values())
    assert [k.peek(0, 0), k.peek(0, 1)] == [1, 2] and not violations(k)
