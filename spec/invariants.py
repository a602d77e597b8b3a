"""Internal invariants of the kernel model and the lifetime clauses, in the style of the
LKMM's linux-kernel.cat: each one a named predicate over the state, one line of why, its
source, and the rule sets it applies to. Ids are those of spec/clauses.py.

    check(kernel, step=-1) -> list[Violation]   (each id reported at most once per call)

Applies to:
    AE    rule sets with PG_anon_exclusive (feature "anon_exclusive": v5.19, current).
          Older eras have no flag; the model keeps it clear there.
    all   every rule set.

| id                               | applies | predicate (a violation is a witness of its negation)
|----------------------------------|---------|------------------------------------------------
| anon-exclusive-writable          | AE      | writable present PTE/PMD of an anon page => PageAnonExclusive
| pinned-exclusive                 | AE      | FOLL_PIN'ed subpage of an anon (non-KSM) folio => PageAnonExclusive
| exclusive-single-mapper          | AE      | PageAnonExclusive subpage => mapped by one mm only
| ksm-not-exclusive                | all     | KSM folio => no subpage exclusive, no writable mapping
| exclusive-only-anon              | AE      | PageAnonExclusive => PageAnon && !PageKsm
| swap-entry-clears-exclusive      | AE      | a swap-cache folio reachable through a swap PTE is not exclusive
| migration-entry-clears-exclusive | AE      | a subpage under a migration entry is not exclusive
| thp-exclusive-granularity        | AE      | a THP mapped only by PMD carries the flag on the head only
| refcount-covers-users            | all     | folio_ref_count >= mappings + pins + references + swap cache
| no-leak                          | all     | every live folio and slot has a user; no reference is unaccounted
| no-use-after-free                | all     | no mapping, reference, swap entry or cache points at a freed folio/slot
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from spec.clauses import CLAUSES, Violation
from spec.state import GUP_PIN_COUNTING_BIAS, HPAGE_NR, MIGRATION, PRESENT, SWAP, ZERO_FOLIO, \
    State


@dataclass(frozen=True)
class Invariant:
    id: str
    why: str
    source: str
    applies: str                       # "AE" or "all"
    check: Callable[[State], str | None]   # a message describing a witness, or None

    def applies_to(self, rules) -> bool:
        return self.applies == "all" or bool(rules.feature("anon_exclusive"))


def _present(st: State):
    """Every present mapping: (mm, addr, pte, is_pmd)."""
    for mid, mm in st.mms.items():
        for b, p in mm.pmds.items():
            if p.kind == PRESENT:
                yield mm, b * HPAGE_NR, p, True
        for v, p in mm.ptes.items():
            if p.kind == PRESENT:
                yield mm, v, p, False


# ------------------------------------------------------------------ PG_anon_exclusive

def anon_exclusive_writable(st: State) -> str | None:
    for mm, addr, p, is_pmd in _present(st):
        if p.writable:
            f = st.folios.get(p.folio)
            if f is not None and f.anon and not f.anon_exclusive[0 if is_pmd else p.subpage]:
                return (f"mm {mm.id} vpn {addr} maps folio {f.id} page {p.subpage} writable "
                        f"but it is not PageAnonExclusive")
    return None


def pinned_exclusive(st: State) -> str | None:
    for r in st.refs.values():
        if not r.pin or r.folio == ZERO_FOLIO:
            continue
        f = st.folios.get(r.folio)
        if f is None or not f.anon or f.ksm:
            continue
        # sanity_check_pinned_pages: "Either a PTE-mapped or a PMD-mapped THP": the head's
        # flag or the subpage's (a PMD mapping keeps it on the head)
        if not f.anon_exclusive[0] and not f.anon_exclusive[r.subpage]:
            return f"pin {r.id!r} holds folio {f.id} page {r.subpage}, which is not exclusive"
    return None


def exclusive_single_mapper(st: State) -> str | None:
    mappers: dict[tuple[int, int], set[int]] = {}
    for mm, addr, p, is_pmd in _present(st):
        f = st.folios.get(p.folio)
        if f is None:
            continue
        pages = range(f.nr) if is_pmd else (p.subpage,)
        for i in pages:
            mappers.setdefault((f.id, i), set()).add(mm.id)
    for (fid, i), mms in mappers.items():
        f = st.folios[fid]
        ex = f.anon_exclusive[i] or (f.entire_mapcount > 0 and f.anon_exclusive[0])
        if ex and len(mms) > 1:
            return f"folio {fid} page {i} is exclusive but mapped by mms {sorted(mms)}"
    return None


def ksm_not_exclusive(st: State) -> str | None:
    for f in st.folios.values():
        if f.ksm and any(f.anon_exclusive):
            return f"KSM folio {f.id} has PageAnonExclusive set"
    for mm, addr, p, is_pmd in _present(st):
        f = st.folios.get(p.folio)
        if f is not None and f.ksm and p.writable:
            return f"KSM folio {f.id} is mapped writable at mm {mm.id} vpn {addr}"
    return None


def exclusive_only_anon(st: State) -> str | None:
    for f in st.folios.values():
        if any(f.anon_exclusive) and (not f.anon or f.ksm):
            return f"folio {f.id} is PageAnonExclusive but {'KSM' if f.ksm else 'not anon'}"
    return None


def swap_entry_clears_exclusive(st: State) -> str | None:
    for mm in st.mms.values():
        for v, p in mm.ptes.items():
            if p.kind != SWAP:
                continue
            slot = st.slots.get(p.slot)
            if slot is None or not slot.folio:
                continue
            f = st.folios.get(slot.folio)
            if f is not None and any(f.anon_exclusive):
                return (f"mm {mm.id} vpn {v}: swap entry of slot {slot.id} reaches "
                        f"exclusive swap-cache folio {f.id}")
    return None


def migration_entry_clears_exclusive(st: State) -> str | None:
    for mm in st.mms.values():
        for table in (mm.ptes, mm.pmds):
            for a, p in table.items():
                if p.kind == MIGRATION:
                    f = st.folios.get(p.folio)
                    if f is not None and f.anon_exclusive[p.subpage]:
                        return f"migration entry at mm {mm.id} {a}: folio {f.id} still exclusive"
    return None


def thp_exclusive_granularity(st: State) -> str | None:
    for f in st.folios.values():
        if f.nr > 1 and f.entire_mapcount > 0 and not any(f.mapcount):
            if any(f.anon_exclusive[1:]):
                return f"PMD-mapped THP {f.id} has PageAnonExclusive on a tail page"
    return None


# ------------------------------------------------------------------ refcount and lifetime

def _users(st: State) -> tuple[dict[int, int], dict[int, int], list[str]]:
    """Expected refcount per live folio, swap-entry count per slot, and dangling users."""
    want: dict[int, int] = {fid: 0 for fid in st.folios}
    swp: dict[int, int] = {sid: 0 for sid in st.slots}
    dangling: list[str] = []
    for mm in st.mms.values():
        for table, is_pmd in ((mm.pmds, True), (mm.ptes, False)):
            for a, p in table.items():
                if p.kind == PRESENT:
                    if p.folio in want:
                        want[p.folio] += 1
                    else:
                        dangling.append(f"mm {mm.id} {'pmd' if is_pmd else 'vpn'} {a} "
                                        f"maps freed folio {p.folio}")
                elif p.kind == SWAP:
                    if p.slot in swp:
                        swp[p.slot] += 1
                    else:
                        dangling.append(f"mm {mm.id} vpn {a} holds a swap entry of freed slot {p.slot}")
                elif p.kind == MIGRATION and p.folio not in want:
                    dangling.append(f"mm {mm.id} {a}: migration entry of freed folio {p.folio}")
    for r in st.refs.values():
        if r.folio == ZERO_FOLIO:
            continue
        f = st.folios.get(r.folio)
        if f is None:
            dangling.append(f"reference {r.id!r} holds freed folio {r.folio}")
            continue
        want[r.folio] += (GUP_PIN_COUNTING_BIAS if f.nr == 1 else 1) if r.pin else 1
    for s in st.slots.values():
        if s.folio and s.folio not in st.folios:
            dangling.append(f"swap slot {s.id} caches freed folio {s.folio}")
    for f in st.folios.values():
        if f.swapcache:
            if f.swapcache in st.slots:
                want[f.id] += f.nr
            else:
                dangling.append(f"folio {f.id} is in the swap cache of freed slot {f.swapcache}")
    return want, swp, dangling


def refcount_covers_users(st: State) -> str | None:
    want, _, _ = _users(st)
    for fid, n in want.items():
        f = st.folios[fid]
        if f.refcount < n:
            return f"folio {fid} has refcount {f.refcount} < {n} users"
    return None


def no_leak(st: State) -> str | None:
    want, swp, _ = _users(st)
    for fid, n in want.items():
        f = st.folios[fid]
        if n == 0:
            return f"folio {fid} is alive (refcount {f.refcount}) with no mapping, pin, reference or swap cache"
        if f.refcount > n:
            return f"folio {fid} has refcount {f.refcount} > {n} users: a reference was leaked"
        if f.pincount != sum(1 for r in st.refs.values() if r.pin and r.folio == fid):
            return f"folio {fid} pincount {f.pincount} does not match its pins"
    for sid, n in swp.items():
        s = st.slots[sid]
        if s.count > n:
            return f"swap slot {sid} count {s.count} > {n} swap entries: leaked"
        if s.count == 0 and not s.folio:
            return f"swap slot {sid} is allocated with no swap entry and no cached folio"
    return None


def no_use_after_free(st: State) -> str | None:
    _, swp, dangling = _users(st)
    if dangling:
        return dangling[0]
    for sid, n in swp.items():
        if st.slots[sid].count < n:
            return f"swap slot {sid} count {st.slots[sid].count} < {n} swap entries"
    return None


INVARIANTS: tuple[Invariant, ...] = (
    Invariant("anon-exclusive-writable",
              "a page mapped writable cannot possibly be shared",
              "include/linux/page-flags.h PG_anon_exclusive comment; 6c287605fd56", "AE",
              anon_exclusive_writable),
    Invariant("pinned-exclusive",
              "GUP only pins exclusive anon pages, and the flag sticks while pinned",
              "page-flags.h; 'mm/gup: sanity-check with CONFIG_DEBUG_VM that anonymous pages "
              "are exclusive when (un)pinning'", "AE", pinned_exclusive),
    Invariant("exclusive-single-mapper",
              "exclusive means mapped by this one process only",
              "page-flags.h PG_anon_exclusive comment", "AE", exclusive_single_mapper),
    Invariant("ksm-not-exclusive",
              "KSM pages are shared by construction: never exclusive, never writable",
              "mm/ksm.c write_protect_page; gup_must_unshare comment", "all", ksm_not_exclusive),
    Invariant("exclusive-only-anon",
              "PG_anon_exclusive aliases PG_mappedtodisk: only valid on anon non-KSM pages",
              "SetPageAnonExclusive: VM_BUG_ON_PGFLAGS(!PageAnon || PageKsm)", "AE",
              exclusive_only_anon),
    Invariant("swap-entry-clears-exclusive",
              "the swap PTE, not the page, remembers exclusivity",
              "do_swap_page/unuse_pte BUG_ON(PageAnon && PageAnonExclusive); 1493a1913e34", "AE",
              swap_entry_clears_exclusive),
    Invariant("migration-entry-clears-exclusive",
              "the migration entry type holds the information instead",
              "include/linux/page-flags.h entry-type table; try_to_migrate_one", "AE",
              migration_entry_clears_exclusive),
    Invariant("thp-exclusive-granularity",
              "only the head page is logically mapped by a PMD",
              "include/linux/page-flags.h; __split_huge_pmd_locked", "AE",
              thp_exclusive_granularity),
    Invariant("refcount-covers-users",
              "every mapping, pin, reference and the swap cache hold a reference",
              "include/linux/mm.h folio_ref_count; GUP_PIN_COUNTING_BIAS", "all",
              refcount_covers_users),
    Invariant("no-leak",
              "the last user frees: folios and swap slots do not outlive their users",
              "folio_put / swap_free", "all", no_leak),
    Invariant("no-use-after-free",
              "nothing is freed while a mapping, pin, reference or swap entry can reach it",
              "folio refcounting (include/linux/mm.h)", "all", no_use_after_free),
)

assert all(i.id in CLAUSES for i in INVARIANTS)


def applicable(rules) -> tuple[Invariant, ...]:
    return tuple(i for i in INVARIANTS if i.applies_to(rules))


def check(kernel, step: int = -1) -> list[Violation]:
    """Every applicable invariant that fails on the kernel's current state, once each.
    A single fused pass (`_all_hold`) answers the common case; only when it finds
    something are the predicates above evaluated one by one for their messages."""
    st = kernel.state
    ae = kernel.has_ae
    if _all_hold(st, ae):
        return []
    out = []
    for inv in (INVARIANTS if ae else _ALL_ERAS):
        msg = inv.check(st)
        if msg is not None:
            out.append(Violation(inv.id, step, msg))
    return out


_ALL_ERAS = tuple(i for i in INVARIANTS if i.applies == "all")


def all_hold(kernel) -> bool:
    """The fused pass alone: True means check(kernel) reports nothing (False: ask
    check() for the violations, if any)."""
    return _all_hold(kernel.state, kernel.has_ae)
assert HPAGE_NR <= 8   # _all_hold keys a page as folio id << 3 | page


def _all_hold(st: State, ae: bool) -> bool:
    """True iff every applicable predicate holds: the conjunction of INVARIANTS in one
    walk over the state (tests check that it agrees with the predicates)."""
    folios = st.folios
    slots = st.slots
    fget = folios.get
    want: dict[int, int] = dict.fromkeys(folios, 0)
    swp: dict[int, int] = dict.fromkeys(slots, 0) if slots else {}
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
                    return False   # only inside a step: let the predicates decide
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
    pins: dict[int, int] = {}
    refs = st.refs
    if refs:
        for r in refs.values():
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
        if n == 0 or f.refcount != n or f.pincount != (pins.get(fid, 0) if pins else 0):
            return False
        if f.ksm and True in f.anon_exclusive:
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
