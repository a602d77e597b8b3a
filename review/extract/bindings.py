"""Function bindings: kernel functions -> the spec's decision points and primitives,
across kernel versions.

A decision binding says which C constructs are the outcome markers of the decision in
that function: a call (copy_present_page -> copy), a goto or label (reuse), a flag
or-ed into a variable (RMAP_EXCLUSIVE), or the truth of the return value of a
predicate (gup_must_unshare returns true -> unshare). The first marker a path reaches
decides its outcome; paths that reach none fall to `default` (None: the base rule set
decides, as for the non-anon paths of do_wp_page()).

A function with no entry here is unbound: extraction lists it and guesses nothing.
Sources: the kernel functions themselves. Each entry's `cite` names the file and
function it binds and, where its role began or changed in some release, that release
or commit. The decision points and their outcomes are spec.decisions.DECISION_POINTS,
the primitives spec.decisions.PRIMITIVES.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Marker:
    kind: str      # "call" | "call_with" | "goto" | "label" | "or_assign" | "returns" | "return_const"
    name: str      # the call, label or flag ("" for returns); "call_with": the whole call,
                   # blanks removed (ERR_PTR(-EMLINK): this error and no other)
    outcome: str   # for "returns": the outcome when the return value is true
    # "call" only: False when the call decides nothing by itself if its value is kept
    # (v5.9..v5.18 `retval = copy_present_page(...)` copied only when it returned <= 0):
    # then the marker counts where that value is returned.
    value_ok: bool = True


@dataclass(frozen=True)
class DecisionBinding:
    point: str
    markers: tuple[Marker, ...]
    default: str | None = None
    # For predicates ("returns" markers): the outcome of a false return value.
    false_outcome: str | None = None
    # When the function decides for some pages only (the PMD-level variant of a
    # PTE-level decision): its rules apply where this holds, the others elsewhere.
    scope: str | None = None   # a DecisionContext field, e.g. "pmd_mapped"


@dataclass(frozen=True)
class Binding:
    function: str
    decisions: tuple[DecisionBinding, ...] = ()
    primitive: str | None = None
    cite: str = ""


def _pred(point: str, true: str, false: str) -> DecisionBinding:
    return DecisionBinding(point, (Marker("returns", "", true),), false_outcome=false)


_FORK_DUP = _pred("fork.anon_pte", "copy", "share")  # -EBUSY: the caller copies
_TRY_SHARE = _pred("rmap.try_share", "refuse", "share")  # -EBUSY: the caller keeps the mapping

_FORK_COPY_PTE = DecisionBinding("fork.anon_pte", (
    Marker("call", "copy_present_page", "copy", value_ok=False),
    Marker("returns", "", "copy"),  # a non-zero return (-EAGAIN) makes fork retry with a page to copy to
), false_outcome="share")

_WP = DecisionBinding("wp.reuse", (
    Marker("goto", "reuse", "reuse"), Marker("label", "reuse", "reuse"),
    Marker("goto", "copy", "copy"), Marker("label", "copy", "copy"),
    Marker("call", "wp_page_reuse", "reuse"), Marker("call", "SetPageAnonExclusive", "reuse"),
    Marker("call", "folio_move_anon_rmap", "reuse"), Marker("call", "page_move_anon_rmap", "reuse"),
    Marker("call", "wp_page_copy", "copy"),
    # v6.7+: an unshare fault on an exclusive page returns 0 without wp_page_copy()
    Marker("return_const", "0", "reuse"),
))

_SWAPIN = DecisionBinding("swap.in_exclusive", (
    Marker("or_assign", "RMAP_EXCLUSIVE", "exclusive"),
    Marker("call", "SetPageAnonExclusive", "exclusive"),
), default="shared")

_SWAPOUT = DecisionBinding("swap.entry_exclusive", (
    Marker("call", "pte_swp_mkexclusive", "exclusive"),
), default="plain")

_MIGRATE = DecisionBinding("migrate.entry", (
    Marker("call", "make_writable_migration_entry", "write"),
    Marker("call", "make_readable_exclusive_migration_entry", "read_exclusive"),
    Marker("call", "make_readable_migration_entry", "read"),
))

_SPLIT = DecisionBinding("thp.split", (
    Marker("call", "SetPageAnonExclusive", "propagate"),
), default="drop")

_BINDINGS: list[Binding] = []


def _bind(names: str, *decisions: DecisionBinding, primitive: str | None = None, cite: str = "") -> None:
    for n in names.split():
        _BINDINGS.append(Binding(n, tuple(decisions), primitive, cite))


# --- fork.anon_pte
_bind("page_try_dup_anon_rmap", _FORK_DUP, primitive="try_dup_anon_rmap",
      cite="include/linux/rmap.h page_try_dup_anon_rmap() (v5.19..v6.7)")
_bind("folio_try_dup_anon_rmap_pte folio_try_dup_anon_rmap_ptes folio_try_dup_anon_rmap_pmd "
      "__folio_try_dup_anon_rmap", _FORK_DUP, primitive="try_dup_anon_rmap",
      cite="include/linux/rmap.h folio_try_dup_anon_rmap_pte(s)/_pmd() (v6.8+)")
_bind("copy_present_pte copy_present_ptes copy_one_pte", _FORK_COPY_PTE,
      cite="mm/memory.c copy_present_pte() (v5.9+), copy_present_ptes() (v6.9+), copy_one_pte() (<= v5.8)")
# --- rmap.try_share
_bind("page_try_share_anon_rmap", _TRY_SHARE, primitive="try_share_anon_rmap",
      cite="include/linux/rmap.h page_try_share_anon_rmap() (v5.19..v6.7)")
_bind("folio_try_share_anon_rmap_pte folio_try_share_anon_rmap_pmd __folio_try_share_anon_rmap",
      _TRY_SHARE, primitive="try_share_anon_rmap",
      cite="include/linux/rmap.h folio_try_share_anon_rmap_pte/_pmd() (v6.8+)")
_bind("write_protect_page", DecisionBinding("rmap.try_share", (
      Marker("goto", "out_unlock", "refuse"),), default="share"),
      cite="mm/ksm.c write_protect_page(): bails out (out_unlock) when the page may be pinned")
# --- gup.unshare, gup.cow_break
_bind("gup_must_unshare", _pred("gup.unshare", "unshare", "pin"),
      cite="include/linux/mm.h gup_must_unshare() (v5.19..v6.1: (flags, page); v6.2+: (vma, flags, page), mm/internal.h)")
# GUP's lookups ask gup_must_unshare() and return -EMLINK, which makes __get_user_pages()
# trigger an unshare fault (v5.19, "mm/gup: trigger FAULT_FLAG_UNSHARE when R/O-pinning a
# possibly shared anonymous page"); otherwise the page is pinned as mapped
_GUP_LOOKUP = (Marker("call_with", "ERR_PTR(-EMLINK)", "unshare"),)
_bind("follow_page_pte", DecisionBinding("gup.unshare", _GUP_LOOKUP, default="pin"),
      cite="mm/gup.c follow_page_pte() (v5.19)")
_bind("follow_trans_huge_pmd", DecisionBinding("gup.unshare", _GUP_LOOKUP, default="pin", scope="pmd_mapped"),
      cite="mm/huge_memory.c follow_trans_huge_pmd() (v5.19)")
_bind("should_force_cow_break", _pred("gup.cow_break", "break", "no_break"),
      cite="mm/gup.c should_force_cow_break() (v5.8, 17839856fd58)")
# --- wp.reuse
_bind("do_wp_page", _WP, cite="mm/memory.c do_wp_page()")
_bind("do_huge_pmd_wp_page", DecisionBinding("wp.reuse", (
    Marker("goto", "reuse", "reuse"), Marker("label", "reuse", "reuse"),
    Marker("return_const", "VM_FAULT_WRITE", "reuse"),
    Marker("call", "page_move_anon_rmap", "reuse"), Marker("call", "folio_move_anon_rmap", "reuse"),
    # the fallback splits the PMD and lets the PTE-level fault copy
    Marker("call", "__split_huge_pmd", "copy"), Marker("goto", "fallback", "copy"),
    Marker("label", "fallback", "copy"),
), scope="pmd_mapped"),
      cite="mm/huge_memory.c do_huge_pmd_wp_page(): reuse_swap_page() (<= v5.17), page_count (v5.18, "
           "3bff7e3f1f16), PageAnonExclusive (v5.19); otherwise __split_huge_pmd() and the PTE-level COW")
_bind("wp_can_reuse_anon_folio", _pred("wp.reuse", "reuse", "copy"),
      cite="mm/memory.c wp_can_reuse_anon_folio() (v6.7)")
# --- mprotect.writable
_bind("can_change_pte_writable can_change_pmd_writable", _pred("mprotect.writable", "writable", "readonly"),
      cite="mm/mprotect.c can_change_pte_writable() (v6.0, 64fe24a3e05e)")
# --- swap.in_exclusive, swap.entry_exclusive
_bind("do_swap_page", _SWAPIN, cite="mm/memory.c do_swap_page() (v5.19 exclusive/RMAP_EXCLUSIVE)")
_bind("try_to_unmap_one", _SWAPOUT,
      cite="mm/rmap.c try_to_unmap_one() (v5.19: pte_swp_mkexclusive when the page was exclusive); "
           "its try_share decision comes from page_try_share_anon_rmap()")
# --- migrate.entry, thp.split
_bind("try_to_migrate_one set_pmd_migration_entry", _MIGRATE,
      cite="mm/rmap.c try_to_migrate_one(), mm/huge_memory.c set_pmd_migration_entry() (v5.19)")
_bind("remove_migration_pte", DecisionBinding("migrate.entry", (
      Marker("or_assign", "RMAP_EXCLUSIVE", "read_exclusive"),)),
      cite="mm/migrate.c remove_migration_pte(): RMAP_EXCLUSIVE iff writable or readable-exclusive entry")
_bind("__split_huge_pmd_locked", _SPLIT, cite="mm/huge_memory.c __split_huge_pmd_locked() (v5.19)")
# --- pinned.maybe
_bind("page_maybe_dma_pinned folio_maybe_dma_pinned", _pred("pinned.maybe", "pinned", "not_pinned"),
      cite="include/linux/mm.h page_maybe_dma_pinned()/folio_maybe_dma_pinned()")

# --- primitives (assertion rules bind here)
_bind("SetPageAnonExclusive folio_set_anon_exclusive", primitive="set_anon_exclusive",
      cite="include/linux/page-flags.h SetPageAnonExclusive() (v5.19)")
_bind("ClearPageAnonExclusive __ClearPageAnonExclusive folio_clear_anon_exclusive",
      primitive="clear_anon_exclusive", cite="include/linux/page-flags.h ClearPageAnonExclusive() (v5.19)")
_bind("page_add_new_anon_rmap folio_add_new_anon_rmap", primitive="add_new_anon_rmap",
      cite="mm/rmap.c page_add_new_anon_rmap()/folio_add_new_anon_rmap()")
_bind("page_add_anon_rmap do_page_add_anon_rmap folio_add_anon_rmap_pte folio_add_anon_rmap_ptes "
      "folio_add_anon_rmap_pmd __folio_add_anon_rmap", primitive="add_anon_rmap",
      cite="mm/rmap.c page_add_anon_rmap() / folio_add_anon_rmap_pte(s)/_pmd() (v6.8+)")
_bind("page_remove_rmap folio_remove_rmap_pte folio_remove_rmap_ptes folio_remove_rmap_pmd "
      "__folio_remove_rmap", primitive="remove_rmap", cite="mm/rmap.c page_remove_rmap()/folio_remove_rmap_*()")
_bind("page_move_anon_rmap folio_move_anon_rmap", primitive="move_anon_rmap",
      cite="mm/rmap.c page_move_anon_rmap()/folio_move_anon_rmap()")
_bind("try_grab_page try_grab_folio", primitive="pin_page", cite="mm/gup.c try_grab_page()/try_grab_folio()")
_bind("unpin_user_page gup_put_folio", primitive="unpin_page", cite="mm/gup.c unpin_user_page()/gup_put_folio()")
_bind("free_pages_prepare __folio_put free_unref_page", primitive="free_folio",
      cite="mm/page_alloc.c free_pages_prepare(), mm/swap.c __folio_put()")

BINDINGS: dict[str, Binding] = {}
for _b in _BINDINGS:
    if _b.function in BINDINGS:  # one function, several roles: merge
        old = BINDINGS[_b.function]
        _b = Binding(_b.function, old.decisions + _b.decisions, old.primitive or _b.primitive,
                     "; ".join(c for c in (old.cite, _b.cite) if c))
    BINDINGS[_b.function] = _b


def binding(function: str) -> Binding | None:
    return BINDINGS.get(function)
