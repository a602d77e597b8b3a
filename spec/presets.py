"""Rule sets modelling kernel eras: PRESETS[name] for v5.7, v5.8, v5.9, v5.18, v5.19 and
current. `current` (v6.x) is the reference.

A preset is its release: the preset named v5.18 is the kernel as v5.18 released it, and
it also stands for the releases since the preset before it (v5.10..v5.18: v5.9 has its
own). Each preset declares the first release it models (`first_release`); the check
picks, for a patch, the newest preset whose first release is not after the release
the patch lands in (review/check/era.py). Presets are listed oldest first, and each
one's first release follows the release of the one before it.

Each decision implementation below is a small function over a DecisionContext, named
after the era and the kernel function it paraphrases; the table at the end wires them
into presets. Era-level behaviour that is not a decision point is a feature:

    anon_exclusive         PG_anon_exclusive exists (v5.19: 78fbe906cc90, 6c287605fd56)
    mm_has_pinned          mm->has_pinned / MMF_HAS_PINNED is set by FOLL_PIN (v5.9:
                           008cfe4418b3 'mm: Introduce mm_struct.has_pinned')
    reclaim_skips_pinned   shrink_page_list keeps maybe-pinned anon pages out of the swap
                           cache (feb889fb40fa 'mm: don't put pinned pages into the swap
                           cache', v5.10 — so not in the v5.9 preset)
    ksm_unshare            break_ksm uses FAULT_FLAG_UNSHARE (v6.2)
    madv_collapse          MADV_COLLAPSE exists (v6.1)

Sources: each implementation names the kernel function and commit it paraphrases.
The era facts they rest on, as the kernel sources have them:
  - do_wp_page v5.1-v5.8: a KSM page goes to reuse_ksm_page ('mm: reuse only-pte-mapped
    KSM page in do_wp_page()'), which reuses it when it is in the stable tree, not in
    the swap cache, and page_count == 1 (page_ref_freeze(page, 1)); removed by
    1a0cf26323c8 (v5.9);
  - do_wp_page v5.9: "PageKsm || page_count != 1 -> copy; trylock; PageKsm ||
    page_mapcount != 1 || page_count != 1 -> copy" (09854ba94c6a); v5.18: "page_count
    > 1 + PageSwapCache -> copy; try_to_free_swap; page_count != 1 -> copy" (53a05ad9f21d);
  - do_huge_pmd_wp_page kept "if (reuse_swap_page(page, NULL))" (mapcount) until
    3bff7e3f1f16 'mm/huge_memory: streamline COW logic in do_huge_pmd_wp_page()' (v5.18);
  - do_swap_page v5.18: "FAULT_FLAG_WRITE && !PageKsm && (page != swapcache ||
    page_count == 1)"; v5.19: "!PageKsm && (exclusive || page_count == 1)" with
    exclusive from pte_swp_exclusive; should_try_to_free_swap: write && !KSM &&
    refcount == 2 (c145e0b47c77);
  - split_huge_page: sum of mapcounts must equal page_count minus the caller's pin, so
    GUP references make the split fail (e9b61f19858a 'thp: reintroduce split_huge_page()');
  - page_trans_huge_mapcount: max subpage mapcount + compound mapcount
    (DecisionContext.thp_mapcount), used by reuse_swap_page for THPs.
"""
from __future__ import annotations

from spec.decisions import DECISION_POINTS, DecisionContext as C, RuleSet
from spec.state import GUP_PIN_COUNTING_BIAS

# ------------------------------------------------------------------ pinned.maybe

def maybe_pinned_any(c: C) -> str:
    """page_maybe_dma_pinned (v5.7 'mm/gup: track FOLL_PIN pages'; folio form v6.1):
    exact _pincount for large folios, refcount >= GUP_PIN_COUNTING_BIAS for small ones
    (false positives allowed: the kernel may treat a page with many references as
    pinned)."""
    if c.large:
        return "pinned" if c.pincount > 0 else "not_pinned"
    return "pinned" if c.refcount >= GUP_PIN_COUNTING_BIAS else "not_pinned"


# ------------------------------------------------------------------ fork.anon_pte

def fork_share_always(c: C) -> str:
    """copy_one_pte (<= v5.8): a COW mapping always shares and write-protects."""
    return "share"


def fork_copy_pinned_v5_9(c: C) -> str:
    """copy_present_page / copy_huge_pmd (v5.9, 70e806e4e645 'mm: Do early cow for pinned
    pages during fork() for ptes', d042035eaf5f): is_cow_mapping && has_pinned &&
    page_maybe_dma_pinned -> copy. page_needs_cow_for_dma (97a7e4733b9b, v5.12) is the
    same condition."""
    return "copy" if c.cow_mapping and c.mm_has_pinned and c.maybe_pinned else "share"


def fork_try_dup_v5_19(c: C) -> str:
    """page_try_dup_anon_rmap (v5.19) / folio_try_dup_anon_rmap_pte(s)/_pmd (v6.8):
    -EBUSY (copy) iff the page is exclusive and page_needs_cow_for_dma /
    folio_needs_cow_for_dma (MMF_HAS_PINNED && folio_maybe_dma_pinned)."""
    if c.anon_exclusive and c.cow_mapping and c.mm_has_pinned and c.maybe_pinned:
        return "copy"
    return "share"


# ------------------------------------------------------------------ wp.reuse

def wp_reuse_mapcount(c: C) -> str:
    """do_wp_page / do_huge_pmd_wp_page with reuse_swap_page (<= v5.8 for small pages,
    <= v5.17 for PMD-mapped THPs): mapcount + swapcount <= 1, GUP references ignored —
    the CVE-2020-29374 hole. A KSM page goes to reuse_ksm_page instead (v5.1 'mm: reuse
    only-pte-mapped KSM page in do_wp_page()'; removed by 1a0cf26323c8 in v5.9): reused
    when it is in the stable tree (as every KSM page of the model is), not in the swap
    cache, and its only reference is this mapping (page_count == 1,
    page_ref_freeze(page, 1))."""
    if c.ksm:
        return "reuse" if not c.swapcache and c.refcount == 1 else "copy"
    # reuse_swap_page -> page_trans_huge_map_swapcount: for a THP (PMD- or PTE-mapped)
    # the largest mapcount over all its pages, not just the faulting one
    mapcount = c.thp_mapcount if c.large else c.mapcount
    count = mapcount + (c.swapcount if c.swapcache else 0)
    return "reuse" if count <= 1 else "copy"


def wp_reuse_refcount_v5_9(c: C) -> str:
    """do_wp_page after 09854ba94c6a 'mm: do_wp_page() simplification' (v5.9-v5.17):
    !PageKsm && page_count == 1 && page_mapcount == 1. A page in the swap cache holds an
    extra reference and is always copied. PMD-mapped THPs keep reuse_swap_page."""
    if c.pmd_mapped:
        return wp_reuse_mapcount(c)
    if c.ksm:
        return "copy"
    return "reuse" if c.refcount == 1 and c.mapcount == 1 else "copy"


def _refcount_after_free_swap(c: C) -> int:
    # try_to_free_swap succeeds when no swap entry refers to the slot any more
    return c.refcount - (1 if c.swapcache and c.swapcount == 0 else 0)


def wp_reuse_refcount_v5_18(c: C) -> str:
    """do_wp_page after 53a05ad9f21d 'mm: optimize do_wp_page() for exclusive pages in the
    swapcache' (v5.18): page_count > 1 + PageSwapCache -> copy; try_to_free_swap; then
    page_count == 1. do_huge_pmd_wp_page after 3bff7e3f1f16 'mm/huge_memory: streamline
    COW logic in do_huge_pmd_wp_page()': the same test."""
    if c.ksm:
        return "copy"
    return "reuse" if _refcount_after_free_swap(c) == 1 else "copy"


def wp_reuse_anon_exclusive_v5_19(c: C) -> str:
    """do_wp_page in v5.19 (6c287605fd56): "If we encounter a page that is marked
    exclusive, we must reuse the page without further checks"; otherwise the v5.18
    test, then page_move_anon_rmap + SetPageAnonExclusive."""
    if c.anon_exclusive and not c.ksm:
        return "reuse"
    return wp_reuse_refcount_v5_18(c)


def wp_reuse_current(c: C) -> str:
    """do_wp_page + wp_can_reuse_anon_folio (v6.7, 'mm/memory: move exclusivity detection
    in do_wp_page() into wp_can_reuse_anon_folio()'): exclusive -> reuse; a PTE-mapped
    large folio is never reused (before the 2025 large-folio COW reuse); KSM never;
    refcount == 1 after freeing the swap cache. do_huge_pmd_wp_page: exclusive or
    refcount == 1."""
    if c.ksm:
        return "copy"
    if c.anon_exclusive:
        return "reuse"
    if c.large and not c.pmd_mapped:
        return "copy"
    return "reuse" if _refcount_after_free_swap(c) == 1 else "copy"


# ------------------------------------------------------------------ gup.unshare

def gup_pin_as_mapped(c: C) -> str:
    """<= v5.18: R/O GUP takes whatever is mapped."""
    return "pin"


def gup_must_unshare_v5_19(c: C) -> str:
    """gup_must_unshare(flags, page) (v5.19-v6.1): FOLL_PIN without FOLL_WRITE, PageAnon
    and !PageAnonExclusive (KSM pages are never exclusive)."""
    if not c.foll_pin or c.foll_write:
        return "pin"
    return "unshare" if c.anon and not c.anon_exclusive else "pin"


def gup_must_unshare_v6_2(c: C) -> str:
    """gup_must_unshare(vma, flags, page) (v6.2, 'mm/gup: reliable R/O long-term pinning
    in COW mappings'): non-anon pages (the shared zero page) are unshared for
    FOLL_LONGTERM in a COW mapping."""
    if not c.foll_pin or c.foll_write:
        return "pin"
    if not c.anon:
        return "unshare" if c.foll_longterm and c.cow_mapping else "pin"
    return "unshare" if not c.anon_exclusive else "pin"


# ------------------------------------------------------------------ gup.cow_break

def cow_break_never(c: C) -> str:
    return "no_break"


def cow_break_v5_8(c: C) -> str:
    """should_force_cow_break (v5.8, 17839856fd58; removed by a308c71bf1e6 'mm/gup: Remove
    enfornced COW mechanism' in v5.9): is_cow_mapping && (FOLL_GET | FOLL_PIN)."""
    return "break" if c.cow_mapping and (c.foll_get or c.foll_pin) else "no_break"


# ------------------------------------------------------------------ rmap.try_share

def try_share_always(c: C) -> str:
    """Eras without PG_anon_exclusive never ask (the flag is never set)."""
    return "share"


def try_share_unless_pinned(c: C) -> str:
    """page_try_share_anon_rmap (v5.19) / folio_try_share_anon_rmap_pte/_pmd (v6.8):
    -EBUSY iff folio_maybe_dma_pinned."""
    return "refuse" if c.maybe_pinned else "share"


# ------------------------------------------------------------------ swap.entry_exclusive

def swp_entry_plain(c: C) -> str:
    return "plain"


def swp_entry_remembers(c: C) -> str:
    """try_to_unmap_one: pte_swp_mkexclusive if the page was exclusive (1493a1913e34,
    v5.19, on arches with __HAVE_ARCH_PTE_SWP_EXCLUSIVE)."""
    return "exclusive" if c.anon_exclusive else "plain"


# ------------------------------------------------------------------ swap.in_exclusive

def swapin_reuse_swap_page(c: C) -> str:
    """do_swap_page <= v5.17: a write fault maps the page writable iff reuse_swap_page:
    mapcount + swapcount <= 1 (the faulting entry included)."""
    if c.fault_write and not c.ksm and c.mapcount + c.swapcount <= 1:
        return "exclusive"
    return "shared"


def swapin_refcount_v5_18(c: C) -> str:
    """do_swap_page after c145e0b47c77 'mm: streamline COW logic in do_swap_page()'
    (v5.18): a write fault reuses iff page != swapcache or page_count == 1 (after
    should_try_to_free_swap)."""
    if c.fault_write and not c.ksm and (not c.from_swapcache or c.refcount == 1):
        return "exclusive"
    return "shared"


def swapin_exclusive_v5_19(c: C) -> str:
    """do_swap_page (v5.19, 1493a1913e34): exclusive = pte_swp_exclusive || page !=
    swapcache; then !PageKsm && (exclusive || page_count == 1) -> RMAP_EXCLUSIVE (and
    writable on a write fault)."""
    if c.ksm:
        return "shared"
    if c.swp_exclusive or not c.from_swapcache or c.refcount == 1:
        return "exclusive"
    return "shared"


# ------------------------------------------------------------------ migrate.entry

def migrate_entry_rw(c: C) -> str:
    """try_to_migrate_one <= v5.18: writable or readable migration entry."""
    return "write" if c.pte_write else "read"


def migrate_entry_v5_19(c: C) -> str:
    """try_to_migrate_one / set_pmd_migration_entry (v5.19, 6c287605fd56 §I.3):
    SWP_MIGRATION_WRITE if writable, else READ_EXCLUSIVE if exclusive, else READ."""
    if c.pte_write:
        return "write"
    return "read_exclusive" if c.anon_exclusive else "read"


# ------------------------------------------------------------------ thp.split

def thp_split_propagate(c: C) -> str:
    """__split_huge_pmd_locked (v5.19+): "if (anon_exclusive) SetPageAnonExclusive(page
    + i)" for every subpage."""
    return "propagate"


# ------------------------------------------------------------------ mprotect.writable

def mprotect_leave_readonly(c: C) -> str:
    """< v6.0: private anon PTEs are not write-upgraded by mprotect."""
    return "readonly"


def mprotect_exclusive_anon_v6_2(c: C) -> str:
    """can_change_pte_writable / can_change_pmd_writable (64fe24a3e05e v6.0; 'mm/mprotect:
    allow clean exclusive anon pages to be writable' v6.2): private mapping, VM_WRITE,
    the page anon and exclusive (soft-dirty and uffd-wp are not modelled)."""
    if c.vm_write and c.anon and not c.ksm and c.anon_exclusive:
        return "writable"
    return "readonly"


# ------------------------------------------------------------------ presets

_COMMON = {"pinned.maybe": maybe_pinned_any, "thp.split": thp_split_propagate}


def _preset(name: str, first_release: str, cites: str, features: dict, **decide) -> RuleSet:
    table = dict(_COMMON)
    table.update({k.replace("__", "."): v for k, v in decide.items()})
    missing = set(DECISION_POINTS) - set(table)
    if missing:
        raise AssertionError(f"preset {name} lacks {sorted(missing)}")
    return RuleSet(name=name, decide=table, features=features, cites=cites,
                   first_release=first_release)


_OLD = dict(fork__anon_pte=fork_share_always, wp__reuse=wp_reuse_mapcount,
            gup__unshare=gup_pin_as_mapped, gup__cow_break=cow_break_never,
            rmap__try_share=try_share_always, swap__entry_exclusive=swp_entry_plain,
            swap__in_exclusive=swapin_reuse_swap_page, migrate__entry=migrate_entry_rw,
            mprotect__writable=mprotect_leave_readonly)

PRESETS: dict[str, RuleSet] = {
    "v5.7": _preset(
        "v5.7", "v5.7",
        "mapcount era: copy_one_pte shares; do_wp_page reuse_swap_page (mapcount); R/O GUP "
        "pins what is mapped (CVE-2020-29374)",
        {}, **_OLD),
    "v5.8": _preset(
        "v5.8", "v5.8",
        "17839856fd58 'gup: document and work around \"COW can break either way\" issue': "
        "should_force_cow_break",
        {}, **{**_OLD, "gup__cow_break": cow_break_v5_8}),
    "v5.9": _preset(
        "v5.9", "v5.9",
        "09854ba94c6a 'mm: do_wp_page() simplification'; a308c71bf1e6 'mm/gup: Remove "
        "enfornced COW mechanism'; 70e806e4e645 'mm: Do early cow for pinned pages during "
        "fork() for ptes'; d042035eaf5f; 008cfe4418b3 'mm: Introduce mm_struct.has_pinned'. "
        "Reclaim does not skip pinned pages (feb889fb40fa is v5.10)",
        {"mm_has_pinned": True},
        **{**_OLD, "fork__anon_pte": fork_copy_pinned_v5_9, "wp__reuse": wp_reuse_refcount_v5_9}),
    "v5.18": _preset(
        "v5.18", "v5.10",
        "COW fixes part 1: 53a05ad9f21d 'mm: optimize do_wp_page() for exclusive pages in "
        "the swapcache'; c145e0b47c77 'mm: streamline COW logic in do_swap_page()'; "
        "3bff7e3f1f16 'mm/huge_memory: streamline COW logic in do_huge_pmd_wp_page()'; "
        "feb889fb40fa 'mm: don't put pinned pages into the swap cache' (v5.10)",
        {"mm_has_pinned": True, "reclaim_skips_pinned": True},
        **{**_OLD, "fork__anon_pte": fork_copy_pinned_v5_9, "wp__reuse": wp_reuse_refcount_v5_18,
           "swap__in_exclusive": swapin_refcount_v5_18}),
    "v5.19": _preset(
        "v5.19", "v5.19",
        "COW fixes part 2/3: 78fbe906cc90, 6c287605fd56 'mm: remember exclusively mapped "
        "anonymous pages with PG_anon_exclusive'; page_try_dup_anon_rmap, "
        "page_try_share_anon_rmap; 'mm/gup: trigger FAULT_FLAG_UNSHARE when R/O-pinning a "
        "possibly shared anonymous page'; 1493a1913e34 'mm/swap: remember "
        "PG_anon_exclusive via a swp pte bit'",
        {"anon_exclusive": True, "mm_has_pinned": True, "reclaim_skips_pinned": True},
        fork__anon_pte=fork_try_dup_v5_19, wp__reuse=wp_reuse_anon_exclusive_v5_19,
        gup__unshare=gup_must_unshare_v5_19, gup__cow_break=cow_break_never,
        rmap__try_share=try_share_unless_pinned, swap__entry_exclusive=swp_entry_remembers,
        swap__in_exclusive=swapin_exclusive_v5_19, migrate__entry=migrate_entry_v5_19,
        mprotect__writable=mprotect_leave_readonly),
    "current": _preset(
        "current", "v6.0",
        "v6.x: 'mm/gup: reliable R/O long-term pinning in COW mappings' and 'mm: extend "
        "FAULT_FLAG_UNSHARE support to anything in a COW mapping' (v6.2); 64fe24a3e05e and "
        "'mm/mprotect: allow clean exclusive anon pages to be writable' (v6.0/v6.2); "
        "wp_can_reuse_anon_folio (v6.7); folio_try_dup/_share_anon_rmap_* (v6.8); "
        "MADV_COLLAPSE (v6.1); break_ksm via FAULT_FLAG_UNSHARE (v6.2)",
        {"anon_exclusive": True, "mm_has_pinned": True, "reclaim_skips_pinned": True,
         "ksm_unshare": True, "madv_collapse": True},
        fork__anon_pte=fork_try_dup_v5_19, wp__reuse=wp_reuse_current,
        gup__unshare=gup_must_unshare_v6_2, gup__cow_break=cow_break_never,
        rmap__try_share=try_share_unless_pinned, swap__entry_exclusive=swp_entry_remembers,
        swap__in_exclusive=swapin_exclusive_v5_19, migrate__entry=migrate_entry_v5_19,
        mprotect__writable=mprotect_exclusive_anon_v6_2),
}

REFERENCE = "current"
