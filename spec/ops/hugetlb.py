"""hugetlb (mm/hugetlb.c): faults, COW and fork of MAP_HUGETLB mappings. A hugetlb
folio is HPAGE_NR pages mapped by one huge entry, which the model keeps at the PMD
level (Mm.pmds); it is never split, swapped, migrated or merged by the model.

    hugetlb_fault           a fault on a hugetlb VMA: hugetlb_no_page for a none entry,
                            hugetlb_wp for a write or unshare fault on a R/O one
    hugetlb_no_page         a private mapping gets a fresh zeroed anon folio (exclusive,
                            R/O: a write fault then goes through hugetlb_wp); a shared
                            one maps the hugetlbfs page-cache folio, writable if VM_WRITE
                            (hugetlb wants no write-notify)
    hugetlb_wp              the hugetlb.reuse point: reuse (page_mapcount == 1 && anon)
                            or copy (hugetlb_cow before v6.0)
    copy_hugetlb_entry      fork, one entry of a private mapping: the hugetlb.fork point
                            (copy_hugetlb_page_range)

Below spec/ops/fault.py (handle_mm_fault dispatches here for VM_HUGETLB) and
spec/ops/fork.py.
"""
from __future__ import annotations

from spec import primitives as P
from spec.ops.pgtable import filemap_folio
from spec.state import HPAGE_NR, PRESENT, VM_SHARED, VM_WRITE, Folio, Mm, Pte


def hugetlb_fault(k, mm: Mm, vpn: int, write: bool, unshare: bool) -> None:
    block = vpn // HPAGE_NR
    fl = mm.vmas[vpn]
    pmd = mm.pmds.get(block)
    if pmd is None:
        hugetlb_no_page(k, mm, block, fl, write)
        return
    if pmd.kind != PRESENT or not (write or unshare):
        return
    if pmd.writable:
        if write:
            pmd.dirty = pmd.soft_dirty = True      # huge_pte_mkdirty
        return
    if fl & VM_SHARED:
        if write and fl & VM_WRITE:                # hugetlb_wp: a shared mapping writes in place
            pmd.writable = pmd.dirty = pmd.soft_dirty = True
        return
    hugetlb_wp(k, mm, block, fl, unshare)


def _new_folio(k, data: list | None = None) -> Folio:
    """alloc_hugetlb_folio (+ copy_user_large_folio from `data`), mapped exclusive
    (hugepage_add_new_anon_rmap / hugetlb_add_new_anon_rmap): the caller installs it."""
    folio = k.state.alloc_folio(HPAGE_NR)
    folio.hugetlb = True
    if data is not None:
        folio.data = list(data)
    P.folio_get(folio)
    P.add_new_anon_rmap(k, folio, True)
    return folio


def hugetlb_no_page(k, mm: Mm, block: int, fl: int, write: bool) -> None:
    base = block * HPAGE_NR
    if fl & VM_SHARED:
        fid, index = mm.files[base]
        folio = filemap_folio(k, fid, index // HPAGE_NR)
        P.folio_get(folio)
        P.add_file_rmap(k, folio, 0, True)
        mm.pmds[block] = P.mk_present(folio, 0, bool(fl & VM_WRITE), write)
        return
    folio = _new_folio(k)
    # make_huge_pte(vma, page, VM_WRITE && VM_SHARED): R/O in a private mapping
    mm.pmds[block] = P.mk_present(folio, 0, False, False)
    if write:
        hugetlb_wp(k, mm, block, fl, False)


def hugetlb_wp(k, mm: Mm, block: int, fl: int, unshare: bool) -> None:
    """hugetlb_wp (hugetlb_cow before v6.0) on a private mapping's R/O entry."""
    pmd = mm.pmds[block]
    folio = k.state.folios[pmd.folio]
    ctx = P.page_ctx(k, folio, 0, pmd, True, mm, fl, fault_write=not unshare,
                     fault_unshare=unshare)
    if k.ask("hugetlb.reuse", ctx) == "reuse":
        if folio.anon and not folio.anon_exclusive[0]:
            P.move_anon_rmap(k, folio, 0)
            P.set_anon_exclusive(k, folio, 0)
        if not unshare:                            # set_huge_ptep_writable
            pmd.writable = bool(fl & VM_WRITE)
            pmd.dirty = pmd.soft_dirty = True
        return
    new = _new_folio(k, folio.data)
    mm.pmds[block] = P.mk_present(new, 0, not unshare and bool(fl & VM_WRITE), not unshare)
    P.remove_rmap(k, folio, 0, True)
    P.folio_put(k, folio)


def copy_hugetlb_entry(k, parent: Mm, child: Mm, block: int, pmd: Pte, fl: int) -> None:
    """copy_hugetlb_page_range for one present entry of a private mapping. "copy": the
    child gets a copy at once (hugetlb_install_folio: writable, dirty); "share": the
    source entry is write-protected (huge_ptep_set_wrprotect) and the child's too;
    "share_writable": the child gets the source entry as read before it was
    write-protected (4eae4efa2c29 in v5.12, until 84894e1c42e9 in v5.13)."""
    if pmd.kind != PRESENT:
        return
    folio = k.state.folios[pmd.folio]
    ctx = P.page_ctx(k, folio, 0, pmd, True, parent, fl)
    ctx.maybe_pinned = P.maybe_dma_pinned(k, folio)
    outcome = k.ask("hugetlb.fork", ctx)
    if outcome == "copy":
        new = _new_folio(k, folio.data)
        child.pmds[block] = P.mk_present(new, 0, bool(fl & VM_WRITE), True)
        return
    as_read = pmd.copy()
    P.try_dup_anon_rmap(k, folio, 0, True)
    P.folio_get(folio)
    P.wrprotect(pmd)
    if outcome == "share":
        child.pmds[block] = P.mk_present(folio, 0, False, pmd.dirty, pmd.soft_dirty)
    else:
        child.pmds[block] = as_read
