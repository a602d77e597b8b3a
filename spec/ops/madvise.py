"""madvise(2) (mm/madvise.c) on private anonymous memory.

    dontneed     zap_page_range: the range reads zero again (MADV_DONTNEED)
    dontfork     VM_DONTCOPY; dofork clears it
    wipeonfork   VM_WIPEONFORK
    pageout      MADV_PAGEOUT: reclaim folios mapped once (spec/ops/reclaim.py)
    mergeable    VM_MERGEABLE (ksm_madvise); unmergeable clears it and unmerges
    hugepage     VM_HUGEPAGE (clears VM_NOHUGEPAGE); nohugepage the reverse
    collapse     MADV_COLLAPSE (v6.1, 'mm/madvise: introduce MADV_COLLAPSE sync
                 hugepage collapse'; era feature "madv_collapse": EINVAL before)

A flag change on part of a PMD-mapped THP splits the VMA, and the PMD with it
(vma_adjust_trans_huge -> split_huge_pmd_if_needed). A range with holes returns
ENOMEM after advising the mapped part, as madvise_walk_vmas does.

The top of spec/ops/: it reaches zap, KSM, reclaim and THP.
"""
from __future__ import annotations

from spec.errors import StepError
from spec.ops.huge_pmd import split_huge_pmd
from spec.ops.ksm import unmerge_range
from spec.ops.reclaim import pageout_range
from spec.ops.thp import collapse
from spec.ops.zap import zap_range
from spec.result import EINVAL, ENOMEM, OK, Result
from spec.state import HPAGE_NR, VM_DONTCOPY, VM_HUGEPAGE, VM_MERGEABLE, VM_NOHUGEPAGE, \
    VM_WIPEONFORK, Mm

# advice -> (flags to set, flags to clear)
_FLAGS = {
    "dontfork": (VM_DONTCOPY, 0),
    "dofork": (0, VM_DONTCOPY),
    "wipeonfork": (VM_WIPEONFORK, 0),
    "mergeable": (VM_MERGEABLE, 0),
    "unmergeable": (0, VM_MERGEABLE),
    "hugepage": (VM_HUGEPAGE, VM_NOHUGEPAGE),
    "nohugepage": (VM_NOHUGEPAGE, VM_HUGEPAGE),
}


def _split_edges(k, mm: Mm, vpn: int, npages: int) -> None:
    for v in (vpn, vpn + npages):
        block = v // HPAGE_NR
        if v % HPAGE_NR and block in mm.pmds:
            split_huge_pmd(k, mm, block)


def op_madvise(k, args) -> Result:
    mm = k.mm(args["mm"])
    vpn, npages, advice = args["vpn"], args["npages"], args["advice"]
    if npages < 1:
        return EINVAL
    vmas = mm.vmas
    hole = any(v not in vmas for v in range(vpn, vpn + npages))
    if advice == "dontneed":
        zap_range(k, mm, vpn, npages)
    elif advice == "pageout":
        pageout_range(k, mm, vpn, npages)
    elif advice == "collapse":
        if not k.rules.feature("madv_collapse"):
            return EINVAL
        if hole:
            return ENOMEM
        results = [collapse(k, mm, b) for b in
                   range(vpn // HPAGE_NR, (vpn + npages - 1) // HPAGE_NR + 1)
                   if b * HPAGE_NR >= vpn and b * HPAGE_NR + HPAGE_NR <= vpn + npages]
        if not results:
            return EINVAL
        bad = [r for r in results if r.status != "ok"]
        return bad[0] if bad else OK
    elif advice in _FLAGS:
        if advice == "unmergeable":
            unmerge_range(k, mm, vpn, npages)
        _split_edges(k, mm, vpn, npages)
        set_, clear = _FLAGS[advice]
        for v in range(vpn, vpn + npages):
            fl = vmas.get(v)
            if fl is not None:
                vmas[v] = (fl | set_) & ~clear
    else:
        raise StepError(f"unknown madvise advice {advice!r}")
    return ENOMEM if hole else OK
