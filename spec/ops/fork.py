"""fork(): dup_mmap -> copy_page_range (mm/memory.c copy_pte_range, copy_present_pte,
copy_present_page, copy_nonpresent_pte; mm/huge_memory.c copy_huge_pmd).

Per VMA page: VM_DONTCOPY (MADV_DONTFORK) ranges are not copied at all; VM_WIPEONFORK
ranges are copied as VMAs without page tables (the child reads zeros). For every
present anon PTE/PMD the fork.anon_pte point decides:
  share  page_try_dup_anon_rmap / folio_try_dup_anon_rmap_*: clear PG_anon_exclusive,
         mapcount + 1, write-protect the parent's entry and the child's
         (copy_present_pte: "if (is_cow_mapping(vm_flags) && pte_write(pte))")
  copy   PTE: copy_present_page — the child gets a fresh exclusive copy, writable, the
         parent keeps its page as it is (70e806e4e645 'mm: Do early cow for pinned pages
         during fork() for ptes', v5.9); PMD: split the parent's PMD and retry at the
         PTE level (d042035eaf5f 'mm/thp: Split huge pmds/puds if they're pinned when
         fork()', v5.9; -EBUSY from folio_try_dup_anon_rmap_pmd later)
Swap entries: swap_duplicate, and the source's exclusive bit is cleared ("Mark the swap
entry as shared", copy_nonpresent_pte, v5.19). The zero page is shared as is.

Above spec/ops/huge_pmd.py (a pinned THP's PMD is split before its PTEs are copied).
"""
from __future__ import annotations

from spec import primitives as P
from spec.errors import StepError
from spec.ops.huge_pmd import split_huge_pmd
from spec.ops.pgtable import install_pte
from spec.result import OK, Result
from spec.state import HPAGE_NR, PRESENT, SWAP, VM_DONTCOPY, VM_WIPEONFORK, VM_WRITE, ZERO, \
    Mm, Pte

_SKIP = VM_DONTCOPY | VM_WIPEONFORK


def op_fork(k, args) -> Result:
    parent = k.mm(args["mm"])
    child_id = args["child"]
    st = k.state
    if child_id in st.used_mm_ids:
        raise StepError(f"process id {child_id} was already used (ids are never reused)")
    child = Mm(child_id)
    st.mms[child_id] = child
    st.used_mm_ids.add(child_id)
    for vpn, fl in parent.vmas.items():
        if not fl & VM_DONTCOPY:
            child.vmas[vpn] = fl
    blocks = sorted({b for b in parent.pmds} | {v // HPAGE_NR for v in parent.ptes})
    for block in blocks:
        pmd = parent.pmds.get(block)
        if pmd is not None:
            fl = parent.vmas.get(block * HPAGE_NR, 0)
            if fl & _SKIP:
                continue
            if copy_huge_pmd(k, parent, child, block, pmd, fl):
                continue
            # -EAGAIN: the parent's PMD was split; copy the PTEs below
        base = block * HPAGE_NR
        for vpn in range(base, base + HPAGE_NR):
            pte = parent.ptes.get(vpn)
            if pte is None:
                continue
            fl = parent.vmas.get(vpn, 0)
            if fl & _SKIP:
                continue
            copy_pte(k, parent, child, vpn, pte, fl)
    return OK


def copy_huge_pmd(k, parent: Mm, child: Mm, block: int, pmd: Pte, fl: int) -> bool:
    if pmd.kind == ZERO:
        child.pmds[block] = Pte(ZERO)     # mm_get_huge_zero_page
        return True
    if pmd.kind != PRESENT:
        return True
    folio = k.state.folios[pmd.folio]
    ctx = P.page_ctx(k, folio, 0, pmd, True, parent, fl)
    ctx.maybe_pinned = P.maybe_dma_pinned(k, folio)
    if k.ask("fork.anon_pte", ctx) == "copy":
        split_huge_pmd(k, parent, block)
        return False
    P.try_dup_anon_rmap(k, folio, 0, True)
    P.folio_get(folio)
    P.wrprotect(pmd)                      # pmdp_set_wrprotect(src); pmd_wrprotect(dst)
    child.pmds[block] = P.mk_present(folio, 0, False, pmd.dirty)
    return True


def copy_pte(k, parent: Mm, child: Mm, vpn: int, pte: Pte, fl: int) -> None:
    kind = pte.kind
    if kind == ZERO:
        install_pte(child, vpn, Pte(ZERO))
        return
    if kind == SWAP:
        slot = k.state.slots[pte.slot]
        slot.count += 1                   # swap_duplicate
        pte.swp_exclusive = False         # pte_swp_clear_exclusive in the source
        install_pte(child, vpn, Pte(SWAP, slot=pte.slot))
        return
    if kind != PRESENT:
        return
    folio = k.state.folios[pte.folio]
    i = pte.subpage
    ctx = P.page_ctx(k, folio, i, pte, False, parent, fl)
    ctx.maybe_pinned = P.maybe_dma_pinned(k, folio)
    if k.ask("fork.anon_pte", ctx) == "copy":
        # copy_present_page: a new exclusive page for the child
        new = k.state.alloc_folio(1)
        P.copy_page(new, 0, folio.data[i])
        P.folio_get(new)
        P.add_new_anon_rmap(k, new, False)
        vm_write = bool(fl & VM_WRITE)
        install_pte(child, vpn, P.mk_present(new, 0, vm_write, True))
        return
    P.try_dup_anon_rmap(k, folio, i, False)
    P.folio_get(folio)
    P.wrprotect(pte)
    install_pte(child, vpn, P.mk_present(folio, i, False, pte.dirty))
