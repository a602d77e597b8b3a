"""Soft-dirty tracking (fs/proc/task_mmu.c): clear_softdirty is writing 4 to
/proc/pid/clear_refs (clear_refs_write, CLEAR_REFS_SOFT_DIRTY); softdirty reads the
pagemap's soft-dirty bit (PM_SOFT_DIRTY, bit 55) of one page.

clear_refs_write: every VMA loses VM_SOFTDIRTY (tracking is on; vma_set_page_prot:
shared mappings now want write-notify); every present PTE is write-protected and its
soft-dirty bit cleared (clear_soft_dirty), except a writable PTE of a page that may be
pinned in a COW mapping of an mm that has pinned (pte_is_pinned, v5.11: era feature
"clear_refs_skips_pinned"), which keeps both; a PMD-mapped THP likewise, without the
pinned check (clear_soft_dirty_pmd); swap entries lose their soft-dirty bit. hugetlb
entries are not walked (the walk has no hugetlb_entry).

pagemap (pte_to_pagemap_entry, pagemap_pmd_range): soft-dirty when the entry (present,
swap, PMD) has the bit or the VMA still has VM_SOFTDIRTY.
"""
from __future__ import annotations

from spec import primitives as P
from spec.result import Result
from spec.state import HPAGE_NR, PRESENT, SWAP, VM_HUGETLB, VM_SHARED, VM_SOFTDIRTY, ZERO


def op_clear_softdirty(k, args) -> Result:
    mm = k.mm(args["mm"])
    vmas = mm.vmas
    for v, fl in vmas.items():
        vmas[v] = fl & ~VM_SOFTDIRTY
    for block, pmd in mm.pmds.items():
        if pmd.kind in (PRESENT, ZERO) and not vmas.get(block * HPAGE_NR, 0) & VM_HUGETLB:
            P.wrprotect(pmd)
            pmd.soft_dirty = False
    skip_pinned = k.rules.feature("clear_refs_skips_pinned")
    st = k.state
    for vpn, pte in mm.ptes.items():
        kind = pte.kind
        if kind == SWAP:
            pte.soft_dirty = False
            continue
        if kind == PRESENT and skip_pinned and _pte_is_pinned(k, mm, vpn, pte, st):
            continue
        if kind in (PRESENT, ZERO):
            P.wrprotect(pte)
            pte.soft_dirty = False
    return Result("ok")


def _pte_is_pinned(k, mm, vpn: int, pte, st) -> bool:
    """pte_is_pinned (9348b73c2e1b 'mm: don't play games with pinned pages in
    clear_page_refs'): a writable PTE in a COW mapping of an mm with MMF_HAS_PINNED whose
    page may be pinned."""
    if not pte.writable or mm.vmas.get(vpn, 0) & VM_SHARED or not mm.has_pinned:
        return False
    folio = st.folios.get(pte.folio)
    return folio is not None and P.maybe_dma_pinned(k, folio)


def op_softdirty(k, args) -> Result:
    return Result("ok", soft_dirty_bit(k.state, k.mm(args["mm"]), args["vpn"]))


def soft_dirty_bit(st, mm, vpn: int) -> int:
    """PM_SOFT_DIRTY of one page: 0 where nothing is mapped."""
    fl = mm.vmas.get(vpn)
    if fl is None:
        return 0
    if fl & VM_SOFTDIRTY:
        return 1
    pte, _ = st.entry(mm, vpn)
    return 1 if pte is not None and pte.soft_dirty else 0
