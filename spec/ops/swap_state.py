"""The swap cache and swap entry counts (mm/swap_state.c, mm/swapfile.c): how a folio
leaves the swap cache and how a swap slot is freed.

    delete_from_swap_cache   __delete_from_swap_cache: the cache drops its references
    try_to_free_swap         folio_free_swap: only when no swap entry refers to the slot
    free_swap_cache          free_swap_cache on zap of the last mapping
    swap_free                swap_free: one swap entry fewer
    free_swap_and_cache      free_swap_and_cache: zap of a swap PTE
"""
from __future__ import annotations

from spec import primitives as P
from spec.state import Folio


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
