"""Every contract clause and internal invariant, by stable id.

Ids are used in reports, traces, tests and the TUI: add new ones, never rename.
Each entry: kind, what a violation means, its source. The contract's clauses are
stated here and checked by spec/contract/; the internal invariants and lifetime
clauses are stated once, with their predicates, in spec/invariant_table.py, and their
entries here come from that table.
"""
from __future__ import annotations

from dataclasses import dataclass

from spec.invariant_table import INVARIANTS


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


def _table(kind: str) -> tuple[Clause, ...]:
    return tuple(Clause(i.id, i.kind, i.meaning, i.source) for i in INVARIANTS if i.kind == kind)


CLAUSES: dict[str, Clause] = {c.id: c for c in (
    _c("isolation", "a process reads something other than its own logical value",
       "fork(2)/mmap(2): private anonymous memory is private to each process after fork"),
    _c("pin-coherence", "a bound pin and its process disagree (either direction)",
       "Documentation/core-api/pin_user_pages.rst; 'mm: COW fixes part 2: reliable GUP pins of anonymous pages'"),
    _c("no-foreign-data", "a pin or reference observes another process's post-fork write",
       "CVE-2020-29374; 17839856fd58 'gup: document and work around \"COW can break either way\" issue'"),
    _c("no-loss", "swap, swapoff, writeback, migration, KSM or THP split/collapse changed "
       "what a process reads",
       "reclaim, migration, KSM and THP are transparent to user space"),
    _c("file-integrity", "a file changed other than through a writable shared mapping or a "
       "device write through a reference to a shared page",
       "mmap(2) MAP_PRIVATE: updates are not carried through to the underlying file; "
       "CVE-2016-5195 (Dirty COW), 5535be309971; check_vma_flags: FOLL_FORCE has no "
       "effect on shared mappings"),
    _c("softdirty", "a page written after clear_refs reads not soft-dirty",
       "Documentation/admin-guide/mm/soft-dirty.rst; 64e455079e1b, 76aefad628aa"),
    _c("gup-progress", "GUP faults a page in again and again and never takes it: the "
       "pin, reference or poke never returns",
       "__get_user_pages: faultin_page, then follow_page_mask again, until a page is "
       "returned; 4ceb5db9757a 'Fix get_user_pages() race for write access' (a failed "
       "COW break loops around and tries again); 19be0eaffa3a (FOLL_COW: after the COW "
       "break a forced write follows the R/O entry it left)"),
    *_table("contract"),     # the lifetime clauses: no-leak, no-use-after-free
    *_table("invariant"),
    _i("patch-assertion", "a VM_BUG_ON/WARN_ON condition extracted from the patch holds when the spec runs its primitive",
       "the patch's own assertions (review/extract), bound to spec primitives"),
)}
