"""Kernel-named primitives: the only code that changes folio counters and flags.

Each primitive does what its kernel namesake does to the state the model keeps, and
nothing else; operations (spec/ops/) are written as sequences of these, so they can be
read next to mm/memory.c. A primitive listed in spec.decisions.PRIMITIVES runs the
extracted assertions bound to it (RuleSet.failed_assertions) on a DecisionContext of
the page at hand — only when the rule set carries assertions, to keep replay fast.

Names: the v5.19-v6.7 page_* names, with the v6.8+ folio_* names in the docstrings
(include/linux/rmap.h, mm/rmap.c, include/linux/page-flags.h, mm/gup.c, mm/swap.c).
"""
from __future__ import annotations

from spec.decisions import DecisionContext
from spec.state import GUP_PIN_COUNTING_BIAS, PRESENT, Folio, Mm, Pte

# --------------------------------------------------------------------------- context

def page_ctx(k, folio: Folio | None, subpage: int = 0, pte: Pte | None = None,
             is_pmd: bool = False, mm: Mm | None = None, vm_flags: int = 1,
             **request) -> DecisionContext:
    """What a kernel function sees about one (sub)page: the folio's flags and counters,
    the entry that maps it, the VMA and the mm. `request` sets the remaining fields
    (foll_*, fault_*, reason, ...). The zero page is `folio=None` with zero_page set."""
    ctx = DecisionContext(**request) if request else DecisionContext()
    if folio is not None:
        ctx.anon = folio.anon
        ctx.ksm = folio.ksm
        ctx.anon_exclusive = folio.anon_exclusive[0 if is_pmd else subpage]
        ctx.large = folio.nr > 1
        ctx.pmd_mapped = is_pmd
        ctx.refcount = folio.refcount
        ctx.mapcount = folio.mapcount[subpage] + folio.entire_mapcount
        ctx.folio_mapcount = sum(folio.mapcount) + folio.entire_mapcount
        # page_trans_huge_mapcount (reuse_swap_page <= v5.17): the largest
        # page_mapcount over all pages of the folio
        ctx.thp_mapcount = max(folio.mapcount) + folio.entire_mapcount
        ctx.pincount = folio.pincount
        # folio_maybe_dma_pinned, as the pinned.maybe point of the rule set answers it,
        # so that extracted rules testing it (an assertion in ClearPageAnonExclusive,
        # a guard in a decision) see what the kernel would. Asked without logging: the
        # decision log records the calls the kernel code makes (maybe_dma_pinned below).
        ctx.maybe_pinned = k.rules.ask("pinned.maybe", ctx) == "pinned"
        ctx.swapcache = bool(folio.swapcache)
        if folio.swapcache:
            slot = k.state.slots.get(folio.swapcache)
            ctx.swapcount = slot.count if slot is not None else 0
    else:
        ctx.anon = False
        ctx.zero_page = True
        ctx.pmd_mapped = is_pmd
    if pte is not None:
        ctx.pte_write = pte.writable
        ctx.pte_dirty = pte.dirty
        ctx.swp_exclusive = pte.swp_exclusive
    ctx.vm_write = bool(vm_flags & 1)
    if mm is not None:
        ctx.mm_has_pinned = mm.has_pinned
    return ctx


def _check(k, name: str, folio: Folio | None, subpage: int = 0, is_pmd: bool = False,
           **request) -> None:
    if k.check_assertions:
        k.assertion(name, page_ctx(k, folio, subpage, None, is_pmd, **request))


def maybe_dma_pinned(k, folio: Folio) -> bool:
    """page_maybe_dma_pinned / folio_maybe_dma_pinned, through the pinned.maybe point."""
    ctx = DecisionContext(large=folio.nr > 1, refcount=folio.refcount, pincount=folio.pincount,
                          anon=folio.anon, ksm=folio.ksm)
    return k.ask("pinned.maybe", ctx) == "pinned"


# --------------------------------------------------------------------------- flags

def set_anon_exclusive(k, folio: Folio, subpage: int) -> None:
    """SetPageAnonExclusive (VM_BUG_ON_PGFLAGS(!PageAnon || PageKsm)). A no-op in eras
    without PG_anon_exclusive (before v5.19: 6c287605fd56 'mm: remember exclusively
    mapped anonymous pages with PG_anon_exclusive')."""
    if not k.has_ae:
        return
    _check(k, "set_anon_exclusive", folio, subpage)
    folio.anon_exclusive[subpage] = True


def clear_anon_exclusive(k, folio: Folio, subpage: int) -> None:
    """ClearPageAnonExclusive."""
    if not k.has_ae:
        return
    _check(k, "clear_anon_exclusive", folio, subpage)
    folio.anon_exclusive[subpage] = False


# --------------------------------------------------------------------------- refcount

def folio_get(folio: Folio, n: int = 1) -> None:
    folio.refcount += n


def folio_put(k, folio: Folio, n: int = 1) -> None:
    """folio_put: the last reference frees (__folio_put -> free_pages_prepare)."""
    folio.refcount -= n
    if folio.refcount <= 0:
        free_folio(k, folio)


def free_folio(k, folio: Folio) -> None:
    """free_pages_prepare: the folio leaves the state; PG_anon_exclusive is cleared on
    free, not on zap (PAGE_FLAGS_CHECK_AT_PREP; 'mm/page-flags: reuse PG_mappedtodisk as
    PG_anon_exclusive for PageAnon() pages'). A mapping or reference still naming the
    id afterwards is a use-after-free (spec.invariants)."""
    _check(k, "free_folio", folio)
    k.state.folios.pop(folio.id, None)
    folio.anon_exclusive = [False] * folio.nr


# --------------------------------------------------------------------------- rmap

def add_new_anon_rmap(k, folio: Folio, is_pmd: bool) -> None:
    """page_add_new_anon_rmap / folio_add_new_anon_rmap: map a fresh folio; "all fresh
    anonymous pages will start out as exclusive" (6c287605fd56 §I.1). A PMD-mappable
    THP carries the flag on the head only (include/linux/page-flags.h); the model maps
    new large folios by PMD only, and small ones by PTE."""
    _check(k, "add_new_anon_rmap", folio, 0, is_pmd)
    if is_pmd:
        folio.entire_mapcount += 1
    else:
        folio.mapcount[0] += 1
    set_anon_exclusive(k, folio, 0)


def add_anon_rmap(k, folio: Folio, subpage: int, is_pmd: bool, exclusive: bool) -> None:
    """page_add_anon_rmap(page, vma, addr, RMAP_EXCLUSIVE?) / folio_add_anon_rmap_pte/_pmd:
    map an existing anon page; RMAP_EXCLUSIVE sets PG_anon_exclusive (swap-in, migration
    restore)."""
    _check(k, "add_anon_rmap", folio, subpage, is_pmd)
    if is_pmd:
        folio.entire_mapcount += 1
    else:
        folio.mapcount[subpage] += 1
    if exclusive:
        set_anon_exclusive(k, folio, 0 if is_pmd else subpage)


def remove_rmap(k, folio: Folio, subpage: int, is_pmd: bool) -> None:
    """page_remove_rmap / folio_remove_rmap_pte/_pmd: zap does not clear the flag (it is
    cleared when the folio is freed: free_folio)."""
    _check(k, "remove_rmap", folio, subpage, is_pmd)
    if is_pmd:
        folio.entire_mapcount -= 1
    else:
        folio.mapcount[subpage] -= 1


def dup_rmap(k, folio: Folio, subpage: int, is_pmd: bool) -> None:
    """page_dup_rmap (<= v5.18): fork shares the page, mapcount + 1."""
    if is_pmd:
        folio.entire_mapcount += 1
    else:
        folio.mapcount[subpage] += 1


def try_dup_anon_rmap(k, folio: Folio, subpage: int, is_pmd: bool) -> None:
    """page_try_dup_anon_rmap / folio_try_dup_anon_rmap_pte/_pmd, success path: the
    caller (fork) has already asked fork.anon_pte, whose "copy" outcome is this
    function's -EBUSY. Clears PG_anon_exclusive ("the duplicated PTEs have to be R/O in
    the parent and the child") and duplicates the mapping."""
    _check(k, "try_dup_anon_rmap", folio, subpage, is_pmd)
    i = 0 if is_pmd else subpage
    if folio.anon_exclusive[i]:
        clear_anon_exclusive(k, folio, i)
    dup_rmap(k, folio, subpage, is_pmd)


def try_share_anon_rmap(k, folio: Folio, subpage: int, is_pmd: bool, reason: str,
                        ctx: DecisionContext) -> bool:
    """page_try_share_anon_rmap / folio_try_share_anon_rmap_pte/_pmd: called with the
    entry already cleared, on an exclusive page; fails (-EBUSY) iff the folio may be
    pinned — asked through rmap.try_share. On success PG_anon_exclusive is cleared
    (include/linux/rmap.h; 'mm: fix PageAnonExclusive clearing racing with concurrent
    RCU GUP-fast')."""
    _check(k, "try_share_anon_rmap", folio, subpage, is_pmd, reason=reason)
    ctx.reason = reason
    ctx.maybe_pinned = maybe_dma_pinned(k, folio)
    if k.ask("rmap.try_share", ctx) == "refuse":
        return False
    clear_anon_exclusive(k, folio, 0 if is_pmd else subpage)
    return True


def move_anon_rmap(k, folio: Folio, subpage: int) -> None:
    """page_move_anon_rmap / folio_move_anon_rmap: the reused page now belongs to this
    VMA's anon_vma. page->mapping is rewritten to the anon_vma, so a KSM page reused by
    do_wp_page (reuse_ksm_page, v5.1-v5.8) is an ordinary anon page afterwards."""
    _check(k, "move_anon_rmap", folio, subpage)
    folio.ksm = False


# --------------------------------------------------------------------------- GUP

def pin_page(k, folio: Folio, subpage: int) -> None:
    """try_grab_page(FOLL_PIN) / try_grab_folio: a small folio gets GUP_PIN_COUNTING_BIAS
    references, a large one one reference and _pincount + 1 ('mm/gup: track FOLL_PIN
    pages', v5.7)."""
    _check(k, "pin_page", folio, subpage, foll_pin=True)
    folio.pincount += 1
    folio.refcount += GUP_PIN_COUNTING_BIAS if folio.nr == 1 else 1


def unpin_page(k, folio: Folio, subpage: int) -> None:
    """unpin_user_page -> gup_put_folio(FOLL_PIN)."""
    _check(k, "unpin_page", folio, subpage, foll_pin=True)
    folio.pincount -= 1
    folio_put(k, folio, GUP_PIN_COUNTING_BIAS if folio.nr == 1 else 1)


# --------------------------------------------------------------------------- pages and PTEs

def copy_page(dst: Folio, di: int, value: int) -> None:
    """copy_user_highpage (value 0 for the zero page: clear_user_highpage)."""
    dst.data[di] = value


def wrprotect(pte: Pte) -> None:
    """ptep_set_wrprotect / pte_wrprotect."""
    pte.writable = False


def mk_present(folio: Folio, subpage: int, writable: bool, dirty: bool) -> Pte:
    """mk_pte(page, vma->vm_page_prot) (+ maybe_mkwrite / pte_mkdirty as the caller asks)."""
    return Pte(PRESENT, folio.id, subpage, writable, dirty)

