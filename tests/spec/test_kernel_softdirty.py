"""Soft-dirty tracking: clear_refs, the write faults that set the bit, the pagemap query,
and the eras' mprotect upgrades (64e455079e1b .. 76aefad628aa), swapoff (14a762dd1977),
pinned pages (9348b73c2e1b), mremap and KSM."""
from __future__ import annotations

import pytest

from spec.presets import PRESETS

from tests.spec.kernel_util import kernel, pte, run, step, violations

ERAS = tuple(PRESETS)
BEFORE_V6_0 = ("v5.7", "v5.8", "v5.9", "v5.18", "v5.19")


def _sd(k, mm=0, vpn=0) -> int:
    return step(k, "softdirty", mm=mm, vpn=vpn).value


def test_a_new_mapping_reads_soft_dirty_until_clear_refs_then_the_next_write_faults():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=2)
    assert _sd(k, vpn=1) == 1                      # VM_SOFTDIRTY on a new VMA
    step(k, "write", mm=0, vpn=0, value=1)
    step(k, "clear_softdirty", mm=0)
    p = pte(k, 0, 0)
    assert (p.writable, p.soft_dirty, p.dirty) == (False, False, True)
    assert _sd(k) == 0 and _sd(k, vpn=1) == 0
    step(k, "write", mm=0, vpn=0, value=2)         # write fault: wp_page_reuse, pte_mkdirty
    assert _sd(k) == 1 and pte(k, 0, 0).writable
    assert _sd(k, mm=0, vpn=7) == 0                # no VMA: nothing
    assert not violations(k)


@pytest.mark.parametrize("era", ERAS)
def test_mprotect_of_a_shared_file_mapping_keeps_tracking_only_from_v6_0(era):
    k = kernel(era)
    run(k, ("mmap", dict(mm=0, vpn=0, npages=1, backing="file", shared=True)),
        ("write", dict(mm=0, vpn=0, value=1)), ("clear_softdirty", dict(mm=0)),
        ("mprotect", dict(mm=0, vpn=0, npages=1, prot="r")),
        ("mprotect", dict(mm=0, vpn=0, npages=1, prot="rw")))
    buggy = era in BEFORE_V6_0
    assert pte(k, 0, 0).writable is buggy
    step(k, "write", mm=0, vpn=0, value=2)
    assert _sd(k) == (0 if buggy else 1)


@pytest.mark.parametrize("era", ERAS)
def test_mprotect_of_private_anon_memory_keeps_tracking_in_every_release(era):
    k = kernel(era)
    run(k, ("mmap", dict(mm=0, vpn=0, npages=1)), ("write", dict(mm=0, vpn=0, value=1)),
        ("clear_softdirty", dict(mm=0)), ("mprotect", dict(mm=0, vpn=0, npages=1, prot="r")),
        ("mprotect", dict(mm=0, vpn=0, npages=1, prot="rw")))
    assert not pte(k, 0, 0).writable               # the soft-dirty check wants the fault
    step(k, "write", mm=0, vpn=0, value=2)
    assert _sd(k) == 1


def test_mprotect_with_unchanged_flags_changes_no_entry():
    """mprotect_fixup returns early where the flags do not change."""
    k = kernel()
    run(k, ("mmap", dict(mm=0, vpn=0, npages=1, backing="file", shared=True)),
        ("write", dict(mm=0, vpn=0, value=1)), ("clear_softdirty", dict(mm=0)),
        ("mprotect", dict(mm=0, vpn=0, npages=1, prot="rw")))
    assert not pte(k, 0, 0).writable and k.outcomes == []


@pytest.mark.parametrize("era", ERAS)
def test_swapoff_keeps_the_soft_dirty_bit_from_v5_19(era):
    k = kernel(era)
    run(k, ("mmap", dict(mm=0, vpn=0, npages=1)), ("write", dict(mm=0, vpn=0, value=1)),
        ("clear_softdirty", dict(mm=0)), ("write", dict(mm=0, vpn=0, value=2)),
        ("swapout", dict(mm=0, vpn=0)))
    assert pte(k, 0, 0).soft_dirty and _sd(k) == 1   # pte_swp_mksoft_dirty
    step(k, "swapoff")
    assert _sd(k) == (0 if era in ("v5.7", "v5.8", "v5.9", "v5.18") else 1)


@pytest.mark.parametrize("era,skips", [("v5.9", False), ("v5.18", True), ("current", True)])
def test_clear_refs_leaves_a_writable_pinned_page_alone_from_v5_11(era, skips):
    k = kernel(era)
    run(k, ("mmap", dict(mm=0, vpn=0, npages=1)), ("write", dict(mm=0, vpn=0, value=1)),
        ("pin", dict(mm=0, vpn=0, write=True, longterm=False, id="p")),
        ("clear_softdirty", dict(mm=0)))
    assert pte(k, 0, 0).writable is skips and pte(k, 0, 0).soft_dirty is skips
    step(k, "write", mm=0, vpn=0, value=2)
    # v5.9 copies the write-protected pinned page away from the pin (page_count reuse)
    assert step(k, "dma_read", id="p").value == (2 if skips else 1)


def test_clear_refs_write_protects_a_thp_and_leaves_hugetlb_alone():
    k = kernel()
    step(k, "mmap", mm=0, vpn=0, npages=4, thp=True)
    step(k, "mmap", mm=0, vpn=4, npages=4, hugetlb=True)
    step(k, "write", mm=0, vpn=0, value=1)
    step(k, "write", mm=0, vpn=4, value=2)
    step(k, "clear_softdirty", mm=0)
    pmds = k.state.mms[0].pmds
    assert not pmds[0].writable and not pmds[0].soft_dirty
    assert pmds[1].writable                      # hugetlb entries are not walked
    step(k, "write", mm=0, vpn=1, value=3)
    assert pmds[0].writable and _sd(k, vpn=1) == 1


def test_mremap_marks_moved_entries_soft_dirty_and_ksm_merge_drops_the_bit():
    k = kernel()
    run(k, ("mmap", dict(mm=0, vpn=0, npages=2)), ("write", dict(mm=0, vpn=0, value=7)),
        ("write", dict(mm=0, vpn=1, value=7)), ("clear_softdirty", dict(mm=0)))
    step(k, "mremap", mm=0, vpn=0, npages=1, new_vpn=8)
    assert ("mremap.soft_dirty", "mark") in k.outcomes and _sd(k, vpn=8) == 1
    run(k, ("madvise", dict(mm=0, vpn=8, npages=1, advice="mergeable")),
        ("madvise", dict(mm=0, vpn=1, npages=1, advice="mergeable")),
        ("clear_softdirty", dict(mm=0)), ("write", dict(mm=0, vpn=1, value=7)))
    assert _sd(k, vpn=1) == 1
    assert step(k, "ksm_merge", mm=0, vpn=8, mm2=0, vpn2=1).status == "ok"
    assert _sd(k, vpn=1) == 0                       # replace_page: a fresh PTE


@pytest.mark.parametrize("era", ERAS)
def test_a_forced_write_into_a_fresh_read_only_page_leaves_it_soft_dirty(era):
    # do_anonymous_page maps the page R/O and clean, without VM_FAULT_WRITE; GUP's next
    # lookup takes a do_wp_page fault (FOLL_COW from it, v4.9-v5.19), which dirties it
    k = kernel(era)
    run(k, ("mmap", dict(mm=0, vpn=0, npages=1)), ("clear_softdirty", dict(mm=0)),
        ("mprotect", dict(mm=0, vpn=0, npages=1, prot="r")),
        ("poke", dict(mm=0, vpn=0, value=1)))
    p = pte(k, 0, 0)
    assert (p.writable, p.dirty, p.soft_dirty) == (False, True, True)
    assert _sd(k) == 1 == k.soft_dirty(0, 0)
    assert k.soft_dirty(0, 5) == 0 and k.soft_dirty(9, 0) == 0   # no VMA, no process
    assert not violations(k)
