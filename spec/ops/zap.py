"""Zapping mappings (mm/memory.c zap_pte_range, zap_pmd_range, unmap_page_range;
mm/huge_memory.c zap_huge_pmd): munmap, MADV_DONTNEED, mmap over a mapping and exit.

A zapped present entry drops its mapping and its reference (and the swap cache of a
folio nobody maps any more: free_swap_cache); a zapped swap entry drops its slot count
(free_swap_and_cache). PG_anon_exclusive is not cleared on zap but on free.
"""
from __future__ import annotations

from spec import primitives as P
from spec.ops.huge_pmd import split_huge_pmd
from spec.ops.swap_state import free_swap_and_cache, free_swap_cache
from spec.state import HPAGE_NR, PRESENT, SWAP, Mm


def zap_pte(k, mm: Mm, vpn: int) -> None:
    """zap_pte_range for one entry."""
    pte = mm.ptes.pop(vpn, None)
    if pte is None:
        return
    kind = pte.kind
    if kind == PRESENT:
        f = k.state.folios.get(pte.folio)
        if f is None:
            return
        P.remove_rmap(k, f, pte.subpage, False)
        free_swap_cache(k, f)
        P.folio_put(k, f)
    elif kind == SWAP:
        free_swap_and_cache(k, pte.slot)


def zap_huge_pmd(k, mm: Mm, block: int) -> None:
    """zap_huge_pmd: the huge zero page is not counted; a THP drops its PMD mapping."""
    pmd = mm.pmds.pop(block, None)
    if pmd is None or pmd.kind != PRESENT:
        return  # huge zero page: not counted
    f = k.state.folios.get(pmd.folio)
    if f is None:
        return
    P.remove_rmap(k, f, 0, True)
    free_swap_cache(k, f)
    P.folio_put(k, f)


def zap_range(k, mm: Mm, vpn: int, npages: int) -> None:
    """zap_page_range / unmap_page_range: a PMD wholly inside the range is zapped whole,
    one partly inside is split first (__split_huge_pmd in zap_pmd_range)."""
    end = vpn + npages
    if mm.pmds:
        for block in range(vpn // HPAGE_NR, (end - 1) // HPAGE_NR + 1):
            if block in mm.pmds:
                base = block * HPAGE_NR
                if vpn <= base and base + HPAGE_NR <= end:
                    zap_huge_pmd(k, mm, block)
                else:
                    split_huge_pmd(k, mm, block)
    ptes = mm.ptes
    if ptes:
        for v in range(vpn, end):
            if v in ptes:
                zap_pte(k, mm, v)
