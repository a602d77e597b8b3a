"""GUP: pin/get/unpin/put/dma_read/dma_write, gup.unshare and gup.cow_break per era."""
from __future__ import annotations

import pytest

from spec.errors import StepError
from spec.result import Result
from spec.state import GUP_PIN_COUNTING_BIAS, ZERO_FOLIO

from tests.spec.kernel_util import folio, kernel, pte, run, step, violations

CVE_2020_29374 = (          # write; fork; child vmsplice (FOLL_GET); child unmaps; parent writes
    ("mmap", dict(mm=0, vpn=0, npages=1)),
    ("write", dict(mm=0, vpn=0, value=1)),
    ("fork", dict(mm=0, child=1)),
    ("get", dict(mm=1, vpn=0, id="g")),
    ("munmap", dict(mm=1, vpn=0, npages=1)),
    ("write", dict(mm=0, vpn=0, value=2)),
    ("dma_read", dict(id="g")),
)


@pytest.mark.parametrize("preset,leaks", [("v5.7", True), ("v5.8", False), ("v5.9", False),
                                          ("v5.18", False), ("v5.19", False), ("current", False)])
def test_cve_2020_29374_child_reference_sees_the_parents_later_write_only_in_v5_7(preset, leaks):
    k = kernel(preset)
    results = run(k, *CVE_2020_29374)
    assert results[-1].value == (2 if leaks else 1)
    assert not violations(k) or preset not in ("current", "v5.19")


R_O_PIN_AFTER_FORK = (       # write; fork; parent R/O pin of the shared page; parent write
    ("mmap", dict(mm=0, vpn=0, npages=1)),
    ("write", dict(mm=0, vpn=0, value=1)),
    ("fork", dict(mm=0, child=1)),
    ("pin", dict(mm=0, vpn=0, write=False, longterm=False, id="p")),
    ("write", dict(mm=0, vpn=0, value=2)),
    ("dma_read", dict(id="p")),
)


@pytest.mark.parametrize("preset,coherent", [("v5.7", False), ("v5.8", True), ("v5.9", False),
                                             ("v5.18", False), ("v5.19", True), ("current", True)])
def test_ro_pin_of_a_shared_page_is_coherent_from_cow_fixes_part_2(preset, coherent):
    k = kernel(preset)
    assert run(k, *R_O_PIN_AFTER_FORK)[-1].value == (2 if coherent else 1)
    assert k.peek(1, 0) == 1                           # the child keeps its value anyway


def test_ro_pin_unshares_a_shared_page_in_current():
    k = kernel()
    run(k, *R_O_PIN_AFTER_FORK[:3])
    shared = pte(k, 0, 0).folio
    step(k, "pin", mm=0, vpn=0, write=False, longterm=True, id="p")
    assert ("gup.unshare", "unshare") in k.outcomes
    p = pte(k, 0, 0)
    assert p.folio != shared and not p.writable
    f = folio(k, 0, 0)
    assert f.anon_exclusive == [True] and f.pincount == 1
    assert k.state.refs["p"].folio == f.id
    assert not violations(k)


@pytest.mark.parametrize("preset,longterm,on_zero", [
    ("current", True, False), ("current", False, True), ("v5.19", True, True),
    ("v5.9", True, True)])
def test_ro_pin_of_never_written_memory(preset, longterm, on_zero):
    k = kernel(preset)
    step(k, "mmap", mm=0, vpn=0, npages=1)
    step(k, "pin", mm=0, vpn=0, write=False, longterm=longterm, id="p")
    assert (k.state.refs["p"].folio == ZERO_FOLIO) is on_zero
    step(k, "write", mm=0, vpn=0, value=4)
    assert step(k, "dma_read", id="p").value == (0 if on_zero else 4)


def test_rw_pin_faults_in_writable_and_device_writes_are_read_back():
    k = kernel("v5.9")
    step(k, "mmap", mm=0, vpn=0, npages=1)
    assert step(k, "pin", mm=0, vpn=0, write=True, longterm=True, id="p") == Result()
    assert pte(k, 0, 0).writable and k.state.mms[0].has_pinned
    f = folio(k, 0, 0)
    assert (f.refcount, f.pincount) == (1 + GUP_PIN_COUNTING_BIAS, 1)
    step(k, "dma_write", id="p", value=8)
    assert step(k, "read", mm=0, vpn=0).value == 8
    step(k, "unpin", id="p")
    assert (f.refcount, f.pincount) == (1, 0)
    assert not violations(k)


def test_mm_has_pinned_is_not_tracked_before_v5_9():
    k = kernel("v5.7")
    step(k, "mmap", mm=0, vpn=0, npages=1)
    step(k, "pin", mm=0, vpn=0, write=True, longterm=False, id="p")
    assert not k.state.mms[0].has_pinned


def test_pin_of_a_thp_subpage_counts_pincount_without_bias():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=4, thp=True)
    step(k, "write", mm=0, vpn=0, value=1)
    step(k, "pin", mm=0, vpn=2, write=True, longterm=False, id="p")
    f = k.state.folios[k.state.refs["p"].folio]
    assert (f.nr, f.refcount, f.pincount, k.state.refs["p"].subpage) == (4, 2, 1, 2)
    assert not violations(k)


def test_v5_8_get_breaks_cow_even_for_reads():
    k = kernel("v5.8")
    run(k, *CVE_2020_29374[:3])
    shared = pte(k, 1, 0).folio
    step(k, "get", mm=1, vpn=0, id="g")
    assert ("gup.cow_break", "break") in k.outcomes
    assert pte(k, 1, 0).folio != shared and k.state.refs["g"].folio == pte(k, 1, 0).folio


def test_references_survive_unmap_and_exit_and_free_on_release():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=1)
    step(k, "write", mm=0, vpn=0, value=3)
    step(k, "get", mm=0, vpn=0, id="g")
    step(k, "pin", mm=0, vpn=0, write=True, longterm=False, id="p")
    step(k, "exit", mm=0)
    assert step(k, "dma_read", id="g").value == 3
    step(k, "dma_write", id="p", value=4)
    assert k.dma_peek("g") == 4 and len(k.state.folios) == 1
    assert not violations(k)
    step(k, "put", id="g")
    step(k, "unpin", id="p")
    assert k.state.folios == {} and k.state.refs == {}


def test_gup_errors():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=1)
    assert step(k, "pin", mm=0, vpn=3, write=False, longterm=False, id="a").status == "EFAULT"
    assert step(k, "get", mm=0, vpn=3, id="a").status == "EFAULT"
    step(k, "mprotect", mm=0, vpn=0, npages=1, write=False)
    assert step(k, "pin", mm=0, vpn=0, write=True, longterm=False, id="a").status == "EFAULT"
    assert "a" not in k.state.refs
    step(k, "pin", mm=0, vpn=0, write=False, longterm=False, id="ro")
    step(k, "get", mm=0, vpn=0, id="g")
    with pytest.raises(StepError, match="already in use"):
        step(k, "get", mm=0, vpn=0, id="g")
    with pytest.raises(StepError, match="not a R/W pin"):
        step(k, "dma_write", id="ro", value=1)
    with pytest.raises(StepError, match="not a R/W pin"):
        step(k, "dma_write", id="g", value=1)
    with pytest.raises(StepError, match="FOLL_GET"):
        step(k, "unpin", id="g")
    with pytest.raises(StepError, match="FOLL_PIN"):
        step(k, "put", id="ro")
    with pytest.raises(StepError, match="unknown reference"):
        step(k, "dma_read", id="nope")
    step(k, "put", id="g")
    with pytest.raises(StepError, match="unknown reference"):
        step(k, "put", id="g")
