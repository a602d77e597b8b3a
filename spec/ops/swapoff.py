"""swapoff (mm/swapfile.c try_to_unuse -> unuse_mm -> unuse_pte): every swap entry of
every process is brought back, then the swap cache and the swap slots go.

unuse_pte: the folio from the swap cache, or read in from the slot; writeback waited
for (wait_on_page_writeback); mapped R/O and old (pte_mkold(mk_pte(page,
vm_page_prot))), exclusive or not by the swap.unuse point, with the swap entry's
soft-dirty bit from v5.19 (era feature "unuse_keeps_soft_dirty": 14a762dd1977
'mm/swapfile: fix lost swap bits in unuse_pte()'; before, the bit was lost); then
swap_free. try_to_unuse deletes every folio from the swap cache once no entry refers
to its slot.
"""
from __future__ import annotations

from spec import primitives as P
from spec.ops.pgtable import install_pte
from spec.ops.swap_state import delete_from_swap_cache, swap_free
from spec.result import OK, Result
from spec.state import SWAP, Mm


def unuse_pte(k, mm: Mm, vpn: int) -> None:
    st = k.state
    pte = mm.ptes[vpn]
    slot = st.slots[pte.slot]
    if slot.folio:
        folio = st.folios[slot.folio]
    else:
        folio = st.alloc_folio(1)           # read_swap_cache_async
        folio.data[0] = slot.data
        folio.swapcache = slot.id
        slot.folio = folio.id
        P.folio_get(folio)
    folio.writeback = False                 # wait_on_page_writeback
    ctx = P.page_ctx(k, folio, 0, pte, False, mm, mm.vmas.get(vpn, 0))
    exclusive = k.ask("swap.unuse", ctx) == "exclusive"
    P.folio_get(folio)
    P.add_anon_rmap(k, folio, 0, False, exclusive)
    soft_dirty = pte.soft_dirty and bool(k.rules.feature("unuse_keeps_soft_dirty"))
    install_pte(mm, vpn, P.mk_present(folio, 0, False, False, soft_dirty))
    swap_free(k, slot.id)


def op_swapoff(k, args) -> Result:
    st = k.state
    for mid in sorted(st.mms):
        mm = st.mms[mid]
        for vpn in sorted(v for v, p in mm.ptes.items() if p.kind == SWAP):
            unuse_pte(k, mm, vpn)
    for sid in sorted(st.slots):
        slot = st.slots.get(sid)
        if slot is None:
            continue
        if slot.folio:
            folio = st.folios[slot.folio]
            folio.writeback = False
            delete_from_swap_cache(k, folio)
        elif slot.count == 0:
            del st.slots[sid]
    return OK
