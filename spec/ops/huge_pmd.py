"""THP at the PMD level (mm/huge_memory.c, include/linux/huge_mm.h): whether a fault
may map a THP, and splitting a PMD mapping into PTEs. A THP is HPAGE_NR (4) pages in
the model.

    thp_eligible      transhuge_vma_suitable + hugepage_vma_check
    split_huge_pmd    __split_huge_pmd / __split_huge_pmd_locked(freeze=false): one PTE
                      per subpage with the PMD's write/dirty bits; the head's
                      PG_anon_exclusive goes to every subpage or not: the thp.split point
                      (6c287605fd56 §I.6); the huge zero page becomes zero-page PTEs
    op_split_pmd      the split_pmd op

Below spec/ops/migrate.py (a PMD whose exclusive head cannot be shared is split here
before migration entries are tried on its PTEs) and spec/ops/zap.py.
"""
from __future__ import annotations

from spec import primitives as P
from spec.ops.pgtable import install_pte
from spec.result import OK, REFUSED, Result
from spec.state import HPAGE_NR, MTHP_ORDER1, VM_HUGEPAGE, VM_HUGETLB, VM_NOHUGEPAGE, \
    VM_SOFTDIRTY, ZERO, Mm, Pte

# flags that make a block ineligible: no PMD THP on hugetlb or in an mTHP-only range
_NOT_PMD_THP = VM_NOHUGEPAGE | VM_HUGETLB | MTHP_ORDER1


def thp_eligible(mm: Mm, block: int) -> bool:
    """transhuge_vma_suitable + hugepage_vma_check for the model: the whole aligned block
    lies in one private anonymous VMA with VM_HUGEPAGE (mmap thp=true or MADV_HUGEPAGE)
    and not VM_NOHUGEPAGE, and the PMD is none (no page table yet). File, shmem and
    hugetlb ranges get no THP here, nor ranges whose THP size is an mTHP order."""
    base = block * HPAGE_NR
    first = mm.vmas.get(base, 0)
    if not first & VM_HUGEPAGE or first & _NOT_PMD_THP or block in mm.pte_tables \
            or block in mm.pmds or (mm.files and base in mm.files):
        return False
    return one_vma_covers(mm, block)


def one_vma_covers(mm: Mm, block: int) -> bool:
    """transhuge_vma_suitable: one VMA spans the whole aligned block. The model keeps
    flags per page: equal flags on every page (VMAs with equal flags would have been
    merged, VM_SOFTDIRTY aside: vma_merge ignores it; a flag change on part of the
    block split the VMA)."""
    base = block * HPAGE_NR
    vmas = mm.vmas
    first = vmas.get(base)
    if first is None:
        return False
    first |= VM_SOFTDIRTY
    return all(vmas.get(v, 0) | VM_SOFTDIRTY == first for v in range(base + 1, base + HPAGE_NR))


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
        install_pte(mm, base + i, P.mk_present(folio, i, pmd.writable, pmd.dirty,
                                               pmd.soft_dirty))
    folio.entire_mapcount -= 1


def op_split_pmd(k, args) -> Result:
    mm = k.mm(args["mm"])
    vpn = args["vpn"]
    block = vpn // HPAGE_NR
    if vpn not in mm.vmas or block not in mm.pmds or mm.vmas[vpn] & VM_HUGETLB:
        return REFUSED
    split_huge_pmd(k, mm, block)
    return OK
