"""Checking the internal invariants and lifetime clauses (spec/invariant_table.py) on a
kernel:

    check(kernel, step=-1) -> list[Violation]   every applicable invariant that fails,
                                                each id at most once, in table order
    all_hold(kernel) -> bool                    the fused pass alone

The invariants are checked after every step of every trace, so the common answer,
"all hold", comes from one fused walk over the state (_all_hold: the conjunction of
the table's predicates, written as a single pass; it is several times faster than
evaluating the predicates one by one). Only when it finds something are the
predicates evaluated, for their messages. tests/spec/test_invariants.py checks that
the fused pass and the table agree, on random traces of every preset and on mutated
states.
"""
from __future__ import annotations

from spec.clauses import Violation
from spec.invariant_table import INVARIANTS
from spec.state import GUP_PIN_COUNTING_BIAS, HPAGE_NR, MIGRATION, PRESENT, SWAP, ZERO_FOLIO, \
    State

_ALL_ERAS = tuple(i for i in INVARIANTS if i.applies == "all")


def check(kernel, step: int = -1) -> list[Violation]:
    """Every applicable invariant that fails on the kernel's current state, once each."""
    st = kernel.state
    ae = kernel.has_ae
    if _all_hold(st, ae):
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


def all_hold(kernel) -> bool:
    """The fused pass alone: True means check(kernel) reports nothing (False: ask
    check() for the violations, if any)."""
    return _all_hold(kernel.state, kernel.has_ae)


# ------------------------------------------------------------------ the fused pass
#
# Each part returns False as soon as one applicable predicate of the table fails. The
# counts the lifetime clauses compare (references per folio, swap entries per slot,
# pins per folio) are gathered on the way and compared at the end.

assert HPAGE_NR <= 8   # a page is keyed as folio id << 3 | page


def _all_hold(st: State, ae: bool) -> bool:
    """True iff every applicable predicate of INVARIANTS holds on `st` (ae: the rule set
    has PG_anon_exclusive)."""
    want: dict[int, int] = dict.fromkeys(st.folios, 0)   # expected refcount per folio
    swp: dict[int, int] = dict.fromkeys(st.slots, 0) if st.slots else {}
    pins: dict[int, int] = {}                           # FOLL_PIN references per folio
    return (_entries_hold(st, ae, want, swp) and _refs_hold(st, ae, want, pins)
            and _folios_hold(st, ae, want, pins) and _slots_hold(st, swp))


def _entries_hold(st: State, ae: bool, want: dict, swp: dict) -> bool:
    """Every PMD and PTE: no-use-after-free (a present or swap entry of something freed),
    anon-exclusive-writable and ksm-not-exclusive (writable entries),
    exclusive-single-mapper, swap-entry-clears-exclusive; counts users into want/swp.
    A migration entry exists only inside a step: the predicates decide on it."""
    folios = st.folios
    slots = st.slots
    fget = folios.get
    mapper: dict[int, int] = {}   # (folio id << 3 | page) -> the one mm mapping an exclusive page
    for mm in st.mms.values():
        mid = mm.id
        pmds = mm.pmds
        if pmds:
            for p in pmds.values():
                kind = p.kind
                if kind == PRESENT:
                    fid = p.folio
                    f = fget(fid)
                    if f is None:
                        return False
                    want[fid] += 1
                    aes = f.anon_exclusive
                    if p.writable and (f.ksm or (ae and not aes[0])):
                        return False
                    if ae and True in aes:
                        head = aes[0]
                        key = fid << 3
                        for j in range(f.nr):
                            if (head or aes[j]) and mapper.setdefault(key | j, mid) != mid:
                                return False
                elif kind == MIGRATION:
                    return False
        for p in mm.ptes.values():
            kind = p.kind
            if kind == PRESENT:
                fid = p.folio
                f = fget(fid)
                if f is None:
                    return False
                want[fid] += 1
                i = p.subpage
                aes = f.anon_exclusive
                if p.writable and (f.ksm or (ae and not aes[i])):
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
    return True


def _refs_hold(st: State, ae: bool, want: dict, pins: dict) -> bool:
    """Every pin and reference: no-use-after-free, pinned-exclusive; counts its
    references into want and pins."""
    fget = st.folios.get
    for r in st.refs.values():
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
    return True


def _folios_hold(st: State, ae: bool, want: dict, pins: dict) -> bool:
    """Every live folio: refcount-covers-users and no-leak (refcount and pincount exactly
    its users, the swap cache's slot alive and naming it), ksm-not-exclusive,
    exclusive-only-anon (every folio of the model is anon: its KSM half),
    thp-exclusive-granularity."""
    slots = st.slots
    for fid, f in st.folios.items():
        n = want[fid]
        sc = f.swapcache
        if sc:
            s = slots.get(sc)
            if s is None or s.folio != fid:
                return False
            n += f.nr
        if n == 0 or f.refcount != n or f.pincount != (pins.get(fid, 0) if pins else 0):
            return False
        if f.ksm and True in f.anon_exclusive:
            return False
        if ae and f.nr > 1 and f.entire_mapcount and not any(f.mapcount) \
                and True in f.anon_exclusive[1:]:
            return False
    return True


def _slots_hold(st: State, swp: dict) -> bool:
    """Every allocated swap slot: its count is exactly its swap entries (no-leak,
    no-use-after-free), it has a user, and its cached folio is alive."""
    folios = st.folios
    for sid, s in st.slots.items():
        c = s.count
        sf = s.folio
        if c != swp[sid] or (c == 0 and not sf):
            return False
        if sf and sf not in folios:
            return False
    return True
