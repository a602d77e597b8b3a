"""Page-table entries and the folio an address maps: the lowest layer of the operations.

    install_pte       set_pte_at (include/linux/pgtable.h); the PMD now points to a page
                      table (pte_alloc, mm/memory.c)
    folio_at          the folio mapped at an address by a present PTE or PMD
                      (vm_normal_folio / follow_page_mask, mm/memory.c, mm/gup.c)
    on_mapped_folio   swapout, migrate and split_folio name a folio by one of its
                      mappings, as reclaim, migration and split_huge_page reach it
                      through the LRU
"""
from __future__ import annotations

from spec.result import OK, REFUSED, Result
from spec.state import HPAGE_NR, PRESENT, Folio, Mm, Pte


def install_pte(mm: Mm, vpn: int, pte: Pte) -> None:
    """set_pte_at; the PMD now points to a page table (pte_alloc)."""
    mm.ptes[vpn] = pte
    mm.pte_tables.add(vpn // HPAGE_NR)


def folio_at(k, mm: Mm, vpn: int) -> tuple[Folio | None, Pte | None, bool]:
    """The folio mapped at vpn (present PTE or PMD), its entry, and whether by PMD."""
    pte, is_pmd = k.state.entry(mm, vpn)
    if pte is None or pte.kind != PRESENT:
        return None, pte, is_pmd
    return k.state.folios.get(pte.folio), pte, is_pmd


def on_mapped_folio(k, args, action, *, large_only: bool = False) -> Result:
    """Run `action(k, folio) -> bool` on the folio mapped at (args mm, vpn). Nothing
    mapped there, a small folio when `large_only`, or an action that backs off is the
    kernel refusing."""
    mm = k.mm(args["mm"])
    vpn = args["vpn"]
    if vpn not in mm.vmas:
        return REFUSED
    folio, _, _ = folio_at(k, mm, vpn)
    if folio is None or (large_only and folio.nr == 1):
        return REFUSED
    return OK if action(k, folio) else REFUSED
