"""KSM (mm/ksm.c): ksmd merging two identical pages, and unmerging (MADV_UNMERGEABLE).

ksm_merge(mm, vpn, mm2, vpn2) is one successful scan pair of ksmd
(try_to_merge_two_pages / try_to_merge_with_ksm_page / try_to_merge_one_page):
both addresses in VM_MERGEABLE VMAs, both map present anon pages with equal contents
(memcmp_pages); a THP is split first (split_huge_page; refused when it cannot be).
The page that is already KSM, else the first one, becomes the KSM page (kpage); the
other mapping is write-protected and replaced by kpage (replace_page). The first one
is the page ksmd is scanning, the second the one it found in the unstable tree,
scanned earlier (cmp_and_merge_page -> try_to_merge_two_pages(rmap_item, page,
tree_rmap_item, tree_page), which makes `page` the stable page first): either page of
a pair can be the first, so mmreview verify tries both orders.

write_protect_page: if the PTE is writable, dirty or maps an exclusive page, clear it
and require folio_mapcount + 1 + swapped == folio_ref_count ("Check that no O_DIRECT or
similar I/O is in progress on the page": pins and FOLL_GET references refuse); an
exclusive page must then be shared (rmap.try_share; v5.19: "For KSM, this means sharing
will fail"); the PTE ends R/O and clean. A clean R/O non-exclusive PTE is not checked —
as in the kernel.

break_ksm: a write fault (FAULT_FLAG_WRITE|FAULT_FLAG_REMOTE) up to v6.1, an unshare
fault since v6.2 ('mm/ksm: fix KSM COW breaking with userfaultfd-wp via
FAULT_FLAG_UNSHARE'; era feature "ksm_unshare").

Above spec/ops/thp.py (split_folio) and spec/ops/fault.py (break_ksm faults).
"""
from __future__ import annotations

from spec import primitives as P
from spec.ops.fault import handle_mm_fault
from spec.ops.pgtable import folio_at, install_pte
from spec.ops.swap_state import try_to_free_swap
from spec.ops.thp import split_folio
from spec.result import OK, REFUSED, Result
from spec.state import VM_MERGEABLE, Folio, Mm


def _page(k, mm: Mm, vpn: int):
    """The small, present anon page at vpn after splitting a THP: (folio, pte) or None."""
    folio, pte, is_pmd = folio_at(k, mm, vpn)
    if folio is None or not folio.anon:
        return None
    if folio.nr > 1:
        if not split_folio(k, folio):
            return None
        folio, pte, is_pmd = folio_at(k, mm, vpn)
        if folio is None or is_pmd:
            return None
    return folio, pte


def write_protect_page(k, mm: Mm, vpn: int, folio: Folio, pte) -> bool:
    i = pte.subpage
    ae = folio.anon_exclusive[i]
    if pte.writable or pte.dirty or ae:
        swapped = 1 if folio.swapcache else 0
        # ksmd's own reference (follow_page) is the "+ 1" on both sides
        if folio.folio_mapcount() + swapped != folio.refcount:
            return False
        if ae:
            ctx = P.page_ctx(k, folio, i, pte, False, mm, mm.vmas.get(vpn, 0))
            ctx.refcount = folio.refcount + 1
            if not P.try_share_anon_rmap(k, folio, i, False, "ksm", ctx):
                return False
        pte.writable = False
        pte.dirty = False
    return True


def replace_page(k, mm: Mm, vpn: int, old: Folio, pte, kpage: Folio) -> None:
    P.folio_get(kpage)
    P.add_anon_rmap(k, kpage, 0, False, False)
    install_pte(mm, vpn, P.mk_present(kpage, 0, False, False))
    P.remove_rmap(k, old, pte.subpage, False)
    if not old.mapped():
        try_to_free_swap(k, old)
    P.folio_put(k, old)


def break_ksm(k, mm: Mm, vpn: int) -> None:
    folio, pte, _ = folio_at(k, mm, vpn)
    if folio is None or not folio.ksm:
        return
    if k.rules.feature("ksm_unshare"):
        handle_mm_fault(k, mm, vpn, unshare=True)
    else:
        handle_mm_fault(k, mm, vpn, write=True)


def op_ksm_merge(k, args) -> Result:
    mm1, v1 = k.mm(args["mm"]), args["vpn"]
    mm2, v2 = k.mm(args["mm2"]), args["vpn2"]
    if (mm1.id, v1) == (mm2.id, v2):
        return REFUSED
    for mm, v in ((mm1, v1), (mm2, v2)):
        if not mm.vmas.get(v, 0) & VM_MERGEABLE:
            return REFUSED
    a, b = k.peek(mm1.id, v1), k.peek(mm2.id, v2)
    f1, _, _ = folio_at(k, mm1, v1)
    f2, _, _ = folio_at(k, mm2, v2)
    if f1 is None or f2 is None or a != b:
        return REFUSED
    p1 = _page(k, mm1, v1)
    p2 = _page(k, mm2, v2) if p1 is not None else None
    if p1 is None or p2 is None:
        return REFUSED
    (f1, pte1), (f2, pte2) = p1, p2
    if f1.ksm and f2.ksm:
        return OK if f1 is f2 else REFUSED
    if f2.ksm:  # merge into the existing KSM page
        mm1, v1, f1, pte1, mm2, v2, f2, pte2 = mm2, v2, f2, pte2, mm1, v1, f1, pte1
    made_ksm = False
    if not f1.ksm:
        if not write_protect_page(k, mm1, v1, f1, pte1):
            return REFUSED
        f1.ksm = True                      # set_page_stable_node / folio_set_stable_node
        made_ksm = True
    if f2 is f1:                           # "ksm page forked": the same page
        if not write_protect_page(k, mm2, v2, f2, pte2):
            return REFUSED
        return OK
    if not write_protect_page(k, mm2, v2, f2, pte2):
        if made_ksm:
            break_ksm(k, mm1, v1)          # break_cow(rmap_item)
        return REFUSED
    replace_page(k, mm2, v2, f2, pte2, f1)
    return OK


def unmerge_range(k, mm: Mm, vpn: int, npages: int) -> None:
    """unmerge_ksm_pages for MADV_UNMERGEABLE."""
    for v in range(vpn, vpn + npages):
        if v in mm.vmas:
            break_ksm(k, mm, v)

