"""The internal invariants of the kernel model and its lifetime clauses, in the style of
the LKMM's linux-kernel.cat: one Invariant record each, with its predicate over the
state. INVARIANTS is the one table: spec/clauses.py takes these ids, meanings and
sources from it, spec/invariants.py checks them (check, all_hold), and docs/spec.md's
list is tested against it (ids and `applies`).

Applies to:
    AE    rule sets with PG_anon_exclusive (feature "anon_exclusive": v5.19, current).
          Older eras have no flag; the model keeps it clear there.
    all   every rule set.

A predicate returns None when it holds on the state, else a message describing a
witness of its negation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from spec.state import GUP_PIN_COUNTING_BIAS, HPAGE_NR, MIGRATION, PRESENT, SWAP, ZERO_FOLIO, \
    State


@dataclass(frozen=True)
class Invariant:
    id: str
    predicate: Callable[[State], str | None]   # None: holds; else a witness message
    meaning: str                       # what a violation means (spec.clauses.Clause.meaning)
    why: str                           # one line of why it holds in the kernel
    source: str                        # where the kernel states or enforces it
    applies: str                       # "AE" or "all"
    # "invariant" (internal), or "contract" for the lifetime clauses (no-leak,
    # no-use-after-free): user-visible bugs, checked on the kernel's state
    kind: str = "invariant"

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
    Invariant("anon-exclusive-writable", anon_exclusive_writable,
              "a writable present PTE maps a non-exclusive anon page",
              "a page mapped writable cannot possibly be shared",
              "include/linux/page-flags.h PG_anon_exclusive comment; 6c287605fd56", "AE"),
    Invariant("pinned-exclusive", pinned_exclusive,
              "a maybe-pinned anon page is not exclusive",
              "GUP only pins exclusive anon pages, and the flag sticks while pinned",
              "include/linux/page-flags.h; 'mm/gup: sanity-check with CONFIG_DEBUG_VM that "
              "anonymous pages are exclusive when (un)pinning'", "AE"),
    Invariant("exclusive-single-mapper", exclusive_single_mapper,
              "an exclusive page is mapped by more than one process",
              "exclusive means mapped by this one process only",
              "include/linux/page-flags.h PG_anon_exclusive comment", "AE"),
    Invariant("ksm-not-exclusive", ksm_not_exclusive,
              "a KSM page is exclusive or mapped writable",
              "KSM pages are shared by construction: never exclusive, never writable",
              "mm/ksm.c write_protect_page; gup_must_unshare comment", "all"),
    Invariant("exclusive-only-anon", exclusive_only_anon,
              "the flag is set on a non-anon or KSM page",
              "PG_anon_exclusive aliases PG_mappedtodisk: only valid on anon non-KSM pages",
              "SetPageAnonExclusive: VM_BUG_ON_PGFLAGS(!PageAnon(page) || PageKsm(page))", "AE"),
    Invariant("swap-entry-clears-exclusive", swap_entry_clears_exclusive,
              "a page reachable through a swap entry keeps the flag",
              "the swap PTE, not the page, remembers exclusivity",
              "do_swap_page/unuse_pte BUG_ON(PageAnon(page) && PageAnonExclusive(page)); "
              "1493a1913e34", "AE"),
    Invariant("migration-entry-clears-exclusive", migration_entry_clears_exclusive,
              "a page under a migration entry keeps the flag",
              "the migration entry type holds the information instead",
              "include/linux/page-flags.h entry-type table; try_to_migrate_one", "AE"),
    Invariant("thp-exclusive-granularity", thp_exclusive_granularity,
              "PMD-mapped: flag on head only; PTE-mapped: per subpage",
              "only the head page is logically mapped by a PMD",
              "include/linux/page-flags.h; __split_huge_pmd_locked", "AE"),
    Invariant("refcount-covers-users", refcount_covers_users,
              "refcount < mappings + pins + references + swapcache",
              "every mapping, pin, reference and the swap cache hold a reference",
              "include/linux/mm.h folio_ref_count; GUP_PIN_COUNTING_BIAS", "all"),
    Invariant("no-leak", no_leak,
              "a folio or swap slot outlives every user",
              "the last user frees: folios and swap slots do not outlive their users",
              "folio_put / swap_free: the last reference frees", "all", kind="contract"),
    Invariant("no-use-after-free", no_use_after_free,
              "a folio is freed while mapped, pinned or referenced",
              "nothing is freed while a mapping, pin, reference or swap entry can reach it",
              "folio refcounting (include/linux/mm.h)", "all", kind="contract"),
)


def applicable(rules) -> tuple[Invariant, ...]:
    """The invariants `rules` promises, in table order."""
    return tuple(i for i in INVARIANTS if i.applies_to(rules))
