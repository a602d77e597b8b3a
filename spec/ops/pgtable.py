"""Page-table entries and the folio an address maps: the lowest layer of the operations.

    install_pte       set_pte_at (include/linux/pgtable.h); the PMD now points to a page
                      table (pte_alloc, mm/memory.c)
    folio_at          the folio mapped at an address by a present PTE or PMD
                      (vm_normal_folio / follow_page_mask, mm/memory.c, mm/gup.c)
    on_mapped_folio   swapout, migrate and split_folio name a folio by one of its
                      mappings, as reclaim, migration and split_huge_page reach it
                      through the LRU
    filemap_folio     the page-cache folio of (file, index), created with the file's
                      content on first use (filemap_fault / shmem_get_folio /
                      hugetlbfs: alloc_hugetlb_folio + hugetlb_add_to_page_cache)
    vma_wants_writenotify  whether a shared mapping's PTEs start R/O (mm/mmap.c)
"""
from __future__ import annotations

from spec.result import OK, REFUSED, Result
from spec.state import HPAGE_NR, PRESENT, VM_SHARED, VM_SOFTDIRTY, VM_WRITE, Folio, Mm, Pte


def install_pte(mm: Mm, vpn: int, pte: Pte) -> None:
    """set_pte_at; the PMD now points to a page table (pte_alloc)."""
    mm.ptes[vpn] = pte
    mm.pte_tables.add(vpn // HPAGE_NR)


def folio_at(k, mm: Mm, vpn: int) -> tuple[Folio | None, Pte | None, bool]:
    """The folio mapped at vpn (present PTE or PMD), its entry, and whether by PMD."""
    pte, is_pmd = k.state.entry(mm, vpn)
    if pte is None or pte.kind != PRESENT:
        return None, pte, is_pmd
    return k.state.folios.get(pte.folio), pte, is_pmd


def on_mapped_folio(k, args, action, *, large_only: bool = False) -> Result:
    """Run `action(k, folio) -> bool` on the folio mapped at (args mm, vpn). Nothing
    mapped there, a small folio when `large_only`, or an action that backs off is the
    kernel refusing."""
    mm = k.mm(args["mm"])
    vpn = args["vpn"]
    if vpn not in mm.vmas:
        return REFUSED
    folio, _, _ = folio_at(k, mm, vpn)
    if folio is None or (large_only and folio.nr == 1):
        return REFUSED
    return OK if action(k, folio) else REFUSED


def filemap_folio(k, fid: int, index: int) -> Folio:
    """The page-cache folio at (file, index): looked up, or added with the file's
    content (zero: nothing else writes files) and the page cache's reference. A
    hugetlbfs file caches hugetlb folios of HPAGE_NR pages, indexed by huge page."""
    st = k.state
    found = st.pagecache.get((fid, index))
    if found is not None:
        return st.folios[found]
    hugetlb = st.files.get(fid) == "hugetlb"
    folio = st.alloc_folio(HPAGE_NR if hugetlb else 1)
    folio.anon = False
    folio.mapping = fid
    folio.index = index
    folio.hugetlb = hugetlb
    folio.refcount = 1                      # filemap_add_folio: the page cache's reference
    st.pagecache[(fid, index)] = folio.id
    return folio


def vma_wants_writenotify(k, mm: Mm, vpn: int, flags: int) -> bool:
    """vma_wants_writenotify: a shared writable mapping whose PTEs start R/O, so that
    the first write faults: a file with writeback (->page_mkwrite, dirty accounting;
    the model's regular file), or soft-dirty tracking (VM_SOFTDIRTY clear; 64e455079e1b,
    vma_soft_dirty_enabled since 76aefad628aa) except on hugetlb, which does not track
    soft-dirty."""
    if flags & (VM_SHARED | VM_WRITE) != VM_SHARED | VM_WRITE:
        return False
    kind = k.state.files.get(mm.files[vpn][0]) if vpn in mm.files else None
    if kind == "file":
        return True
    return kind == "shmem" and not flags & VM_SOFTDIRTY
