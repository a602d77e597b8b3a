"""Page faults on private anonymous memory (mm/memory.c, mm/huge_memory.c) and the
read/write operations that trigger them.

    handle_mm_fault            -> __handle_mm_fault: PMD level, then handle_pte_fault
    do_anonymous_page          none PTE: zero page on read, fresh exclusive page on write
    do_huge_pmd_anonymous_page none PMD in a THP-eligible block: huge zero page on read,
                               a fresh THP, PMD-mapped, on write
    do_wp_page                 write (or FAULT_FLAG_UNSHARE) fault on a R/O present PTE:
                               the wp.reuse decision point, then wp_page_reuse or
                               wp_page_copy
    do_huge_pmd_wp_page        the same on a R/O PMD; when not reused, split the PMD and
                               fall back to the PTE level (VM_FAULT_FALLBACK; "thp: change
                               CoW semantics for anon-THP")
    do_swap_page               swap PTE: the swap.in_exclusive decision point; also
                               the swapin op (a read fault on a swap entry)

Above spec/ops/huge_pmd.py (a write fault on the huge zero page, or a PMD not reused,
splits the PMD) and spec/ops/swap_state.py; below GUP and KSM, which fault pages in
through handle_mm_fault.
"""
from __future__ import annotations

from spec import primitives as P
from spec.ops.huge_pmd import split_huge_pmd, thp_eligible
from spec.ops.pgtable import install_pte
from spec.ops.swap_state import delete_from_swap_cache, swap_free, try_to_free_swap
from spec.result import OK, REFUSED, SIGSEGV, Result
from spec.state import HPAGE_NR, PRESENT, SWAP, VM_WRITE, ZERO, Folio, Mm, Pte


def handle_mm_fault(k, mm: Mm, vpn: int, write: bool = False, unshare: bool = False) -> None:
    """Fault vpn in (the VMA exists; the caller checked permissions). FAULT_FLAG_WRITE
    and FAULT_FLAG_UNSHARE are exclusive (include/linux/mm_types.h enum fault_flag)."""
    block = vpn // HPAGE_NR
    pmd = mm.pmds.get(block)
    if pmd is None and thp_eligible(mm, block):
        do_huge_pmd_anonymous_page(k, mm, block, write)
        return
    if pmd is not None:
        if pmd.kind == PRESENT:
            if not (write or unshare) or pmd.writable:
                if write:
                    pmd.dirty = True
                return
            if do_huge_pmd_wp_page(k, mm, block, unshare):
                return
            # VM_FAULT_FALLBACK: the PMD was split; retry at the PTE level
        elif pmd.kind == ZERO:
            if not (write or unshare):
                return
            # do_huge_pmd_wp_page: is_huge_zero_pmd -> fallback: __split_huge_pmd
            split_huge_pmd(k, mm, block)
    handle_pte_fault(k, mm, vpn, write, unshare)


def handle_pte_fault(k, mm: Mm, vpn: int, write: bool, unshare: bool) -> None:
    pte = mm.ptes.get(vpn)
    if pte is None:
        do_anonymous_page(k, mm, vpn, write)
        return
    if pte.kind == SWAP:
        do_swap_page(k, mm, vpn, write)
        return
    if write or unshare:
        if pte.kind == ZERO or not pte.writable:
            do_wp_page(k, mm, vpn, unshare)
        else:
            pte.dirty = True  # pte_mkdirty on a write to a writable PTE


def do_anonymous_page(k, mm: Mm, vpn: int, write: bool) -> None:
    """Read: map the shared zero page (my_zero_pfn, pte_special). Write: a fresh zeroed
    page, exclusive (folio_add_new_anon_rmap), writable and dirty if VM_WRITE."""
    if not write:
        install_pte(mm, vpn, Pte(ZERO))
        return
    folio = k.state.alloc_folio(1)
    P.folio_get(folio)
    P.add_new_anon_rmap(k, folio, False)
    vm_write = bool(mm.vmas[vpn] & VM_WRITE)
    install_pte(mm, vpn, P.mk_present(folio, 0, vm_write, vm_write))


def do_huge_pmd_anonymous_page(k, mm: Mm, block: int, write: bool) -> None:
    """Read (with the huge zero page enabled, the default): map the huge zero page.
    Write: allocate a THP, PMD-mapped, exclusive on the head, writable if VM_WRITE
    (__do_huge_pmd_anonymous_page: maybe_pmd_mkwrite(pmd_mkdirty(entry)))."""
    if not write:
        mm.pmds[block] = Pte(ZERO)
        return
    folio = k.state.alloc_folio(HPAGE_NR)
    P.folio_get(folio)
    P.add_new_anon_rmap(k, folio, True)
    vm_write = bool(mm.vmas[block * HPAGE_NR] & VM_WRITE)
    mm.pmds[block] = P.mk_present(folio, 0, vm_write, vm_write)


def do_wp_page(k, mm: Mm, vpn: int, unshare: bool) -> None:
    """Write or unshare fault on a R/O PTE. The zero page is always copied. For an anon
    page the wp.reuse point decides (era rules in spec.presets: reuse_swap_page
    mapcount <= v5.8; page_count == 1 since 09854ba94c6a 'mm: do_wp_page()
    simplification' (v5.9); + swapcache since 53a05ad9f21d (v5.18); PageAnonExclusive
    first since 6c287605fd56 (v5.19); wp_can_reuse_anon_folio (v6.7))."""
    pte = mm.ptes[vpn]
    if pte.kind == ZERO:
        wp_page_copy(k, mm, vpn, pte, None, unshare)
        return
    folio = k.state.folios[pte.folio]
    i = pte.subpage
    ctx = P.page_ctx(k, folio, i, pte, False, mm, mm.vmas[vpn],
                     fault_write=not unshare, fault_unshare=unshare)
    if k.ask("wp.reuse", ctx) == "copy":
        wp_page_copy(k, mm, vpn, pte, folio, unshare)
        return
    # reuse. An exclusive page is reused "without further checks" (v5.19+), leaving any
    # swap cache alone; otherwise the refcount path (v5.18+) or reuse_swap_page (<= v5.17)
    # has freed the swap cache of a page no swap entry refers to
    if folio.swapcache and not folio.anon_exclusive[i]:
        try_to_free_swap(k, folio)
    if not folio.anon_exclusive[i]:
        P.move_anon_rmap(k, folio, i)
        P.set_anon_exclusive(k, folio, i)
    if unshare:
        return  # do_wp_page: "if (unlikely(unshare)) ... return 0" (never writable)
    # wp_page_reuse: maybe_mkwrite(pte_mkdirty(entry), vma)
    pte.writable = bool(mm.vmas[vpn] & VM_WRITE)
    pte.dirty = True


def wp_page_copy(k, mm: Mm, vpn: int, pte: Pte, old, unshare: bool) -> None:
    """wp_page_copy: a new exclusive page with the old contents (zero for the zero page);
    writable and dirty for a write fault, R/O for an unshare fault; the old mapping is
    removed (page_remove_rmap + put_page)."""
    new = k.state.alloc_folio(1)
    P.copy_page(new, 0, 0 if old is None else old.data[pte.subpage])
    P.folio_get(new)
    P.add_new_anon_rmap(k, new, False)
    writable = not unshare and bool(mm.vmas[vpn] & VM_WRITE)
    install_pte(mm, vpn, P.mk_present(new, 0, writable, not unshare))
    if old is not None:
        P.remove_rmap(k, old, pte.subpage, False)
        P.folio_put(k, old)


def do_huge_pmd_wp_page(k, mm: Mm, block: int, unshare: bool) -> bool:
    """Write/unshare fault on a R/O PMD-mapped THP. True when handled at the PMD level
    (reused); False after splitting the PMD (VM_FAULT_FALLBACK). Eras: reuse_swap_page
    (mapcount) <= v5.17; 3bff7e3f1f16 'mm/huge_memory: streamline COW logic in
    do_huge_pmd_wp_page()' (v5.18, page_count); PageAnonExclusive first (v5.19)."""
    pmd = mm.pmds[block]
    folio = k.state.folios[pmd.folio]
    base = block * HPAGE_NR
    ctx = P.page_ctx(k, folio, 0, pmd, True, mm, mm.vmas[base],
                     fault_write=not unshare, fault_unshare=unshare)
    if k.ask("wp.reuse", ctx) == "copy":
        split_huge_pmd(k, mm, block)
        return False
    if folio.swapcache and not folio.anon_exclusive[0]:
        try_to_free_swap(k, folio)
    if not folio.anon_exclusive[0]:
        P.move_anon_rmap(k, folio, 0)
        P.set_anon_exclusive(k, folio, 0)
    if not unshare:
        pmd.writable = bool(mm.vmas[base] & VM_WRITE)
        pmd.dirty = True
    return True


def do_swap_page(k, mm: Mm, vpn: int, write: bool) -> None:
    """Swap-in fault (mm/memory.c do_swap_page). The swap cache is looked up first
    (swapin_readahead adds a fresh folio to it otherwise: page == swapcache; the
    SWP_SYNCHRONOUS_IO bypass is not modelled). The fault holds a reference while it
    decides, so the context's refcount is the folio's plus one; swapcount counts the
    slot's entries including the faulting one (reuse_swap_page ran before swap_free).
    should_try_to_free_swap: a write fault by the only user drops the swap cache first
    (c145e0b47c77 'mm: streamline COW logic in do_swap_page()')."""
    pte = mm.ptes[vpn]
    slots = k.state.slots
    slot = slots[pte.slot]
    if slot.folio:
        folio = k.state.folios[slot.folio]
    else:
        folio = k.state.alloc_folio(1)
        folio.data[0] = slot.data
        folio.swapcache = slot.id     # add_to_swap_cache
        slot.folio = folio.id
        P.folio_get(folio)
    swapcount = slot.count
    if (write and not folio.ksm and folio.refcount == 1 and slot.count == 1):
        # should_try_to_free_swap + try_to_free_swap after swap_free: the slot's last
        # entry is ours and the cache holds the only other reference.
        slot.count = 0
        delete_from_swap_cache_keep(k, folio)
        slot = None
    ctx = P.page_ctx(k, folio, 0, pte, False, mm, mm.vmas[vpn], fault_write=write,
                     from_swapcache=True)
    ctx.refcount = folio.refcount + 1
    ctx.swapcount = swapcount
    ctx.swapcache = bool(folio.swapcache)
    exclusive = k.ask("swap.in_exclusive", ctx) == "exclusive"
    vm_write = bool(mm.vmas[vpn] & VM_WRITE)
    writable = exclusive and write and vm_write
    P.folio_get(folio)
    P.add_anon_rmap(k, folio, 0, False, exclusive)
    install_pte(mm, vpn, P.mk_present(folio, 0, writable, writable))
    if slot is not None:
        swap_free(k, pte.slot)
        if exclusive and write and folio.swapcache:
            # reuse_swap_page (<= v5.17) deletes the page from the swap cache when it
            # reuses it for a write; a read fault leaves the cache for reclaim
            try_to_free_swap(k, folio)
    if write and not writable:
        do_wp_page(k, mm, vpn, False)


def delete_from_swap_cache_keep(k, folio: Folio) -> None:
    """delete_from_swap_cache while the fault still holds the folio (refcount stays >= 1
    because the caller maps it right after)."""
    P.folio_get(folio)            # the fault's own reference
    delete_from_swap_cache(k, folio)
    folio.refcount -= 1           # handed over to the mapping the caller installs


# --------------------------------------------------------------------------- ops

def op_read(k, args) -> Result:
    mm = k.mm(args["mm"])
    vpn = args["vpn"]
    if vpn not in mm.vmas:
        return SIGSEGV
    pte, is_pmd = k.state.entry(mm, vpn)
    if pte is None or pte.kind == SWAP:
        handle_mm_fault(k, mm, vpn)
        pte, is_pmd = k.state.entry(mm, vpn)
    if pte.kind == ZERO:
        return Result("ok", 0)
    f = k.state.folios[pte.folio]
    return Result("ok", f.data[vpn % HPAGE_NR if is_pmd else pte.subpage])


def op_write(k, args) -> Result:
    mm = k.mm(args["mm"])
    vpn = args["vpn"]
    flags = mm.vmas.get(vpn)
    if flags is None or not flags & VM_WRITE:
        return SIGSEGV
    pte, is_pmd = k.state.entry(mm, vpn)
    if pte is None or pte.kind != PRESENT or not pte.writable:
        handle_mm_fault(k, mm, vpn, write=True)
        pte, is_pmd = k.state.entry(mm, vpn)
    pte.dirty = True
    f = k.state.folios[pte.folio]
    f.data[vpn % HPAGE_NR if is_pmd else pte.subpage] = args["value"]
    return OK


def op_swapin(k, args) -> Result:
    """A read fault on a swap entry (do_swap_page)."""
    mm = k.mm(args["mm"])
    vpn = args["vpn"]
    if vpn not in mm.vmas:
        return REFUSED
    pte = mm.ptes.get(vpn)
    if pte is None or pte.kind != SWAP:
        return REFUSED
    do_swap_page(k, mm, vpn, False)
    return OK
