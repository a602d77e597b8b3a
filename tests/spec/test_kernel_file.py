"""File, shmem and shared anonymous mappings: the page cache, private-mapping COW
(wp.pagecache), write-notify, FOLL_FORCE into R/O mappings, the page cache's refcount."""
from __future__ import annotations

import pytest

from spec.presets import PRESETS
from spec.run import run_trace
from spec.state import FILE, SHMEM
from spec.trace import parse_trace

from tests.spec.kernel_util import folio, kernel, pte, step, violations

ERAS = tuple(PRESETS)


def test_a_shared_writer_changes_the_page_cache_that_a_private_mapper_reads_until_it_writes():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=1, backing="file", shared=True)
    step(k, "mmap", mm=1, vpn=0, npages=1, backing="file")
    assert step(k, "read", mm=1, vpn=0).value == 0
    cache = folio(k, 1, 0)
    assert not cache.anon and cache.mapping == FILE and cache.refcount == 2   # cache + map
    step(k, "write", mm=0, vpn=0, value=1)
    assert step(k, "read", mm=1, vpn=0).value == 1     # the same page-cache page
    step(k, "write", mm=1, vpn=0, value=2)              # COW: wp.pagecache
    assert ("wp.pagecache", "copy") in k.outcomes
    assert folio(k, 1, 0).anon and folio(k, 1, 0).anon_exclusive == [True]
    assert k.file_peek("file", 0) == 1 and step(k, "read", mm=0, vpn=0).value == 1
    assert not violations(k)


def test_a_private_write_fault_on_a_none_pte_copies_the_file_do_cow_fault():
    k = kernel()
    step(k, "mmap", mm=0, vpn=3, npages=1, backing="shmem", shared=True)
    step(k, "write", mm=0, vpn=3, value=7)
    step(k, "mmap", mm=1, vpn=3, npages=1, backing="shmem")
    step(k, "write", mm=1, vpn=3, value=8)
    assert folio(k, 1, 3).anon and k.file_peek("shmem", 3) == 7
    assert k.state.pagecache == {(SHMEM, 3): folio(k, 0, 3).id}


def test_read_faults_of_a_shared_mapping_map_writable_only_without_write_notify():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=1, backing="file", shared=True)
    step(k, "mmap", mm=0, vpn=1, npages=1, backing="shmem", shared=True)
    step(k, "read", mm=0, vpn=0)
    step(k, "read", mm=0, vpn=1)
    assert not pte(k, 0, 0).writable        # a file with writeback wants write-notify
    assert pte(k, 0, 1).writable            # tmpfs does not ...
    step(k, "clear_softdirty", mm=0)
    step(k, "munmap", mm=0, vpn=1, npages=1)
    step(k, "mmap", mm=0, vpn=1, npages=1, backing="shmem", shared=True)
    step(k, "clear_softdirty", mm=0)
    step(k, "read", mm=0, vpn=1)
    assert not pte(k, 0, 1).writable        # ... unless soft-dirty tracking is on
    step(k, "write", mm=0, vpn=1, value=4)  # wp_page_shared: writable in place
    assert ("wp.pagecache", "share") in k.outcomes
    assert pte(k, 0, 1).writable and pte(k, 0, 1).soft_dirty and k.file_peek("shmem", 1) == 4


def test_shared_anonymous_memory_is_shared_with_children_only():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=1, shared=True)
    step(k, "mmap", mm=2, vpn=0, npages=1, shared=True)   # another object
    step(k, "write", mm=0, vpn=0, value=5)
    step(k, "fork", mm=0, child=1)
    assert k.state.mms[1].ptes == {}          # vma_needs_copy: no anon_vma
    assert step(k, "read", mm=1, vpn=0).value == 5
    step(k, "write", mm=1, vpn=0, value=6)
    assert step(k, "read", mm=0, vpn=0).value == 6
    assert step(k, "read", mm=2, vpn=0).value == 0
    assert not violations(k)


def test_dontneed_of_a_file_page_refaults_the_page_cache():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=1, backing="file", shared=True)
    step(k, "write", mm=0, vpn=0, value=5)
    step(k, "mmap", mm=1, vpn=0, npages=1, backing="file")
    step(k, "write", mm=1, vpn=0, value=6)
    step(k, "madvise", mm=1, vpn=0, npages=1, advice="dontneed")
    assert k.peek(1, 0) == 5 and step(k, "read", mm=1, vpn=0).value == 5


@pytest.mark.parametrize("era", ERAS)
def test_a_poke_into_a_ro_private_file_mapping_never_reaches_the_file(era):
    """Dirty COW's single-threaded form: the FOLL_FORCE write breaks COW first."""
    k = kernel(era)
    step(k, "mmap", mm=0, vpn=0, npages=1, backing="file", prot="r")
    step(k, "read", mm=0, vpn=0)
    assert step(k, "poke", mm=0, vpn=0, value=5).status == "ok"
    assert step(k, "read", mm=0, vpn=0).value == 5
    assert k.file_peek("file", 0) == 0
    p = pte(k, 0, 0)
    assert folio(k, 0, 0).anon and not p.writable and p.dirty   # dirty, still R/O
    assert step(k, "write", mm=0, vpn=0, value=6).status == "SIGSEGV"
    assert not violations(k)


@pytest.mark.parametrize("era", ERAS)
def test_forced_writes_into_ro_shared_mappings_and_hugetlb_are_refused(era):
    k = kernel(era)
    step(k, "mmap", mm=0, vpn=0, npages=1, backing="file", shared=True, prot="r")
    assert step(k, "poke", mm=0, vpn=0, value=5).status == "EFAULT"
    assert step(k, "get", mm=0, vpn=0, id="g", write=True, force=True).status == "EFAULT"
    step(k, "mmap", mm=0, vpn=4, npages=4, hugetlb=True, prot="r")
    assert step(k, "poke", mm=0, vpn=4, value=5).status == "EFAULT"
    assert k.file_peek("file", 0) == 0


def test_wipeonfork_and_collapse_refuse_file_backed_ranges():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=4, backing="file")
    assert step(k, "madvise", mm=0, vpn=0, npages=1, advice="wipeonfork").status == "EINVAL"
    assert step(k, "madvise", mm=0, vpn=0, npages=4, advice="collapse").status == "EINVAL"
    step(k, "madvise", mm=0, vpn=0, npages=4, advice="hugepage")
    step(k, "write", mm=0, vpn=0, value=1)
    assert not k.state.mms[0].pmds          # no THP on a file range


def test_a_page_that_reuses_a_page_cache_page_breaks_file_integrity():
    """A rule set whose do_wp_page makes a private mapping's page-cache page writable
    (the "share" outcome) writes the file: the contract's file-integrity clause says so."""
    rules = PRESETS["current"]
    bad = type(rules)(name="reuse-pagecache", features=rules.features,
                      decide={**rules.decide, "wp.pagecache": lambda c: "share"})
    t = parse_trace({"steps": [
        {"op": "mmap", "mm": 0, "vpn": 0, "npages": 1, "backing": "file"},
        {"op": "read", "mm": 0, "vpn": 0},
        {"op": "write", "mm": 0, "vpn": 0, "value": 1}]})
    assert run_trace(t, bad).clauses == {"file-integrity"}
    assert run_trace(t, rules).clauses == set()


def test_shared_hugetlb_pages_live_in_the_hugetlbfs_page_cache():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=4, hugetlb=True, shared=True)
    step(k, "write", mm=0, vpn=1, value=3)
    step(k, "fork", mm=0, child=1)
    assert k.peek(1, 1) == 3 and step(k, "read", mm=1, vpn=1).value == 3
    assert folio(k, 0, 0).hugetlb and not folio(k, 0, 0).anon
