"""The read-only queries: pte (the entry, as a string) and pfn (which page)."""
from __future__ import annotations

from spec.state import MAX_VPN

from tests.spec.kernel_util import kernel, run, step


def _pte(k, mm, vpn):
    return step(k, "pte", mm=mm, vpn=vpn).value


def _pfn(k, mm, vpn):
    return step(k, "pfn", mm=mm, vpn=vpn).value


def test_pte_names_the_entry_and_its_flags():
    k = kernel()
    run(k, ("mmap", dict(mm=0, vpn=0, npages=3)), ("write", dict(mm=0, vpn=0, value=1)),
        ("read", dict(mm=0, vpn=1)), ("mmap", dict(mm=0, vpn=4, npages=4, thp=True)),
        ("write", dict(mm=0, vpn=4, value=2)))
    assert _pte(k, 0, 0) == "present,write,dirty,softdirty,exclusive"
    assert _pte(k, 0, 1) == "zero" and _pte(k, 0, 2) == "none" and _pte(k, 0, 9) == "none"
    assert _pte(k, 0, 5) == "present,pmd,write,dirty,softdirty,exclusive"
    step(k, "fork", mm=0, child=1)
    assert _pte(k, 0, 0) == "present,dirty,softdirty"
    step(k, "swapout", mm=0, vpn=0)
    assert _pte(k, 0, 0) == "swap,softdirty"
    step(k, "mmap", mm=2, vpn=0, npages=1, backing="file")
    step(k, "read", mm=2, vpn=0)
    assert _pte(k, 2, 0) == "present,pagecache"
    assert k.outcomes == [] and k.apply("pte", {"mm": 2, "vpn": 0}).status == "ok"


def test_pfn_tells_pages_apart_and_follows_ksm_and_cow():
    k = kernel()
    run(k, ("mmap", dict(mm=0, vpn=0, npages=2)), ("write", dict(mm=0, vpn=0, value=7)),
        ("write", dict(mm=0, vpn=1, value=7)),
        ("madvise", dict(mm=0, vpn=0, npages=2, advice="mergeable")))
    a, b = _pfn(k, 0, 0), _pfn(k, 0, 1)
    assert a != b and a == 1 + 0 * MAX_VPN + 0
    step(k, "ksm_merge", mm=0, vpn=0, mm2=0, vpn2=1)
    assert _pfn(k, 0, 0) == _pfn(k, 0, 1) == a
    step(k, "fork", mm=0, child=1)
    assert _pfn(k, 1, 1) == a
    step(k, "write", mm=1, vpn=1, value=8)
    assert _pfn(k, 1, 1) == 1 + 1 * MAX_VPN + 1 != a
    step(k, "swapout", mm=1, vpn=1)
    assert _pfn(k, 1, 1) is None


def test_pfn_of_the_zero_pages_and_of_a_thp_subpage():
    k = kernel()
    run(k, ("mmap", dict(mm=0, vpn=0, npages=1)), ("read", dict(mm=0, vpn=0)),
        ("mmap", dict(mm=0, vpn=4, npages=4, thp=True)), ("read", dict(mm=0, vpn=5)))
    assert (_pfn(k, 0, 0), _pfn(k, 0, 5)) == (0, -1)
    step(k, "mmap", mm=0, vpn=8, npages=4, thp=True)
    step(k, "write", mm=0, vpn=9, value=1)
    step(k, "fork", mm=0, child=1)
    assert _pfn(k, 1, 10) == _pfn(k, 0, 10) == 1 + 10 and _pfn(k, 0, 9) != _pfn(k, 0, 10)
