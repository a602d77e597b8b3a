"""The vocabulary: kernel identifiers -> expressions over DecisionContext fields.

Each entry paraphrases a kernel definition and cites it (file, function, and the era
it applies to). page_* and folio_* forms map to the same field: the spec's context
is "the (sub)page being decided about and its folio", so a helper's arguments do not
change which field it reads.

Entries whose kernel meaning the model fixes (no device memory, no lock contention,
no userfaultfd) map to constants and say so. An identifier without an entry is never
dropped: `Converter` turns it into a spec.expr.Free atom named by its C text and
records it, with its line, as unmodelled.

Nothing here evaluates C: tree-sitter nodes are read as data and mapped onto a closed
set of expression nodes (review/extract/expr.py does the reading).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from spec import expr as E
from spec.decisions import CONTEXT_FIELDS

A = E.Atom


@dataclass(frozen=True)
class Entry:
    expr: E.Expr
    cite: str
    kind: str = "bool"  # "bool" or "int"


def _e(expr: E.Expr, cite: str, kind: str = "bool") -> Entry:
    return Entry(expr, cite, kind)


# --- calls (and function-like macros) whose result is a condition or a count ---
CALLS: dict[str, Entry] = {}


def _add(names: str, entry: Entry) -> None:
    for n in names.split():
        CALLS[n] = entry


_add("PageAnon folio_test_anon", _e(A("anon"),
     "include/linux/page-flags.h PageAnon()/folio_test_anon(): PAGE_MAPPING_ANON bit of ->mapping"))
_add("PageKsm folio_test_ksm", _e(A("ksm"),
     "include/linux/page-flags.h PageKsm()/folio_test_ksm(): ->mapping flags == PAGE_MAPPING_KSM"))
_add("PageAnonExclusive folio_test_anon_exclusive", _e(A("anon_exclusive"),
     "include/linux/page-flags.h PageAnonExclusive() (v5.19, 6c287605fd56; PG_anon_exclusive)"))
_add("page_count folio_ref_count page_ref_count", _e(A("refcount"),
     "include/linux/mm.h page_count()/include/linux/page_ref.h folio_ref_count(): the folio refcount", "int"))
_add("page_mapcount total_mapcount", _e(A("mapcount"),
     "include/linux/mm.h page_mapcount(): mappings of this subpage", "int"))
_add("folio_mapcount folio_large_mapcount", _e(A("folio_mapcount"),
     "include/linux/mm.h folio_mapcount(): mappings of any page of the folio", "int"))
_add("folio_entire_mapcount", _e(A("folio_mapcount"),
     "include/linux/mm.h folio_entire_mapcount() (PMD mappings; the model counts them in folio_mapcount)", "int"))
_add("page_trans_huge_mapcount", _e(A("thp_mapcount"),
     "mm/huge_memory.c page_trans_huge_mapcount() (reuse_swap_page's count up to v5.17): the "
     "largest page_mapcount over a THP's pages (compound mapcount included); page_mapcount for "
     "a small page", "int"))
_add("page_trans_huge_map_swapcount", _e(E.Arith("+", A("thp_mapcount"), A("swapcount")),
     "mm/swapfile.c page_trans_huge_map_swapcount() (reuse_swap_page up to v5.17): the largest "
     "mapcount + swap count over a THP's pages; the model splits a THP before swap-out, so "
     "only a small page has a swap count (swapcount is 0 outside the swap cache)", "int"))
_add("page_maybe_dma_pinned folio_maybe_dma_pinned", _e(A("maybe_pinned"),
     "include/linux/mm.h page_maybe_dma_pinned()/folio_maybe_dma_pinned(): pincount or refcount bias"))
_add("folio_has_pincount", _e(A("large"),
     "include/linux/mm.h folio_has_pincount(): exact _pincount only for large folios"))
_add("page_needs_cow_for_dma folio_needs_cow_for_dma", _e(
     E.And((A("cow_mapping"), A("mm_has_pinned"), A("maybe_pinned"))),
     "include/linux/mm.h page_needs_cow_for_dma() (v5.12, 97a7e4733b9b) / folio_needs_cow_for_dma() "
     "(v6.8): is_cow_mapping && MMF_HAS_PINNED && maybe_dma_pinned"))
_add("page_try_dup_anon_rmap folio_try_dup_anon_rmap_pte folio_try_dup_anon_rmap_ptes "
     "folio_try_dup_anon_rmap_pmd", _e(
     E.And((A("anon_exclusive"), A("cow_mapping"), A("mm_has_pinned"), A("maybe_pinned"))),
     "include/linux/rmap.h page_try_dup_anon_rmap() (v5.19) / folio_try_dup_anon_rmap_pte(s)/_pmd() "
     "(v6.8): -EBUSY iff the page is exclusive and folio_needs_cow_for_dma(); device-private "
     "pages never fail (not modelled)"))
_add("page_try_share_anon_rmap folio_try_share_anon_rmap_pte folio_try_share_anon_rmap_pmd", _e(
     A("maybe_pinned"),
     "include/linux/rmap.h page_try_share_anon_rmap() (v5.19) / folio_try_share_anon_rmap_pte/_pmd() "
     "(v6.8): -EBUSY iff the folio may be pinned"))
_add("is_cow_mapping", _e(A("cow_mapping"),
     "include/linux/mm.h is_cow_mapping(): (flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE"))
_add("pte_write pmd_write huge_pte_write", _e(A("pte_write"),
     "arch pgtable.h pte_write()/pmd_write(): the entry maps writable"))
_add("pte_dirty pmd_dirty huge_pte_dirty", _e(A("pte_dirty"),
     "arch pgtable.h pte_dirty()/pmd_dirty()"))
_add("pte_swp_exclusive pmd_swp_exclusive", _e(A("swp_exclusive"),
     "include/linux/pgtable.h pte_swp_exclusive() (v5.19, 'mm/swap: remember PG_anon_exclusive via a swp pte bit')"))
_add("is_zero_pfn is_zero_page is_zero_folio is_huge_zero_page is_huge_zero_folio is_huge_zero_pmd",
     _e(A("zero_page"), "include/linux/pgtable.h is_zero_pfn() / mm.h is_zero_page(), is_zero_folio(): the shared zero page"))
_add("vm_normal_page vm_normal_folio", _e(E.Not(A("zero_page")),
     "mm/memory.c vm_normal_page(): NULL for the zero page (and special mappings, not modelled)"))
_add("page_folio compound_head virt_to_folio", _e(E.TRUE,
     "include/linux/page-flags.h page_folio()/compound_head(): the folio of a page, never NULL"))
_add("lookup_swap_cache swap_cache_get_folio", _e(E.TRUE,
     "mm/swap_state.c lookup_swap_cache(): the model's swap-in finds (or reads) the page"))
_add("PageSwapCache folio_test_swapcache", _e(A("swapcache"),
     "include/linux/page-flags.h PageSwapCache()/folio_test_swapcache()"))
_add("PageLRU folio_test_lru", _e(A("lru"),
     "include/linux/page-flags.h PageLRU() (the model drains LRU caches: always true)"))
_add("PageWriteback folio_test_writeback", _e(A("writeback"),
     "include/linux/page-flags.h PageWriteback()"))
_add("PageCompound PageTransCompound folio_test_large PageTransHuge folio_test_pmd_mappable", _e(A("large"),
     "include/linux/page-flags.h PageCompound()/folio_test_large(): a THP in the model"))
_add("PageHuge folio_test_hugetlb is_vm_hugetlb_page", _e(A("hugetlb"),
     "include/linux/page-flags.h PageHuge()/folio_test_hugetlb(), include/linux/hugetlb_inline.h "
     "is_vm_hugetlb_page(): a hugetlb folio, a VM_HUGETLB mapping (the model maps hugetlb folios "
     "only in hugetlb mappings)"))
_add("PageHead", _e(A("head"),
     "include/linux/page-flags.h PageHead(): the head page of a compound page"))
_add("shmem_mapping", _e(A("shmem"),
     "mm/shmem.c shmem_mapping(): the mapping is a tmpfs/shmem file's"))
_add("folio_fast_pin_allowed gup_fast_folio_allowed", _e(
     E.Or((E.Not(E.And((A("foll_pin"), A("foll_longterm"), A("foll_write")))), A("hugetlb"),
           A("anon"), A("shmem"))),
     "mm/gup.c folio_fast_pin_allowed() (v6.5, a6e79df92e4a 'mm/gup: disallow FOLL_LONGTERM "
     "GUP-fast writing to file-backed mappings'; gup_fast_folio_allowed() from v6.10): a "
     "FOLL_PIN|FOLL_LONGTERM|FOLL_WRITE pin only of hugetlb, anon (KSM included) or shmem "
     "folios; a truncated mapping and secretmem are not modelled"))
_add("vma_wants_writenotify", _e(A("writenotify"),
     "mm/mmap.c vma_wants_writenotify(): a shared writable mapping whose PTEs start R/O "
     "(dirty tracking of a file, or soft-dirty tracking: vma_soft_dirty_enabled)"))
_add("vma_soft_dirty_enabled", _e(E.Not(A("vm_softdirty")),
     "mm/internal.h vma_soft_dirty_enabled() (v6.0, 76aefad628aa): CONFIG_MEM_SOFT_DIRTY and "
     "!(vm_flags & VM_SOFTDIRTY): clear_refs turned tracking on"))
_add("pte_soft_dirty pmd_soft_dirty huge_pte_soft_dirty pte_swp_soft_dirty", _e(A("pte_soft_dirty"),
     "arch pgtable.h pte_soft_dirty()/pmd_soft_dirty() (_PAGE_SOFT_DIRTY), pte_swp_soft_dirty() "
     "of a swap entry"))
_add("is_device_private_page folio_is_device_private is_device_exclusive_entry is_zone_device_page "
     "folio_is_zone_device", _e(E.FALSE,
     "include/linux/memremap.h is_device_private_page()/folio_is_device_private(): device memory "
     "is not modelled (always false)"))
_add("trylock_page folio_trylock", _e(E.TRUE,
     "include/linux/pagemap.h trylock_page()/folio_trylock(): the model has no lock contention (always succeeds)"))
_add("mm_tlb_flush_pending", _e(E.FALSE,
     "include/linux/mm_types.h mm_tlb_flush_pending(): the model has no concurrent TLB flushes"))
_add("userfaultfd_pte_wp userfaultfd_wp pte_uffd_wp huge_pte_uffd_wp",
     _e(E.FALSE, "uffd-wp is not modelled (always false)"))
_add("huge_pte_offset huge_pte_alloc", _e(E.TRUE,
     "mm/hugetlb.c huge_pte_offset()/huge_pte_alloc(): the page table of a hugetlb entry; the "
     "model's exist where an entry is decided about, and allocation does not fail"))
_add("huge_pte_none", _e(E.FALSE,
     "include/asm-generic/hugetlb.h huge_pte_none(): an empty hugetlb entry; the hugetlb "
     "points are asked about present entries only"))
_add("IS_ERR IS_ERR_OR_NULL", _e(E.FALSE,
     "include/linux/err.h IS_ERR(): an error pointer; the model's allocations do not fail"))
_add("pte_access_permitted pmd_access_permitted", _e(E.TRUE,
     "arch pgtable.h pte_access_permitted(): the entry allows the access; the model asks "
     "gup.fast only about entries that do (spec/ops/gup.py gup_fast)"))
_add("pte_special pmd_special", _e(A("zero_page"),
     "arch pgtable.h pte_special(): a special entry, in the model the shared zero page's"))
_add("try_grab_folio try_grab_page", _e(E.TRUE,
     "mm/gup.c try_grab_folio(): the reference is taken; the model's refcounts do not overflow"))
_add("pte_protnone pmd_protnone", _e(E.FALSE,
     "include/linux/pgtable.h pte_protnone(): NUMA hinting entries are not modelled (always false)"))

# The kernel's assertion macros: what they test is an assertion rule, not a branch.
ASSERT_RE = re.compile(r"^(?:VM_BUG_ON\w*|VM_WARN_ON\w*|WARN_ON\w*|WARN|WARN_ONCE|BUG_ON)$")

# Pure wrappers: their value is their (first) argument's.
TRANSPARENT = frozenset({
    "likely", "unlikely", "READ_ONCE", "data_race", "atomic_read", "atomic_long_read",
    "raw_atomic_read", "!!",
    # the warning macros return their condition: if (WARN_ON_ONCE(x)) ...
    "WARN_ON", "WARN_ON_ONCE", "WARN", "WARN_ONCE", "VM_WARN_ON_ONCE", "VM_WARN_ON_ONCE_PAGE",
    "VM_WARN_ON_ONCE_FOLIO",
})

# Bit-test helpers whose first argument names a bit: test_bit(MMF_HAS_PINNED, &mm->flags).
BIT_TESTS = frozenset({"test_bit", "mm_flags_test", "test_and_set_bit"})
BITS: dict[str, Entry] = {
    "MMF_HAS_PINNED": _e(A("mm_has_pinned"),
                         "include/linux/sched/coredump.h MMF_HAS_PINNED ('mm/gup: pack has_pinned in MMF_HAS_PINNED')"),
    "PG_anon_exclusive": _e(A("anon_exclusive"), "include/linux/page-flags.h PG_anon_exclusive (v5.19)"),
}

# Struct fields read as conditions: mm->has_pinned (v5.9..v5.13).
FIELDS: dict[str, Entry] = {
    "has_pinned": _e(A("mm_has_pinned"), "include/linux/mm_types.h mm_struct.has_pinned (v5.9, 008cfe4418b3)"),
}

# Flag constants of GUP, fault and VMA flag words: `flags & FOLL_PIN` reads foll_pin.
FLAGS: dict[str, Entry] = {
    "FOLL_PIN": _e(A("foll_pin"), "include/linux/mm.h FOLL_PIN (v5.6, pin_user_pages())"),
    "FOLL_GET": _e(A("foll_get"), "include/linux/mm.h FOLL_GET"),
    "FOLL_WRITE": _e(A("foll_write"), "include/linux/mm.h FOLL_WRITE"),
    "FOLL_LONGTERM": _e(A("foll_longterm"), "include/linux/mm.h FOLL_LONGTERM"),
    "FAULT_FLAG_WRITE": _e(A("fault_write"), "include/linux/mm_types.h FAULT_FLAG_WRITE"),
    "FAULT_FLAG_UNSHARE": _e(A("fault_unshare"), "include/linux/mm_types.h FAULT_FLAG_UNSHARE (v5.19)"),
    "VM_WRITE": _e(A("vm_write"), "include/linux/mm.h VM_WRITE"),
    "VM_SHARED": _e(E.Not(A("cow_mapping")),
                    "include/linux/mm.h VM_SHARED: a shared mapping (the model's private mappings "
                    "all have VM_MAYWRITE, so not VM_SHARED is is_cow_mapping())"),
    "VM_MAYSHARE": _e(E.Not(A("cow_mapping")),
                      "include/linux/mm.h VM_MAYSHARE: set with VM_SHARED in the model (a R/O "
                      "shared mapping keeps VM_MAYSHARE; the model's are all MAP_SHARED)"),
    "VM_MAYWRITE": _e(E.TRUE,
                      "include/linux/mm.h VM_MAYWRITE: every mapping of the model may be made "
                      "writable (mprotect), private or shared"),
    "VM_SOFTDIRTY": _e(A("vm_softdirty"),
                       "include/linux/mm.h VM_SOFTDIRTY: set on a new VMA, cleared by clear_refs "
                       "(fs/proc/task_mmu.c clear_refs_write)"),
    "VM_HUGETLB": _e(A("hugetlb"), "include/linux/mm.h VM_HUGETLB: a hugetlbfs mapping"),
    "FOLL_FORCE": _e(A("foll_force"),
                     "include/linux/mm.h FOLL_FORCE: ptrace, /proc/pid/mem (access_remote_vm)"),
    "FOLL_COW": _e(A("foll_cow"),
                   "include/linux/mm.h FOLL_COW (v4.9, 19be0eaffa3a; removed v6.0, 5535be309971): "
                   "this GUP call broke COW (faultin_page saw VM_FAULT_WRITE)"),
    "RMAP_EXCLUSIVE": _e(E.Free("RMAP_EXCLUSIVE"),
                         "include/linux/rmap.h RMAP_EXCLUSIVE (v5.19): an rmap flag, an outcome marker of "
                         "swap.in_exclusive rather than a condition"),
}
FLAG_PREFIXES = ("FOLL_", "FAULT_FLAG_", "VM_", "RMAP_", "MM_CP_")

# Pointers that the decision is about: non-NULL in the model when used as a condition.
PRESENT_POINTERS = frozenset({"page", "folio", "subpage", "vmf->page", "old_page", "old_folio",
                              "ptep", "src_pte", "dst_pte"})

BOOL_CONSTS = {"true": E.TRUE, "false": E.FALSE, "NULL": E.Const(0)}


def describe(name: str) -> str | None:
    """The cite of a vocabulary name (a call, flag or bit), or None."""
    for table in (CALLS, FLAGS, BITS, FIELDS):
        if name in table:
            return table[name].cite
    return None


RMAP_LEVELS: dict[str, E.Expr] = {
    "RMAP_LEVEL_PTE": E.Not(A("pmd_mapped")), "RMAP_MODE_PTE": E.Not(A("pmd_mapped")),
    "RMAP_LEVEL_PMD": A("pmd_mapped"), "RMAP_MODE_PMD": A("pmd_mapped"),
    "RMAP_LEVEL_PUD": E.FALSE,
}
LEVEL_CITE = ("include/linux/rmap.h enum rmap_level (v6.8: RMAP_LEVEL_PTE/PMD, "
              "'mm/rmap: introduce folio_try_dup_anon_rmap_[pte|ptes|pmd]()')")


def level_condition(value_text: str, case_text: str) -> E.Expr | None:
    """`level == RMAP_LEVEL_PMD` (an if, or a switch case): the mapping level."""
    if value_text.strip() in ("level", "mode") and case_text.strip() in RMAP_LEVELS:
        return RMAP_LEVELS[case_text.strip()]
    return None


def check_vocabulary() -> list[str]:
    """Problems in the tables: atoms that are not DecisionContext fields."""
    bad = []
    for table in (CALLS, FLAGS, BITS, FIELDS):
        for name, entry in table.items():
            for atom in E.atoms(entry.expr):
                if atom not in CONTEXT_FIELDS:
                    bad.append(f"{name}: {atom}")
    return bad
