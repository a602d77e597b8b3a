"""mremap (move_page_tables): whole PMDs move, partly moved THPs split, file pages keep
their page index, errors."""
from __future__ import annotations

from spec.run import Session
from spec.presets import PRESETS
from spec.trace import step as parsed

from tests.spec.kernel_util import folio, kernel, pte, run, step, violations


def test_small_pages_move_with_their_vma_and_entries():
    k = kernel()
    run(k, ("mmap", dict(mm=0, vpn=0, npages=2)), ("write", dict(mm=0, vpn=0, value=1)),
        ("swapout", dict(mm=0, vpn=0)), ("write", dict(mm=0, vpn=1, value=2)))
    assert step(k, "mremap", mm=0, vpn=0, npages=2, new_vpn=5).status == "ok"
    mm = k.state.mms[0]
    assert set(mm.vmas) == {5, 6} and set(mm.ptes) == {5, 6}
    assert mm.ptes[5].kind == 3 and [k.peek(0, 5), k.peek(0, 6)] == [1, 2]   # a swap entry moved
    assert mm.pte_tables == {1}                       # block 0 has no VMA left
    assert step(k, "read", mm=0, vpn=0).status == "SIGSEGV" and not violations(k)


def test_a_whole_aligned_thp_moves_as_a_pmd_half_of_one_is_split():
    k = kernel()
    run(k, ("mmap", dict(mm=0, vpn=0, npages=4, thp=True)), ("write", dict(mm=0, vpn=0, value=1)),
        ("mmap", dict(mm=0, vpn=8, npages=4, thp=True)), ("write", dict(mm=0, vpn=9, value=2)))
    step(k, "mremap", mm=0, vpn=0, npages=4, new_vpn=16)
    mm = k.state.mms[0]
    assert 4 in mm.pmds and 0 not in mm.pmds and k.peek(0, 16) == 1
    thp = folio(k, 0, 9)
    step(k, "mremap", mm=0, vpn=10, npages=2, new_vpn=24)
    assert 2 not in mm.pmds                            # split: PTE-mapped at two places
    assert pte(k, 0, 9).folio == pte(k, 0, 24).folio == thp.id
    assert thp.mapcount == [1, 1, 1, 1] and thp.anon_exclusive == [True] * 4
    step(k, "fork", mm=0, child=1)
    step(k, "write", mm=1, vpn=24, value=3)
    assert [k.peek(0, 24), k.peek(1, 24), k.peek(1, 9)] == [0, 3, 2] and not violations(k)


def test_errors_and_the_fixed_destination():
    k = kernel()
    run(k, ("mmap", dict(mm=0, vpn=0, npages=2)), ("mmap", dict(mm=0, vpn=4, npages=2)),
        ("write", dict(mm=0, vpn=0, value=1)), ("write", dict(mm=0, vpn=4, value=2)))
    assert step(k, "mremap", mm=0, vpn=0, npages=3, new_vpn=8).status == "EFAULT"   # a hole
    assert step(k, "mremap", mm=0, vpn=0, npages=2, new_vpn=1).status == "EINVAL"   # overlap
    assert step(k, "mremap", mm=0, vpn=0, npages=1, new_vpn=4).status == "ok"       # MAP_FIXED
    assert k.peek(0, 4) == 1 and 5 in k.state.mms[0].vmas and not violations(k)


def test_a_pin_stays_bound_to_the_moved_page_and_a_file_page_keeps_its_index():
    s = Session(PRESETS["current"])
    for st in (parsed("mmap", mm=0, vpn=0, npages=1), parsed("write", mm=0, vpn=0, value=1),
               parsed("pin", mm=0, vpn=0, write=True, longterm=False, id="p"),
               parsed("mremap", mm=0, vpn=0, npages=1, new_vpn=3),
               parsed("dma_write", id="p", value=2),
               parsed("mmap", mm=0, vpn=6, npages=1, backing="file", shared=True),
               parsed("mremap", mm=0, vpn=6, npages=1, new_vpn=9),
               parsed("write", mm=0, vpn=9, value=4)):
        _, found = s.step(st)
        assert found == [], st
    assert s.step(parsed("read", mm=0, vpn=3))[0].value == 2
    assert s.contract.refs["p"].vpn == 3
    assert s.kernel.state.mms[0].files == {9: (1, 6)} and s.kernel.file_peek("file", 6) == 4
