"""mmap, munmap, mprotect and exit (mm/mmap.c, mm/mprotect.c, kernel/exit.c ->
exit_mmap).

mmap creates the process on its first use of an id (a trace names processes by small
integers; the first mmap of an id is its exec). MAP_PRIVATE|MAP_ANONYMOUS with
PROT_READ|PROT_WRITE; mmap over an existing mapping replaces it (MAP_FIXED: the old
range is unmapped first).

Above spec/ops/zap.py (unmapping) and spec/ops/huge_pmd.py (mprotect of part of a THP
splits its PMD).
"""
from __future__ import annotations

from spec import primitives as P
from spec.errors import StepError
from spec.ops.huge_pmd import split_huge_pmd
from spec.ops.zap import zap_huge_pmd, zap_pte, zap_range
from spec.result import EINVAL, ENOMEM, OK, Result
from spec.state import HPAGE_NR, PRESENT, VM_HUGEPAGE, VM_WRITE, Mm


def op_mmap(k, args) -> Result:
    mm_id, vpn, npages = args["mm"], args["vpn"], args["npages"]
    st = k.state
    mm = st.mms.get(mm_id)
    if mm is None:
        if mm_id in st.used_mm_ids:
            raise StepError(f"process {mm_id} has exited")
        mm = Mm(mm_id)
        st.mms[mm_id] = mm
        st.used_mm_ids.add(mm_id)
    elif not mm.alive:
        raise StepError(f"process {mm_id} has exited")
    thp = args.get("thp", False)
    if npages < 1 or vpn < 0:
        return EINVAL
    if thp and (vpn % HPAGE_NR or npages % HPAGE_NR):
        return EINVAL
    vmas = mm.vmas
    if any(v in vmas for v in range(vpn, vpn + npages)):
        unmap(k, mm, vpn, npages)          # MAP_FIXED over an existing mapping
    flags = VM_WRITE | (VM_HUGEPAGE if thp else 0)
    for v in range(vpn, vpn + npages):
        vmas[v] = flags
    return OK


def unmap(k, mm: Mm, vpn: int, npages: int) -> None:
    """do_vmi_munmap: zap the range, drop the VMA, free page tables no VMA covers
    (free_pgtables)."""
    zap_range(k, mm, vpn, npages)
    vmas = mm.vmas
    for v in range(vpn, vpn + npages):
        vmas.pop(v, None)
    for block in {v // HPAGE_NR for v in range(vpn, vpn + npages)}:
        base = block * HPAGE_NR
        if not any(b in vmas for b in range(base, base + HPAGE_NR)):
            mm.pte_tables.discard(block)


def op_munmap(k, args) -> Result:
    mm = k.mm(args["mm"])
    if args["npages"] < 1:
        return EINVAL
    unmap(k, mm, args["vpn"], args["npages"])
    return OK


def op_exit(k, args) -> Result:
    """exit_mmap: unmap everything. Pins and references survive the process: they hold
    their folios."""
    mm = k.mm(args["mm"])
    for block in sorted(mm.pmds):
        zap_huge_pmd(k, mm, block)
    for vpn in sorted(mm.ptes):
        zap_pte(k, mm, vpn)
    mm.vmas.clear()
    mm.pte_tables.clear()
    mm.alive = False
    return OK


def op_mprotect(k, args) -> Result:
    """mprotect(PROT_READ[|PROT_WRITE]): change_protection. Removing write protects every
    present entry. Adding write (vma_wants_manual_pte_write_upgrade, private mappings:
    MM_CP_TRY_CHANGE_WRITABLE) may map present anon entries writable right away: the
    mprotect.writable point (can_change_pte_writable / can_change_pmd_writable;
    64fe24a3e05e v6.0, 'mm/mprotect: allow clean exclusive anon pages to be writable'
    v6.2). Earlier eras leave them R/O for the write fault to decide."""
    mm = k.mm(args["mm"])
    vpn, npages, write = args["vpn"], args["npages"], args["write"]
    if npages < 1:
        return EINVAL
    vmas = mm.vmas
    hole = False
    done_pmds = set()
    for v in range(vpn, vpn + npages):
        fl = vmas.get(v)
        if fl is None:
            hole = True
            continue
        vmas[v] = (fl | VM_WRITE) if write else (fl & ~VM_WRITE)
    for v in range(vpn, vpn + npages):
        if v not in vmas:
            continue
        block = v // HPAGE_NR
        pmd = mm.pmds.get(block)
        if pmd is not None:
            if block in done_pmds:
                continue
            done_pmds.add(block)
            base = block * HPAGE_NR
            if not all(vmas.get(b, 0) & VM_WRITE == vmas[v] & VM_WRITE
                       for b in range(base, base + HPAGE_NR)):
                # change_pmd_range on a partial PMD: __split_huge_pmd first
                split_huge_pmd(k, mm, block)
            else:
                _change(k, mm, v, pmd, True, write)
                continue
        pte = mm.ptes.get(v)
        if pte is not None:
            _change(k, mm, v, pte, False, write)
    return ENOMEM if hole else OK


def _change(k, mm: Mm, vpn: int, pte, is_pmd: bool, write: bool) -> None:
    if pte.kind != PRESENT:
        return
    if not write:
        P.wrprotect(pte)
        return
    if pte.writable:
        return
    folio = k.state.folios.get(pte.folio)
    if folio is None:
        return
    ctx = P.page_ctx(k, folio, pte.subpage, pte, is_pmd, mm, mm.vmas[vpn])
    if k.ask("mprotect.writable", ctx) == "writable":
        pte.writable = True
