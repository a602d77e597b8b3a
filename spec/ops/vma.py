"""mmap, munmap, mprotect, mremap and exit (mm/mmap.c, mm/mprotect.c, mm/mremap.c,
kernel/exit.c -> exit_mmap).

mmap creates the process on its first use of an id (a trace names processes by small
integers; the first mmap of an id is its exec). PROT_READ|PROT_WRITE (prot "rw"),
PROT_READ ("r") or PROT_NONE ("none"); MAP_PRIVATE or MAP_SHARED; anonymous, of the
regular file FILE or the tmpfs file SHMEM (at page index vpn), MAP_HUGETLB, THP or an
mTHP order; a new VMA has VM_SOFTDIRTY. mmap over an existing mapping replaces it
(MAP_FIXED: the old range is unmapped first). A MAP_SHARED|MAP_ANONYMOUS mapping is a
new shmem object (hugetlbfs with MAP_HUGETLB) that only fork shares.

A hugetlb VMA splits at huge page boundaries only (hugetlb_vm_op_split): munmap,
mprotect, MAP_FIXED and mremap of part of a hugetlb folio fail with EINVAL.

Above spec/ops/zap.py (unmapping) and spec/ops/huge_pmd.py (mprotect of part of a THP
splits its PMD; mremap of part of one too).
"""
from __future__ import annotations

from spec import primitives as P
from spec.errors import StepError
from spec.ops.huge_pmd import split_huge_pmd
from spec.ops.pgtable import install_pte, vma_wants_writenotify
from spec.ops.zap import zap_huge_pmd, zap_pte, zap_range
from spec.result import EFAULT, EINVAL, ENOMEM, OK, Result
from spec.state import FILE, FILE_KINDS, HPAGE_NR, MTHP_ORDER1, PRESENT, SHMEM, SWAP, \
    VM_HUGEPAGE, VM_HUGETLB, VM_READ, VM_SHARED, VM_SOFTDIRTY, VM_WRITE, ZERO, Mm

PROT_FLAGS = {"rw": VM_READ | VM_WRITE, "r": VM_READ, "none": 0}
_PROT = VM_READ | VM_WRITE


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
    hugetlb = args.get("hugetlb", False)
    if npages < 1 or vpn < 0:
        return EINVAL
    if (thp or hugetlb) and (vpn % HPAGE_NR or npages % HPAGE_NR):
        return EINVAL
    vmas = mm.vmas
    if any(v in vmas for v in range(vpn, vpn + npages)):
        if splits_hugetlb(mm, vpn, npages):
            return EINVAL
        unmap(k, mm, vpn, npages)          # MAP_FIXED over an existing mapping
    flags = PROT_FLAGS[args.get("prot", "rw")] | VM_SOFTDIRTY
    if thp:
        flags |= VM_HUGEPAGE | (MTHP_ORDER1 if args.get("thp_order", 2) == 1 else 0)
    if hugetlb:
        flags |= VM_HUGETLB
    shared = args.get("shared", False)
    if shared:
        flags |= VM_SHARED
    fid = _file(st, args.get("backing", "anon"), shared, hugetlb)
    for v in range(vpn, vpn + npages):
        vmas[v] = flags
    if fid:
        files = mm.files
        for v in range(vpn, vpn + npages):
            files[v] = (fid, v)            # vm_pgoff: page index vpn
    return OK


def _file(st, backing: str, shared: bool, hugetlb: bool) -> int:
    """The file a new mapping maps (0: none, private anonymous memory)."""
    if backing == "file":
        fid = FILE
    elif backing == "shmem":
        fid = SHMEM
    elif shared:
        return st.alloc_file("hugetlb" if hugetlb else "shmem")   # shmem_zero_setup
    else:
        return 0
    st.files.setdefault(fid, FILE_KINDS[fid])
    return fid


def splits_hugetlb(mm: Mm, vpn: int, npages: int) -> bool:
    """Whether [vpn, vpn + npages) ends inside a hugetlb folio's range."""
    # both ends written out, not looped over: this runs on every munmap, madvise, mprotect
    # and MAP_FIXED mmap
    vmas = mm.vmas
    end = vpn + npages
    return bool(vpn % HPAGE_NR and vmas.get(vpn - vpn % HPAGE_NR, 0) & VM_HUGETLB
                or end % HPAGE_NR and vmas.get(end - end % HPAGE_NR, 0) & VM_HUGETLB)


def unmap(k, mm: Mm, vpn: int, npages: int) -> None:
    """do_vmi_munmap: zap the range, drop the VMA, free page tables no VMA covers
    (free_pgtables)."""
    zap_range(k, mm, vpn, npages)
    vmas = mm.vmas
    files = mm.files
    for v in range(vpn, vpn + npages):
        vmas.pop(v, None)
        if files:
            files.pop(v, None)
    for block in {v // HPAGE_NR for v in range(vpn, vpn + npages)}:
        base = block * HPAGE_NR
        if not any(b in vmas for b in range(base, base + HPAGE_NR)):
            mm.pte_tables.discard(block)


def op_munmap(k, args) -> Result:
    mm = k.mm(args["mm"])
    if args["npages"] < 1 or splits_hugetlb(mm, args["vpn"], args["npages"]):
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
    mm.files.clear()
    mm.pte_tables.clear()
    mm.alive = False
    return OK


def op_mprotect(k, args) -> Result:
    """mprotect: change_protection on the pages whose protection changes (mprotect_fixup
    returns early where the new flags equal the old ones). Removing write (PROT_READ,
    PROT_NONE) write-protects every present entry. Adding write may map present entries
    writable right away, where the kernel tries (vma_wants_manual_pte_write_upgrade:
    private mappings from v6.0, MM_CP_TRY_CHANGE_WRITABLE; shared mappings that want
    write-notify, MM_CP_DIRTY_ACCT before v6.0): the mprotect.writable point
    (can_change_pte_writable / can_change_pmd_writable, change_pte_range). A shared
    mapping without write-notify gets writable entries from vm_page_prot itself; hugetlb
    entries follow vm_page_prot (hugetlb_change_protection): writable only if shared."""
    mm = k.mm(args["mm"])
    vpn, npages = args["vpn"], args["npages"]
    prot = args.get("prot")
    if prot is None:
        prot = "rw" if args["write"] else "r"
    if npages < 1 or splits_hugetlb(mm, vpn, npages):
        return EINVAL
    new = PROT_FLAGS[prot]
    write = bool(new & VM_WRITE)
    vmas = mm.vmas
    hole = False
    changed = []
    for v in range(vpn, vpn + npages):
        fl = vmas.get(v)
        if fl is None:
            hole = True
            continue
        if fl & _PROT != new:
            vmas[v] = (fl & ~_PROT) | new
            changed.append(v)
    done_pmds = set()
    for v in changed:
        block = v // HPAGE_NR
        pmd = mm.pmds.get(block)
        if pmd is not None:
            if block in done_pmds:
                continue
            done_pmds.add(block)
            base = block * HPAGE_NR
            if not all(vmas.get(b, 0) & _PROT == vmas[v] & _PROT
                       for b in range(base, base + HPAGE_NR)):
                # change_pmd_range on a partial PMD: __split_huge_pmd first
                split_huge_pmd(k, mm, block)
            else:
                _change(k, mm, base, pmd, True, write)
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
    fl = mm.vmas[vpn]
    if fl & VM_HUGETLB:
        pte.writable = bool(fl & VM_SHARED)
        return
    folio = k.state.folios.get(pte.folio)
    if folio is None:
        return
    ctx = P.page_ctx(k, folio, pte.subpage, pte, is_pmd, mm, fl)
    if fl & VM_SHARED:
        ctx.writenotify = vma_wants_writenotify(k, mm, vpn, fl)
    if k.ask("mprotect.writable", ctx) == "writable":
        pte.writable = True


def op_mremap(k, args) -> Result:
    """mremap(old, npages, npages, MREMAP_MAYMOVE | MREMAP_FIXED, new): the destination
    range is unmapped first; the VMAs move (with their file and page index); the page
    tables move with move_page_tables: a PMD that moves whole to an aligned place
    moves as is (move_huge_pmd), one partly moved is split first and its PTEs moved
    one by one (move_ptes), so a THP can end up PTE-mapped at two places. Moved
    entries are marked soft-dirty or not: the mremap.soft_dirty point. EFAULT when the
    old range has a hole; EINVAL for overlapping ranges or hugetlb (not modelled)."""
    mm = k.mm(args["mm"])
    vpn, npages, new_vpn = args["vpn"], args["npages"], args["new_vpn"]
    if npages < 1 or not (vpn + npages <= new_vpn or new_vpn + npages <= vpn):
        return EINVAL
    vmas = mm.vmas
    if any(v not in vmas for v in range(vpn, vpn + npages)):
        return EFAULT
    if any(vmas[v] & VM_HUGETLB for v in range(vpn, vpn + npages)) \
            or splits_hugetlb(mm, new_vpn, npages):
        return EINVAL
    if any(v in vmas for v in range(new_vpn, new_vpn + npages)):
        unmap(k, mm, new_vpn, npages)
    _move_page_tables(k, mm, vpn, new_vpn, npages)
    files = mm.files
    for i in range(npages):
        vmas[new_vpn + i] = vmas.pop(vpn + i)
        if files and vpn + i in files:
            files[new_vpn + i] = files.pop(vpn + i)
    for block in {v // HPAGE_NR for v in range(vpn, vpn + npages)}:
        base = block * HPAGE_NR
        if not any(b in vmas for b in range(base, base + HPAGE_NR)):
            mm.pte_tables.discard(block)
    return OK


def _move_page_tables(k, mm: Mm, vpn: int, new_vpn: int, npages: int) -> None:
    """move_page_tables: the entries of [vpn, vpn + npages) to new_vpn on."""
    end = vpn + npages
    moved = []
    for block in range(vpn // HPAGE_NR, (end - 1) // HPAGE_NR + 1):
        pmd = mm.pmds.get(block)
        if pmd is None:
            continue
        base = block * HPAGE_NR
        dest = base - vpn + new_vpn
        if vpn <= base and base + HPAGE_NR <= end and dest % HPAGE_NR == 0:
            moved.append((True, base, dest, mm.pmds.pop(block)))   # move_huge_pmd
        else:
            split_huge_pmd(k, mm, block)
    ptes = mm.ptes
    for v in range(vpn, end):
        pte = ptes.pop(v, None)
        if pte is not None:
            moved.append((False, v, v - vpn + new_vpn, pte))
    if not moved:
        return
    mark = k.ask("mremap.soft_dirty", P.page_ctx(k, None, 0, None, False, mm,
                                                 mm.vmas[vpn])) == "mark"
    for is_pmd, _old, dest, entry in moved:
        if mark and entry.kind in (PRESENT, SWAP, ZERO):
            entry.soft_dirty = True          # move_soft_dirty_pte / move_soft_dirty_pmd
        if is_pmd:
            mm.pmds[dest // HPAGE_NR] = entry
        else:
            install_pte(mm, dest, entry)
