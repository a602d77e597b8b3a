"""Read-only queries of one page: pte (what its entry says, for reviewers and tests)
and pfn (which page it maps, as /proc/pid/pagemap's PFN would tell two addresses
apart). Neither changes anything.

pte: a comma-separated string, the entry's kind first ("none", "present", "zero",
"swap", "migration"), then its flags in this order, where they hold: pmd (a PMD or
hugetlb entry), write, dirty, softdirty, exclusive (PG_anon_exclusive of the page, or
the swap entry's exclusive bit), ksm, pagecache, hugetlb.

pfn: an opaque identity, equal for two addresses that map the same page at that moment:
1 + mm * MAX_VPN + vpn of the first address (by mm, then vpn) that maps it; 0 for the
shared zero page, -1 for the huge zero page; no value (null) when no page is mapped
(none, swap). A canonical form: it does not depend on the order folios were
allocated in, so two rule sets that map the same pages give the same numbers.
"""
from __future__ import annotations

from spec.result import Result
from spec.state import KIND_NAMES, MAX_VPN, PRESENT, SWAP, ZERO


def op_pte(k, args) -> Result:
    mm = k.mm(args["mm"])
    vpn = args["vpn"]
    pte, is_pmd = k.state.entry(mm, vpn) if vpn in mm.vmas else (None, False)
    if pte is None:
        return Result("ok", "none")
    words = [KIND_NAMES[pte.kind]]
    if is_pmd:
        words.append("pmd")
    if pte.writable:
        words.append("write")
    if pte.dirty:
        words.append("dirty")
    if pte.soft_dirty:
        words.append("softdirty")
    if pte.kind == SWAP:
        if pte.swp_exclusive:
            words.append("exclusive")
    elif pte.kind == PRESENT:
        folio = k.state.folios.get(pte.folio)
        if folio is not None:
            if folio.anon_exclusive[0 if is_pmd else pte.subpage]:
                words.append("exclusive")
            if folio.ksm:
                words.append("ksm")
            if folio.mapping:
                words.append("pagecache")
            if folio.hugetlb:
                words.append("hugetlb")
    return Result("ok", ",".join(words))


def op_pfn(k, args) -> Result:
    mm = k.mm(args["mm"])
    vpn = args["vpn"]
    st = k.state
    pte, is_pmd = st.entry(mm, vpn) if vpn in mm.vmas else (None, False)
    if pte is None or pte.kind not in (PRESENT, ZERO):
        return Result("ok", None)
    if pte.kind == ZERO:
        return Result("ok", -1 if is_pmd else 0)
    folio = st.folios.get(pte.folio)
    if folio is None:
        return Result("ok", None)   # use-after-free: reported by spec.invariants
    page = vpn % folio.nr if is_pmd else pte.subpage
    first = None
    for other, addr, entry, other_pmd in st.mappings(folio.id):
        if entry.kind != PRESENT:
            continue
        if other_pmd:
            where = (other.id, addr + page)
        elif entry.subpage == page:
            where = (other.id, addr)
        else:
            continue
        if first is None or where < first:
            first = where
    return Result("ok", 1 + first[0] * MAX_VPN + first[1])
