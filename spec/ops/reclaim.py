"""Reclaim of anonymous folios to swap: the swapout op and MADV_PAGEOUT (mm/vmscan.c
shrink_folio_list, mm/rmap.c try_to_unmap_one, mm/swap_state.c add_to_swap,
mm/madvise.c madvise_cold_or_pageout_pte_range). Swap-in is a fault:
spec/ops/fault.py do_swap_page.

swapout(mm, vpn) reclaims the folio mapped there, as shrink_folio_list would:
  1. reclaim skips folios that may be pinned before adding them to the swap cache —
     feb889fb40fa 'mm: don't put pinned pages into the swap cache' (v5.10; era
     feature "reclaim_skips_pinned", absent in v5.7-v5.9);
  2. a THP is split first (split_folio_to_list; a THP the split refuses stays);
     every resulting small folio is reclaimed in turn;
  3. add_to_swap: a slot, the folio in the swap cache (+1 reference);
  4. try_to_unmap: every mapping in every process becomes a swap entry. An exclusive
     page must be shared first (rmap.try_share, 'page_try_share_anon_rmap' v5.19:
     "for swap this means, unmapping will fail"); the swap PTE remembers exclusivity
     (swap.entry_exclusive: pte_swp_mkexclusive, 1493a1913e34 'mm/swap: remember
     PG_anon_exclusive via a swp pte bit', v5.19);
  5. pageout writes the data to the slot; __remove_mapping frees the folio when only
     the swap cache holds it, otherwise (pins, FOLL_GET references) it stays in the swap
     cache and a later swap-in finds that same folio.
KSM folios are not swapped out by the model (refused; see docs/limitations.md).

Above spec/ops/thp.py (split_folio) and spec/ops/swap_state.py.
"""
from __future__ import annotations

from spec import primitives as P
from spec.ops.pgtable import folio_at, on_mapped_folio
from spec.ops.swap_state import delete_from_swap_cache
from spec.ops.thp import split_folio
from spec.result import Result
from spec.state import PRESENT, SWAP, Folio, Mm, Pte


def shrink_folio(k, folio: Folio) -> bool:
    """Reclaim one folio; True when every mapping was unmapped."""
    if folio.ksm or not folio.anon:
        return False
    if not folio.swapcache and k.rules.feature("reclaim_skips_pinned"):
        if P.maybe_dma_pinned(k, folio):
            return False  # keep_locked
    if folio.nr > 1:
        pieces = split_folio(k, folio)
        if not pieces:
            return False  # activate_locked
        ok = True
        for p in pieces:
            if p.id in k.state.folios and p.mapped():
                ok = shrink_folio(k, p) and ok
        return ok
    st = k.state
    if not folio.swapcache:
        slot = st.alloc_slot()                # add_to_swap / folio_alloc_swap
        folio.swapcache = slot.id
        slot.folio = folio.id
        P.folio_get(folio)
    if not try_to_unmap(k, folio):
        return False                          # folio_mapped(): activate, stays in the cache
    slot = st.slots[folio.swapcache]
    slot.data = folio.data[0]                 # pageout: swap_writepage
    if folio.refcount == 1:
        # __remove_mapping: only the swap cache holds it (the freeze succeeds)
        delete_from_swap_cache(k, folio)
    return True


def try_to_unmap(k, folio: Folio) -> bool:
    st = k.state
    for mm, vpn, pte, is_pmd in list(st.mappings(folio.id)):
        if pte.kind != PRESENT:
            continue
        i = pte.subpage
        ae = folio.anon_exclusive[i]
        fl = mm.vmas.get(vpn, 0)
        ctx = P.page_ctx(k, folio, i, pte, False, mm, fl, reason="swap")
        # ptep_clear_flush; swap_duplicate; then share an exclusive page or back off
        if ae and not P.try_share_anon_rmap(k, folio, i, False, "swap", ctx):
            return False          # swap_free(entry); set_pte_at(orig); abort the walk
        ctx.anon_exclusive = ae
        swp_exclusive = k.ask("swap.entry_exclusive", ctx) == "exclusive"
        slot = st.slots[folio.swapcache]
        slot.count += 1
        mm.ptes[vpn] = Pte(SWAP, slot=slot.id, swp_exclusive=swp_exclusive)
        P.remove_rmap(k, folio, i, False)
        P.folio_put(k, folio)
    return True


def op_swapout(k, args) -> Result:
    return on_mapped_folio(k, args, shrink_folio)


def pageout_range(k, mm: Mm, vpn: int, npages: int) -> None:
    """MADV_PAGEOUT (madvise_cold_or_pageout_pte_range + reclaim_pages): folios mapped more
    than once are skipped (folio_mapcount() != 1 / folio_likely_mapped_shared); a THP
    partly in the range is split; the rest is reclaimed as above."""
    seen = set()
    for v in range(vpn, vpn + npages):
        if v not in mm.vmas:
            continue
        folio, pte, is_pmd = folio_at(k, mm, v)
        if folio is None or folio.id in seen:
            continue
        seen.add(folio.id)
        shared = folio.folio_mapcount() != 1 if folio.nr == 1 else not _single_mm(k, folio)
        if folio.ksm or shared:
            continue
        shrink_folio(k, folio)


def _single_mm(k, folio: Folio) -> bool:
    return len({mm.id for mm, *_ in k.state.mappings(folio.id)}) == 1

