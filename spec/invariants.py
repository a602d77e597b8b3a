"""Checking the internal invariants and lifetime clauses (spec/invariant_table.py) on a
kernel:

    check(kernel, step=-1) -> list[Violation]   every applicable invariant that fails,
                                                each id at most once, in table order
    all_hold(kernel) -> bool                    the fused pass alone
    failed(kernel, step=-1) -> list[Violation]  the predicates alone

The invariants are checked after every step of every trace, so the common answer,
"all hold", comes from one fused walk over the state (all_hold: the conjunction of
the table's predicates, written as a single pass; about five times faster than
evaluating the predicates one by one). Only when it finds something are the
predicates evaluated, for their messages. tests/spec/test_invariants.py checks that
the fused pass and the table agree, on random traces of every preset and on mutated
states.
"""
from __future__ import annotations

from spec.clauses import Violation
from spec.invariant_table import INVARIANTS
from spec.state import GUP_PIN_COUNTING_BIAS, HPAGE_NR, MIGRATION, PRESENT, SWAP, VM_SHARED, \
    VM_WRITE, ZERO_FOLIO, Folio, Ref, SwapSlot

_ALL_ERAS = tuple(i for i in INVARIANTS if i.applies == "all")


def check(kernel, step: int = -1) -> list[Violation]:
    """Every applicable invariant that fails on the kernel's current state, once each."""
    if all_hold(kernel):
        return []
    return failed(kernel, step)


def failed(kernel, step: int = -1) -> list[Violation]:
    """check() without the fused pass: the table's predicates one by one."""
    st = kernel.state
    out = []
    for inv in (INVARIANTS if kernel.has_ae else _ALL_ERAS):
        msg = inv.predicate(st)
        if msg is not None:
            out.append(Violation(inv.id, step, msg))
    return out


# ------------------------------------------------------------------ the fused pass
#
# all_hold walks the page tables, _users_hold the references, folios and slots. Each
# returns False as soon as one applicable predicate of the table fails; the counts the
# lifetime clauses compare (references per folio, swap entries per slot, pins per
# folio) are gathered on the way and compared at the end. Two functions, not one per
# part: each call costs about 1% of the pass, which runs after every step.

assert HPAGE_NR <= 8   # a page is keyed as folio id << 3 | page


def all_hold(kernel) -> bool:
    """True iff every applicable predicate of INVARIANTS holds: check(kernel) reports
    nothing (False: ask check() for the violations, if any).

    The page tables: no-use-after-free (a present or swap entry of something freed),
    anon-exclusive-writable, ksm-not-exclusive, writable-needs-vm-write and
    hugetlb-cow-readonly (writable entries), exclusive-single-mapper,
    swap-entry-clears-exclusive; zero-page. A migration entry exists only inside a step:
    the predicates decide on it."""
    st = kernel.state
    if st.zero_data[0] or st.zero_data[1]:
        return False
    ae = kernel.has_ae            # the era has PG_anon_exclusive
    folios = st.folios
    slots = st.slots
    fget = folios.get
    want: dict[int, int] = dict.fromkeys(folios, 0)    # expected refcount per folio
    swp: dict[int, int] = dict.fromkeys(slots, 0) if slots else {}
    mapper: dict[int, int] = {}   # (folio id << 3 | page) -> the one mm mapping an exclusive page
    for mm in st.mms.values():
        mid = mm.id
        pmds = mm.pmds
        vmas = mm.vmas
        if pmds:
            for b, p in pmds.items():
                kind = p.kind
                if kind == PRESENT:
                    fid = p.folio
                    f = fget(fid)
                    if f is None:
                        return False
                    want[fid] += 1
                    aes = f.anon_exclusive
                    if p.writable:
                        if f.ksm or (ae and f.anon and not aes[0]):
                            return False
                        fl = vmas.get(b * HPAGE_NR, 0)
                        if not fl & VM_WRITE or (f.hugetlb and f.entire_mapcount > 1
                                                 and not fl & VM_SHARED):
                            return False
                    if ae and True in aes:
                        head = aes[0]
                        key = fid << 3
                        for j in range(f.nr):
                            if (head or aes[j]) and mapper.setdefault(key | j, mid) != mid:
                                return False
                elif kind == MIGRATION:
                    return False
        for v, p in mm.ptes.items():
            kind = p.kind
            if kind == PRESENT:
                fid = p.folio
                f = fget(fid)
                if f is None:
                    return False
                want[fid] += 1
                i = p.subpage
                aes = f.anon_exclusive
                if p.writable and (f.ksm or (ae and f.anon and not aes[i])
                                   or not vmas.get(v, 0) & VM_WRITE):
                    return False
                if ae and (aes[i] or (f.entire_mapcount and aes[0])):
                    if mapper.setdefault(fid << 3 | i, mid) != mid:
                        return False
            elif kind == SWAP:
                s = slots.get(p.slot)
                if s is None:
                    return False
                swp[p.slot] += 1
                if ae and s.folio:
                    f = fget(s.folio)
                    if f is not None and True in f.anon_exclusive:
                        return False
            elif kind == MIGRATION:
                return False
    return _users_hold(folios, slots, st.refs, ae, want, swp)


def _users_hold(folios: dict[int, Folio], slots: dict[int, SwapSlot], refs: dict[str, Ref],
                ae: bool, want: dict[int, int], swp: dict[int, int]) -> bool:
    """all_hold, continued with the users counted so far (mappings in `want`, swap
    entries in `swp`); the state's tables are passed in, not looked up again.

    Pins and references: no-use-after-free, pinned-exclusive, gup-fast-as-slow. Live
    folios: refcount-covers-users and no-leak (refcount and pincount exactly their users,
    the swap cache's slot alive and naming the folio, the page cache's reference),
    ksm-not-exclusive, exclusive-only-anon, thp-exclusive-granularity. Swap slots:
    no-leak and no-use-after-free (count exactly its swap entries, a user, a live cached
    folio)."""
    fget = folios.get
    pins: dict[int, int] = {}     # FOLL_PIN references per folio
    if refs:
        for r in refs.values():
            if r.fast and not r.slow_ok:
                return False
            fid = r.folio
            if fid == ZERO_FOLIO:
                continue
            f = fget(fid)
            if f is None:
                return False
            if r.pin:
                want[fid] += GUP_PIN_COUNTING_BIAS if f.nr == 1 else 1
                pins[fid] = pins.get(fid, 0) + 1
                if ae and f.anon and not f.ksm and not f.anon_exclusive[0] \
                        and not f.anon_exclusive[r.subpage]:
                    return False
            else:
                want[fid] += 1
    for fid, f in folios.items():
        n = want[fid]
        sc = f.swapcache
        if sc:
            s = slots.get(sc)
            if s is None or s.folio != fid:
                return False
            n += f.nr
        if f.mapping:
            n += 1                # the page cache's reference
        if n == 0 or f.refcount != n or f.pincount != (pins.get(fid, 0) if pins else 0):
            return False
        if (f.ksm or (ae and not f.anon)) and True in f.anon_exclusive:
            return False
        if ae and f.nr > 1 and f.entire_mapcount and not any(f.mapcount) \
                and True in f.anon_exclusive[1:]:
            return False
    if slots:
        for sid, s in slots.items():
            c = s.count
            sf = s.folio
            if c != swp[sid] or (c == 0 and not sf):
                return False
            if sf and sf not in folios:
                return False
    return True
