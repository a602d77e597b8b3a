"""Transparent huge pages (mm/huge_memory.c, mm/khugepaged.c): PMD split, folio split,
MADV_COLLAPSE. A THP is HPAGE_NR (4) pages in the model.

    split_huge_pmd    __split_huge_pmd_locked without freeze: one PTE per subpage with
                      the PMD's write/dirty bits; the head's PG_anon_exclusive goes to
                      every subpage or not: the thp.split point (6c287605fd56 §I.6)
    split_folio       split_huge_page_to_list: can_split_folio (no extra references),
                      unmap_folio (try_to_migrate with TTU_SPLIT_FREEZE: PMDs are split
                      with freeze, every mapping becomes a migration entry), split into
                      small folios, remap_page (remove_migration_ptes)
    collapse          MADV_COLLAPSE (v6.1): collapse_huge_page copies the block into a
                      new THP (never in place: INV-B6)
"""
from __future__ import annotations

from spec import primitives as P
from spec.kernel import OK, REFUSED, Result
from spec.ops.common import install_pte, on_mapped_folio, thp_eligible
from spec.state import HPAGE_NR, MIGRATION, PRESENT, SWAP, VM_HUGEPAGE, VM_NOHUGEPAGE, \
    VM_WRITE, ZERO, Mm, Pte


def split_huge_pmd(k, mm: Mm, block: int) -> None:
    """__split_huge_pmd / __split_huge_pmd_locked(freeze=false)."""
    pmd = mm.pmds.pop(block, None)
    if pmd is None:
        return
    base = block * HPAGE_NR
    if pmd.kind == ZERO:
        # __split_huge_zero_page_pmd: a page table of zero-page PTEs
        for i in range(HPAGE_NR):
            install_pte(mm, base + i, Pte(ZERO))
        return
    folio = k.state.folios[pmd.folio]
    anon_exclusive = folio.anon_exclusive[0]
    propagate = False
    if anon_exclusive:
        ctx = P.page_ctx(k, folio, 0, pmd, True, mm, mm.vmas.get(base, 0))
        propagate = k.ask("thp.split", ctx) == "propagate"
    # page_ref_add(page, HPAGE_PMD_NR - 1): one reference per PTE mapping
    P.folio_get(folio, HPAGE_NR - 1)
    for i in range(HPAGE_NR):
        folio.mapcount[i] += 1
        if propagate and i:
            P.set_anon_exclusive(k, folio, i)
        install_pte(mm, base + i, P.mk_present(folio, i, pmd.writable, pmd.dirty))
    folio.entire_mapcount -= 1


def op_split_pmd(k, args) -> Result:
    mm = k.mm(args["mm"])
    vpn = args["vpn"]
    block = vpn // HPAGE_NR
    if vpn not in mm.vmas or block not in mm.pmds:
        return REFUSED
    split_huge_pmd(k, mm, block)
    return OK


def can_split_folio(folio) -> bool:
    """can_split_folio: folio_mapcount == folio_ref_count - extra_pins - 1 (the caller's
    reference): any GUP pin or reference makes the split fail (-EAGAIN/-EBUSY)."""
    extra = folio.nr if folio.swapcache else 0
    return folio.folio_mapcount() == folio.refcount - extra


def split_folio(k, folio) -> list:
    """split_huge_page_to_list; returns the small folios, or [] when refused."""
    if folio.nr == 1 or folio.ksm or not can_split_folio(folio):
        return []
    st = k.state
    # unmap_folio: freeze every mapping into migration entries (PMDs split with freeze;
    # a PMD whose exclusive head cannot be shared is split without freeze, and the
    # split then fails: "split the PMD only and let try_to_migrate_one() fail later")
    from spec.ops.migrate import remove_migration_pte, try_to_migrate
    P.folio_get(folio)                      # the splitter's own reference
    entries = try_to_migrate(k, folio, "thp_freeze")
    if entries is None:
        P.folio_put(k, folio)
        return []
    # __split_huge_page: the head becomes a small folio, tails new folios; each takes
    # its own references back when remapped
    pieces = [folio] + [st.alloc_folio(1) for _ in range(HPAGE_NR - 1)]
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
        if fl is None or fl & VM_NOHUGEPAGE:
            return Result("EINVAL")
    if block in mm.pmds:
        return OK if mm.pmds[block].kind == PRESENT else Result("EINVAL")
    st = k.state
    olds = []
    for v in range(base, base + HPAGE_NR):
        pte = mm.ptes.get(v)
        if pte is None or pte.kind == ZERO:
            olds.append(None)
            continue
        if pte.kind != PRESENT:
            return Result("EAGAIN")
        f = st.folios[pte.folio]
        if f.ksm or not f.anon:
            return Result("EINVAL")
        expected = f.folio_mapcount() + (f.nr if f.swapcache else 0)
        if f.refcount != expected:
            return Result("EAGAIN")
        olds.append((pte, f))
    if all(o is None for o in olds):
        return Result("EINVAL")  # nothing to collapse (SCAN_PTE_NON_PRESENT / all none)
    if not any(o[0].writable for o in olds if o is not None):
        # SCAN_PAGE_RO: hpage_collapse_scan_pmd / __collapse_huge_page_isolate need one
        # writable PTE (checked in the source; a 2025 proposal drops the requirement)
        return Result("EINVAL")
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


__all__ = ["split_huge_pmd", "split_folio", "collapse", "op_split_pmd", "op_split_folio",
           "thp_eligible", "VM_HUGEPAGE", "SWAP", "MIGRATION"]
