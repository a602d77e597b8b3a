"""Shared pieces of the operations: zapping entries (mm/memory.c zap_pte_range,
zap_huge_pmd), the swap cache (mm/swap_state.c, mm/swapfile.c), installing entries.

Source citations name the kernel function whose effect each helper reproduces.
"""
from __future__ import annotations

from spec import primitives as P
from spec.kernel import OK, REFUSED
from spec.state import HPAGE_NR, MIGRATION, PRESENT, SWAP, ZERO, VM_HUGEPAGE, VM_NOHUGEPAGE, \
    Folio, Mm, Pte


def install_pte(mm: Mm, vpn: int, pte: Pte) -> None:
    """set_pte_at; the PMD now points to a page table (pte_alloc)."""
    mm.ptes[vpn] = pte
    mm.pte_tables.add(vpn // HPAGE_NR)


def thp_eligible(mm: Mm, block: int) -> bool:
    """transhuge_vma_suitable + hugepage_vma_check for the model: the whole aligned block
    lies in one VMA with VM_HUGEPAGE (mmap thp=true or MADV_HUGEPAGE) and not
    VM_NOHUGEPAGE, and the PMD is none (no page table yet)."""
    base = block * HPAGE_NR
    first = mm.vmas.get(base, 0)
    if not first & VM_HUGEPAGE or first & VM_NOHUGEPAGE or block in mm.pte_tables \
            or block in mm.pmds:
        return False
    # one VMA covers the whole block: equal flags on every page (VMAs with equal flags
    # would have been merged; a flag change on part of the block split the VMA)
    vmas = mm.vmas
    return all(vmas.get(v) == first for v in range(base + 1, base + HPAGE_NR))


# --------------------------------------------------------------------------- swap cache

def delete_from_swap_cache(k, folio: Folio) -> None:
    """delete_from_swap_cache / __delete_from_swap_cache: the folio leaves the swap cache
    and drops the cache's reference. Reclaim wrote the data to the slot at pageout; the
    model writes it on removal, which is equivalent (the folio was clean or written)."""
    slots = k.state.slots
    slot = slots[folio.swapcache]
    slot.data = folio.data[0]
    slot.folio = 0
    folio.swapcache = 0
    if slot.count == 0:
        del slots[slot.id]     # swapcache_free: last user of the slot
    P.folio_put(k, folio, folio.nr)


def try_to_free_swap(k, folio: Folio) -> None:
    """try_to_free_swap / folio_free_swap: drop the swap cache when no swap entry refers
    to the slot any more (!folio_swapped) and the folio is not under writeback."""
    if folio.swapcache and k.state.slots[folio.swapcache].count == 0:
        delete_from_swap_cache(k, folio)


def free_swap_cache(k, folio: Folio) -> None:
    """free_swap_cache (via free_pages_and_swap_cache on zap): an unmapped swap-cache
    folio with no swap entries left loses its swap cache."""
    if folio.swapcache and not folio.mapped():
        try_to_free_swap(k, folio)


def swap_free(k, slot_id: int) -> None:
    """swap_free: one swap entry fewer; the slot goes when no entry and no cache remain."""
    slots = k.state.slots
    slot = slots[slot_id]
    slot.count -= 1
    if slot.count == 0 and not slot.folio:
        del slots[slot_id]


def free_swap_and_cache(k, slot_id: int) -> None:
    """free_swap_and_cache (zap of a swap PTE): drop the entry; when it was the last one
    and the cached folio is unmapped, reclaim the swap cache (__try_to_reclaim_swap with
    TTRS_UNMAPPED)."""
    slots = k.state.slots
    slot = slots.get(slot_id)
    if slot is None:
        return  # use-after-free of a slot: reported by spec.invariants
    slot.count -= 1
    if slot.count == 0:
        if slot.folio:
            f = k.state.folios.get(slot.folio)
            if f is not None and not f.mapped():
                delete_from_swap_cache(k, f)
        else:
            del slots[slot_id]


# --------------------------------------------------------------------------- zap

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
        from spec.ops.thp import split_huge_pmd
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


def folio_at(k, mm: Mm, vpn: int) -> tuple[Folio | None, Pte | None, bool]:
    """The folio mapped at vpn (present PTE or PMD), its entry, and whether by PMD."""
    pte, is_pmd = k.state.entry(mm, vpn)
    if pte is None or pte.kind != PRESENT:
        return None, pte, is_pmd
    return k.state.folios.get(pte.folio), pte, is_pmd


def on_mapped_folio(k, args, action, *, large_only: bool = False):
    """Run `action(k, folio) -> bool` on the folio mapped at (args mm, vpn): swapout,
    migrate and split_folio name a folio by one of its mappings, as reclaim, migration
    and split_huge_page reach it through the LRU. Nothing mapped there, a small folio
    when `large_only`, or an action that backs off is the kernel refusing."""
    mm = k.mm(args["mm"])
    vpn = args["vpn"]
    if vpn not in mm.vmas:
        return REFUSED
    folio, _, _ = folio_at(k, mm, vpn)
    if folio is None or (large_only and folio.nr == 1):
        return REFUSED
    return OK if action(k, folio) else REFUSED


__all__ = ["install_pte", "thp_eligible", "delete_from_swap_cache", "try_to_free_swap",
           "free_swap_cache", "swap_free", "free_swap_and_cache", "zap_pte", "zap_huge_pmd",
           "zap_range", "folio_at", "on_mapped_folio", "MIGRATION", "ZERO", "SWAP", "PRESENT"]
