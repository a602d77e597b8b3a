"""Every contract clause and internal invariant, by stable id.

Ids are used in reports, traces, tests and the TUI: add new ones, never rename.
Each entry: kind, one line of why, its source. The predicates themselves live in
spec/contract.py (contract) and spec/invariants.py (invariants and lifetime).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Clause:
    id: str
    kind: str  # "contract" or "invariant"
    meaning: str
    source: str


@dataclass(frozen=True)
class Violation:
    id: str
    step: int      # index of the step after which it was seen
    message: str

    def to_json(self) -> dict:
        return {"id": self.id, "kind": CLAUSES[self.id].kind, "step": self.step,
                "message": self.message}


def _c(id: str, meaning: str, source: str) -> Clause:
    return Clause(id, "contract", meaning, source)


def _i(id: str, meaning: str, source: str) -> Clause:
    return Clause(id, "invariant", meaning, source)


CLAUSES: dict[str, Clause] = {c.id: c for c in (
    _c("isolation", "a process reads something other than its own logical value",
       "fork(2)/mmap(2): private anonymous memory is private to each process after fork"),
    _c("pin-coherence", "a bound pin and its process disagree (either direction)",
       "Documentation/core-api/pin_user_pages.rst; 'mm: COW fixes part 2: reliable GUP pins of anonymous pages'"),
    _c("no-foreign-data", "a pin or reference observes another process's post-fork write",
       "CVE-2020-29374; 17839856fd58 'gup: document and work around \"COW can break either way\" issue'"),
    _c("no-loss", "swap, migration, KSM or THP split/collapse changed what a process reads",
       "reclaim, migration, KSM and THP are transparent to user space"),
    _c("no-leak", "a folio or swap slot outlives every user",
       "folio_put / swap_free: the last reference frees"),
    _c("no-use-after-free", "a folio is freed while mapped, pinned or referenced",
       "folio refcounting (include/linux/mm.h)"),
    _i("anon-exclusive-writable", "a writable present PTE maps a non-exclusive anon page",
       "include/linux/page-flags.h PG_anon_exclusive comment; 6c287605fd56"),
    _i("pinned-exclusive", "a maybe-pinned anon page is not exclusive",
       "include/linux/page-flags.h; 'mm/gup: sanity-check with CONFIG_DEBUG_VM that anonymous pages are exclusive when (un)pinning'"),
    _i("exclusive-single-mapper", "an exclusive page is mapped by more than one process",
       "include/linux/page-flags.h PG_anon_exclusive comment"),
    _i("ksm-not-exclusive", "a KSM page is exclusive or mapped writable",
       "mm/ksm.c write_protect_page; gup_must_unshare comment"),
    _i("exclusive-only-anon", "the flag is set on a non-anon or KSM page",
       "SetPageAnonExclusive: VM_BUG_ON_PGFLAGS(!PageAnon(page) || PageKsm(page))"),
    _i("swap-entry-clears-exclusive", "a page reachable through a swap entry keeps the flag",
       "do_swap_page/unuse_pte BUG_ON(PageAnon(page) && PageAnonExclusive(page)); 1493a1913e34"),
    _i("migration-entry-clears-exclusive", "a page under a migration entry keeps the flag",
       "include/linux/page-flags.h entry-type table; try_to_migrate_one"),
    _i("thp-exclusive-granularity", "PMD-mapped: flag on head only; PTE-mapped: per subpage",
       "include/linux/page-flags.h; __split_huge_pmd_locked"),
    _i("refcount-covers-users", "refcount < mappings + pins + references + swapcache",
       "include/linux/mm.h folio_ref_count; GUP_PIN_COUNTING_BIAS"),
    _i("patch-assertion", "a VM_BUG_ON/WARN_ON condition extracted from the patch holds when the spec runs its primitive",
       "the patch's own assertions (review/extract), bound to spec primitives"),
)}
