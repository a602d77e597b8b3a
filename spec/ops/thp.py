"""THP folios (mm/huge_memory.c, mm/khugepaged.c): splitting a THP into small folios,
and MADV_COLLAPSE. A THP is HPAGE_NR (4) pages in the model; the PMD level (eligibility,
split_huge_pmd) is spec/ops/huge_pmd.py.

    split_folio       split_huge_page_to_list: can_split_folio (no extra references),
                      unmap_folio (try_to_migrate with TTU_SPLIT_FREEZE: PMDs are split
                      with freeze, every mapping becomes a migration entry), split into
                      small folios, remap_page (remove_migration_ptes)
    collapse          MADV_COLLAPSE (v6.1): collapse_huge_page copies the block into a
                      new THP (collapse_huge_page never collapses in place)

Above spec/ops/migrate.py (split_folio freezes the mappings with try_to_migrate);
reclaim and KSM split THPs through split_folio.
"""
from __future__ import annotations

from spec import primitives as P
from spec.ops.huge_pmd import one_vma_covers
from spec.ops.migrate import remove_migration_pte, try_to_migrate
from spec.ops.pgtable import on_mapped_folio
from spec.result import EAGAIN, EINVAL, OK, Result
from spec.state import HPAGE_NR, PRESENT, VM_HUGETLB, VM_NOHUGEPAGE, VM_SHARED, VM_WRITE, \
    ZERO, Folio, Mm


def can_split_folio(folio: Folio) -> bool:
    """can_split_folio: folio_mapcount == folio_ref_count - extra_pins - 1 (the caller's
    reference): any GUP pin or reference makes the split fail (-EAGAIN/-EBUSY)."""
    extra = folio.nr if folio.swapcache else 0
    return folio.folio_mapcount() == folio.refcount - extra


def split_folio(k, folio: Folio) -> list[Folio]:
    """split_huge_page_to_list; returns the small folios, or [] when refused (hugetlb
    folios are never split)."""
    if folio.nr == 1 or folio.ksm or folio.hugetlb or not folio.anon \
            or not can_split_folio(folio):
        return []
    st = k.state
    # unmap_folio: freeze every mapping into migration entries (PMDs split with freeze;
    # a PMD whose exclusive head cannot be shared is split without freeze, and the
    # split then fails: "split the PMD only and let try_to_migrate_one() fail later")
    P.folio_get(folio)                      # the splitter's own reference
    entries = try_to_migrate(k, folio, "thp_freeze")
    if entries is None:
        P.folio_put(k, folio)
        return []
    # __split_huge_page: the head becomes a small folio, tails new folios; each takes
    # its own references back when remapped
    pieces = [folio] + [st.alloc_folio(1) for _ in range(folio.nr - 1)]
    for i, p in enumerate(pieces):
        if i:
            p.data[0] = folio.data[i]
    folio.data = [folio.data[0]]
    folio.nr = 1
    folio.anon_exclusive = [False]   # tail flags dropped in __split_huge_page_tail
    folio.mapcount = [0]
    folio.entire_mapcount = 0
    folio.refcount = 0
    folio.pincount = 0
    # remap_page -> remove_migration_ptes on every piece
    for mm, addr, is_pmd in entries:
        entry = mm.ptes[addr]
        remove_migration_pte(k, mm, addr, False, pieces[entry.subpage], 0)
    # pieces nobody maps any more are released (put_page of the unmapped subpages)
    for p in pieces:
        if p.refcount == 0:
            P.free_folio(k, p)
    return pieces


def op_split_folio(k, args) -> Result:
    return on_mapped_folio(k, args, split_folio, large_only=True)


def collapse(k, mm: Mm, block: int) -> Result:
    """MADV_COLLAPSE of one aligned block (madvise_collapse -> hpage_collapse_scan_pmd ->
    collapse_huge_page). Every PTE must map a small anon, non-KSM page whose references
    are all mappings (is_refcount_suitable: GUP pins and references fail with -EAGAIN),
    or be none / the zero page (MADV_COLLAPSE ignores max_ptes_none); swap entries would
    be swapped in first (not modelled: -EAGAIN); at least one PTE must be writable
    (SCAN_PAGE_RO: -EINVAL). The data is copied into a new THP,
    PMD-mapped, exclusive, writable if VM_WRITE (maybe_pmd_mkwrite(pmd_mkdirty()))."""
    base = block * HPAGE_NR
    vmas = mm.vmas
    for v in range(base, base + HPAGE_NR):
        fl = vmas.get(v)
        if fl is None or fl & (VM_NOHUGEPAGE | VM_HUGETLB | VM_SHARED) or v in mm.files:
            return EINVAL   # anonymous private memory only (the model has no file THP)
    if not one_vma_covers(mm, block):
        # hugepage_vma_check -> transhuge_vma_suitable: no PMD spans two VMAs (an
        # mprotect of part of the block split it): SCAN_ADDRESS_RANGE, -EINVAL
        return EINVAL
    if block in mm.pmds:
        return OK if mm.pmds[block].kind == PRESENT else EINVAL
    st = k.state
    olds = []
    for v in range(base, base + HPAGE_NR):
        pte = mm.ptes.get(v)
        if pte is None or pte.kind == ZERO:
            olds.append(None)
            continue
        if pte.kind != PRESENT:
            return EAGAIN
        f = st.folios[pte.folio]
        if f.ksm or not f.anon:
            return EINVAL
        expected = f.folio_mapcount() + (f.nr if f.swapcache else 0)
        if f.refcount != expected:
            return EAGAIN
        olds.append((pte, f))
    if all(o is None for o in olds):
        return EINVAL  # nothing to collapse (SCAN_PTE_NON_PRESENT / all none)
    if not any(o[0].writable for o in olds if o is not None):
        # SCAN_PAGE_RO: hpage_collapse_scan_pmd / __collapse_huge_page_isolate need one
        # writable PTE (checked in the source; a 2025 proposal drops the requirement)
        return EINVAL
    new = st.alloc_folio(HPAGE_NR)
    for i, o in enumerate(olds):
        P.copy_page(new, i, 0 if o is None else o[1].data[o[0].subpage])
    # __collapse_huge_page_copy: the old PTEs are cleared and their pages released
    for i, o in enumerate(olds):
        v = base + i
        if v in mm.ptes:
            pte = mm.ptes.pop(v)
            if pte.kind == PRESENT:
                f = st.folios[pte.folio]
                P.remove_rmap(k, f, pte.subpage, False)
                P.folio_put(k, f)
    mm.pte_tables.discard(block)
    P.folio_get(new)
    P.add_new_anon_rmap(k, new, True)
    vm_write = bool(vmas[base] & VM_WRITE)
    mm.pmds[block] = P.mk_present(new, 0, vm_write, True)
    return OK

