"""Rule sets modelling kernel eras: PRESETS[name] for v5.7, v5.8, v5.9, v5.18, v5.19, v6.0,
v6.2, v6.5, v6.8 and current. `current` (the newest release the model follows) is the
reference.

A preset is its release: a commit belongs to the first release that contains it, so a
fix merged during a release's merge window or its -rc phase is in that release's
preset (76aefad628aa and 5535be309971 are in v6.0). The preset named v5.18 is the
kernel as v5.18 released it, and it also stands for the releases since the preset
before it (v5.10..v5.18: v5.9 has its own; v6.1..v6.2 for `v6.2`, v6.3..v6.5 for
`v6.5`, v6.6..v6.8 for `v6.8`, v6.9 on for `current`), which docs/limitations.md
says is an approximation for the releases in between. Each preset declares the first release it models (`first_release`); the check
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
    clear_refs_skips_pinned  clear_refs leaves a writable PTE of a maybe-pinned page in a
                           COW mapping alone (pte_is_pinned; 9348b73c2e1b 'mm: don't play
                           games with pinned pages in clear_page_refs', v5.11)
    unuse_keeps_soft_dirty unuse_pte carries the swap PTE's soft-dirty bit over
                           (14a762dd1977 'mm/swapfile: fix lost swap bits in unuse_pte()',
                           v5.19; before, swapoff mapped the page without it)
    ksm_unshare            break_ksm uses FAULT_FLAG_UNSHARE (v6.2)
    madv_collapse          MADV_COLLAPSE exists (v6.1)
    longterm_write_file_refused  check_vma_flags refuses FOLL_LONGTERM|FOLL_WRITE pins of a
                           shared mapping of a file that needs dirty tracking, not tmpfs or
                           hugetlbfs (writable_file_mapping_allowed: 'mm/gup: disallow
                           FOLL_LONGTERM GUP-nonfast writing to file-backed mappings', v6.5)
    mthp                   anonymous faults may allocate an mTHP smaller than a PMD (19eaf44954df
                           'mm: thp: support allocation of anonymous multi-size THP', v6.8)

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
    (DecisionContext.thp_mapcount), used by reuse_swap_page for THPs;
  - change_pte_range (64e455079e1b, v3.18, until v6.0): on a shared mapping that wants
    write-notify, mprotect(PROT_WRITE) maps a dirty PTE writable when "pte_soft_dirty ||
    !(vm_flags & VM_SOFTDIRTY)": backwards, since a clear VM_SOFTDIRTY means tracking is
    on; 64fe24a3e05e (v6.0 merge window) moved the check into can_change_pte_writable
    with the same polarity and extended the upgrade to exclusive anon pages; 76aefad628aa
    'mm/mprotect: fix soft-dirty check in can_change_pte_writable()' (v6.0) fixed both
    with vma_soft_dirty_enabled();
  - can_follow_write_pte v4.9-v5.19 (19be0eaffa3a 'mm: remove gup_flags FOLL_WRITE games
    from __get_user_pages()'): pte_write || (FOLL_FORCE && FOLL_COW && pte_dirty); v6.0
    (5535be309971 'mm/gup: fix FOLL_FORCE COW security issue and remove FOLL_COW'): a
    forced write follows a R/O PTE only in a private mapping without VM_WRITE, on an
    exclusive anon page, and not while soft-dirty tracking wants the fault;
  - GUP-fast: v5.8 took only writable entries (17839856fd58: gup_flags | FOLL_WRITE;
    removed by a308c71bf1e6 in v5.9); gup_must_unshare from v5.19, with vma == NULL
    from v6.2 ('mm/gup: reliable R/O long-term pinning in COW mappings'), then
    folio_fast_pin_allowed (a6e79df92e4a 'mm/gup: disallow FOLL_LONGTERM GUP-fast writing
    to file-backed mappings', v6.5);
  - hugetlb_cow / hugetlb_wp reuse a page when "page_mapcount(old_page) == 1 &&
    PageAnon(old_page)" in every era modelled (mapcount, not refcount: "there can still
    be leaks between processes, for example, with FOLL_GET users");
  - copy_hugetlb_page_range: early COW of pinned pages from v5.12 (4eae4efa2c29
    'hugetlb: do early cow when page pinned on src mm'), whose child entry kept the
    write bit until 84894e1c42e9 'mm/hugetlb: fix cow where page writtable in child'
    (v5.13: the v5.18 preset has the fix); page_try_dup_anon_rmap from v5.19;
  - unuse_pte maps RMAP_EXCLUSIVE iff pte_swp_exclusive (v5.19, 1493a1913e34).
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
    # try_to_free_swap succeeds when no swap entry refers to the slot any more and the
    # folio is not under writeback (folio_free_swap)
    return c.refcount - (1 if c.swapcache and c.swapcount == 0 and not c.writeback else 0)


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

def _shared_without_writenotify(c: C) -> bool:
    # vma_set_page_prot: a shared writable mapping that wants no write-notify has a
    # writable vm_page_prot, so pte_modify alone maps every entry writable
    return not c.cow_mapping and not c.writenotify


def _soft_dirty_ok(c: C) -> bool:
    # "Do we need write faults for softdirty tracking?": vma_soft_dirty_enabled(vma) &&
    # !pte_soft_dirty(pte) wants the fault
    return c.vm_softdirty or c.pte_soft_dirty


def mprotect_leave_readonly(c: C) -> str:
    """< v6.0: private anon PTEs are not write-upgraded by mprotect. Shared mappings
    that want write-notify: change_pte_range's MM_CP_DIRTY_ACCT upgrade of a dirty PTE
    when "pte_soft_dirty(ptent) || !(vma->vm_flags & VM_SOFTDIRTY)" (64e455079e1b, v3.18):
    the soft-dirty test is backwards (VM_SOFTDIRTY clear means tracking is on), so after
    clear_refs a dirty PTE is mapped writable and the next write sets no soft-dirty bit."""
    if c.cow_mapping:
        return "readonly"
    if _shared_without_writenotify(c):
        return "writable"
    return "writable" if c.pte_dirty and (c.pte_soft_dirty or not c.vm_softdirty) else "readonly"


def mprotect_exclusive_anon_v6_0(c: C) -> str:
    """can_change_pte_writable (64fe24a3e05e 'mm/mprotect: try avoiding write faults for
    exclusive anonymous pages when changing protection', with 76aefad628aa's
    vma_soft_dirty_enabled(), both v6.0): a dirty PTE, no soft-dirty fault wanted, and in a
    private mapping an exclusive anon page (not a PMD: can_change_pmd_writable is v6.2)."""
    if _shared_without_writenotify(c):
        return "writable"
    if not c.vm_write or not c.pte_dirty or not _soft_dirty_ok(c):
        return "readonly"
    if not c.cow_mapping:
        return "writable"
    if c.pmd_mapped or not c.anon or c.ksm or not c.anon_exclusive:
        return "readonly"
    return "writable"


def mprotect_exclusive_anon_v6_2(c: C) -> str:
    """can_change_pte_writable / can_change_pmd_writable ('mm/mprotect: allow clean
    exclusive anon pages to be writable', v6.2): private mapping, VM_WRITE, the page anon
    and exclusive, dirty or not; a shared mapping's PTE when dirty; never while
    soft-dirty tracking wants the fault (76aefad628aa; uffd-wp is not modelled)."""
    if _shared_without_writenotify(c):
        return "writable"
    if not c.vm_write or not _soft_dirty_ok(c):
        return "readonly"
    if not c.cow_mapping:
        return "writable" if c.pte_dirty else "readonly"
    if c.anon and not c.ksm and c.anon_exclusive:
        return "writable"
    return "readonly"


# ------------------------------------------------------------------ gup.fast

def gup_fast_take(c: C) -> str:
    """gup_pte_range / gup_huge_pmd (v5.7, v5.9-v5.18): any present, accessible,
    non-special entry that allows the access (pte_access_permitted) is taken."""
    return "pin"


def gup_fast_writable_only_v5_8(c: C) -> str:
    """internal_get_user_pages_fast (v5.8, 17839856fd58): gup_pgd_range(..., gup_flags |
    FOLL_WRITE): "only targets that are already writable are safe"; the rest takes the
    slow path, which breaks COW (removed by a308c71bf1e6 in v5.9)."""
    return "pin" if c.pte_write else "fallback"


def _fast_must_unshare_v5_19(c: C) -> bool:
    # gup_pte_range: "if (!pte_write(pte) && gup_must_unshare(flags, page))"
    return not c.pte_write and c.foll_pin and not c.foll_write and c.anon and not c.anon_exclusive


def gup_fast_unshare_v5_19(c: C) -> str:
    """gup_pte_range / gup_huge_pmd (v5.19-v6.1): back off when gup_must_unshare(flags,
    page): a R/O FOLL_PIN of a R/O-mapped anon page that is not exclusive."""
    return "fallback" if _fast_must_unshare_v5_19(c) else "pin"


def _fast_must_unshare_v6_2(c: C) -> bool:
    # gup_must_unshare(NULL, flags, page) (v6.2): without the VMA, a R/O FOLL_LONGTERM
    # pin of a non-anon page backs off, since it might be a COW mapping
    if c.pte_write or not c.foll_pin or c.foll_write:
        return False
    if not c.anon:
        return c.foll_longterm
    return not c.anon_exclusive


def gup_fast_unshare_v6_2(c: C) -> str:
    """gup_pte_range / gup_huge_pmd (v6.2, 'mm/gup: reliable R/O long-term pinning in COW
    mappings'): gup_must_unshare(NULL, flags, page): also a R/O longterm pin of any
    non-anon page (the zero page, page cache) backs off to the slow path."""
    return "fallback" if _fast_must_unshare_v6_2(c) else "pin"


def gup_fast_pin_allowed_v6_5(c: C) -> str:
    """gup_pte_range (v6.5): also folio_fast_pin_allowed (a6e79df92e4a 'mm/gup: disallow
    FOLL_LONGTERM GUP-fast writing to file-backed mappings'): a FOLL_PIN|FOLL_LONGTERM|
    FOLL_WRITE of a page-cache folio that is neither shmem nor hugetlb backs off (the
    slow path refuses it on a shared mapping)."""
    if c.foll_pin and c.foll_longterm and c.foll_write and not c.anon and not c.shmem \
            and not c.hugetlb and not c.zero_page:
        return "fallback"
    return gup_fast_unshare_v6_2(c)


# ------------------------------------------------------------------ gup.follow_write

def follow_write_foll_cow(c: C) -> str:
    """can_follow_write_pte / can_follow_write_pmd (v4.9 Dirty COW fix 19be0eaffa3a up to
    v5.19): pte_write || (FOLL_FORCE && FOLL_COW && pte_dirty): after this GUP call broke
    COW, a forced write follows the dirty R/O entry it left."""
    if c.pte_write:
        return "follow"
    return "follow" if c.foll_force and c.foll_cow and c.pte_dirty else "fault"


def follow_write_forced_cow_v5_8(c: C) -> str:
    """can_follow_write_pte as 17839856fd58 ('gup: document and work around "COW can
    break either way" issue', v5.8) left it: pte_write || (FOLL_COW && pte_dirty),
    "FOLL_FORCE or a forced COW break can write even to unwritable pte's". The forced
    COW break (gup.cow_break) adds FOLL_WRITE to R/O GUP without FOLL_FORCE; its COW
    fault in a VMA without VM_WRITE leaves the entry R/O, and asking for FOLL_FORCE
    there would fault for ever. a308c71bf1e6 (v5.9) put the FOLL_FORCE test back as
    it removed the forced COW break."""
    if c.pte_write:
        return "follow"
    return "follow" if c.foll_cow and c.pte_dirty else "fault"


def follow_write_exclusive_v6_0(c: C) -> str:
    """can_follow_write_pte (5535be309971 'mm/gup: fix FOLL_FORCE COW security issue and
    remove FOLL_COW', v6.0): FOLL_FORCE has no effect on shared mappings nor on ones with
    VM_WRITE; in a private R/O mapping a forced write follows a R/O entry only on an
    exclusive anon page (COW was broken), and not while soft-dirty tracking wants a write
    fault (vma_soft_dirty_enabled && !pte_soft_dirty)."""
    if c.pte_write:
        return "follow"
    if not c.foll_force or not c.cow_mapping or c.vm_write:
        return "fault"
    if not c.anon or c.ksm or not c.anon_exclusive or not _soft_dirty_ok(c):
        return "fault"
    return "follow"


# ------------------------------------------------------------------ wp.pagecache

def wp_pagecache_cow(c: C) -> str:
    """do_wp_page on a page that is not anon: in a private mapping wp_page_copy (COW; a
    FAULT_FLAG_UNSHARE fault copies too, from v6.2 'mm: extend FAULT_FLAG_UNSHARE support
    to anything in a COW mapping'); in a shared mapping wp_page_shared makes the entry
    writable in place (after ->page_mkwrite). The same in every era modelled."""
    return "copy" if c.cow_mapping else "share"


# ------------------------------------------------------------------ hugetlb.reuse

def hugetlb_reuse_mapcount(c: C) -> str:
    """hugetlb_cow / hugetlb_wp: "page_mapcount(old_page) == 1 && PageAnon(old_page)"
    reuses (v5.19+ also sets PageAnonExclusive); otherwise copy. Mapcount, not refcount,
    in every era modelled: "there can still be leaks between processes, for example,
    with FOLL_GET users" (mm/hugetlb.c)."""
    return "reuse" if c.anon and c.mapcount == 1 else "copy"


# ------------------------------------------------------------------ hugetlb.fork

def hugetlb_fork_share(c: C) -> str:
    """copy_hugetlb_page_range (<= v5.11): a COW mapping write-protects the source entry
    (huge_ptep_set_wrprotect) and installs it R/O in the child: pinned pages too."""
    return "share"


def hugetlb_fork_copy_pinned_v5_12(c: C) -> str:
    """copy_hugetlb_page_range (4eae4efa2c29 'hugetlb: do early cow when page pinned on
    src mm', v5.12; with 84894e1c42e9 'mm/hugetlb: fix cow where page writtable in child',
    v5.13): page_needs_cow_for_dma -> the child gets a copy (hugetlb_install_page)."""
    return fork_copy_pinned_v5_9(c)


def hugetlb_fork_try_dup_v5_19(c: C) -> str:
    """copy_hugetlb_page_range (v5.19): page_try_dup_anon_rmap fails (-EBUSY) on an
    exclusive page that needs COW for DMA: copy early; otherwise share."""
    return fork_try_dup_v5_19(c)


# ------------------------------------------------------------------ swap.unuse

def unuse_plain(c: C) -> str:
    """unuse_pte (<= v5.18): page_add_anon_rmap without RMAP_EXCLUSIVE (no flag yet)."""
    return "shared"


def unuse_swp_exclusive(c: C) -> str:
    """unuse_pte (v5.19, 1493a1913e34 'mm/swap: remember PG_anon_exclusive via a swp pte
    bit'): RMAP_EXCLUSIVE iff pte_swp_exclusive."""
    return "exclusive" if c.swp_exclusive else "shared"


# ------------------------------------------------------------------ mremap.soft_dirty

def mremap_mark_soft_dirty(c: C) -> str:
    """move_ptes / move_huge_pmd: move_soft_dirty_pte / move_soft_dirty_pmd mark every moved
    entry soft-dirty (6dec97dc929 'mm: move_ptes -- Set soft dirty bit depending on pte
    type', v3.11): the contents at the new address changed."""
    return "mark"


# ------------------------------------------------------------------ presets

_COMMON = {"pinned.maybe": maybe_pinned_any, "thp.split": thp_split_propagate,
           "wp.pagecache": wp_pagecache_cow, "hugetlb.reuse": hugetlb_reuse_mapcount,
           "mremap.soft_dirty": mremap_mark_soft_dirty}


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
            mprotect__writable=mprotect_leave_readonly, gup__fast=gup_fast_take,
            gup__follow_write=follow_write_foll_cow, hugetlb__fork=hugetlb_fork_share,
            swap__unuse=unuse_plain)

# the PG_anon_exclusive eras (v5.19 onwards), as v5.19 has them
_AE = dict(fork__anon_pte=fork_try_dup_v5_19, wp__reuse=wp_reuse_anon_exclusive_v5_19,
           gup__unshare=gup_must_unshare_v5_19, gup__cow_break=cow_break_never,
           rmap__try_share=try_share_unless_pinned, swap__entry_exclusive=swp_entry_remembers,
           swap__in_exclusive=swapin_exclusive_v5_19, migrate__entry=migrate_entry_v5_19,
           mprotect__writable=mprotect_leave_readonly, gup__fast=gup_fast_unshare_v5_19,
           gup__follow_write=follow_write_foll_cow, hugetlb__fork=hugetlb_fork_try_dup_v5_19,
           swap__unuse=unuse_swp_exclusive)

_F_V5_18 = {"mm_has_pinned": True, "reclaim_skips_pinned": True, "clear_refs_skips_pinned": True}
_F_V5_19 = {**_F_V5_18, "anon_exclusive": True, "unuse_keeps_soft_dirty": True}
_F_V6_2 = {**_F_V5_19, "ksm_unshare": True, "madv_collapse": True}
_F_V6_5 = {**_F_V6_2, "longterm_write_file_refused": True}
_F_V6_8 = {**_F_V6_5, "mthp": True}

_V6_0 = {**_AE, "mprotect__writable": mprotect_exclusive_anon_v6_0,
         "gup__follow_write": follow_write_exclusive_v6_0}
_V6_2 = {**_V6_0, "gup__unshare": gup_must_unshare_v6_2,
         "mprotect__writable": mprotect_exclusive_anon_v6_2, "gup__fast": gup_fast_unshare_v6_2}
_V6_5 = {**_V6_2, "gup__fast": gup_fast_pin_allowed_v6_5}
_V6_8 = {**_V6_5, "wp__reuse": wp_reuse_current}

PRESETS: dict[str, RuleSet] = {
    "v5.7": _preset(
        "v5.7", "v5.7",
        "mapcount era: copy_one_pte shares; do_wp_page reuse_swap_page (mapcount); R/O GUP "
        "pins what is mapped (CVE-2020-29374); shared mappings' mprotect soft-dirty polarity "
        "bug (64e455079e1b); hugetlb fork shares pinned pages",
        {}, **_OLD),
    "v5.8": _preset(
        "v5.8", "v5.8",
        "17839856fd58 'gup: document and work around \"COW can break either way\" issue': "
        "should_force_cow_break, and can_follow_write_pte without FOLL_FORCE; GUP-fast takes "
        "writable entries only",
        {}, **{**_OLD, "gup__cow_break": cow_break_v5_8, "gup__fast": gup_fast_writable_only_v5_8,
               "gup__follow_write": follow_write_forced_cow_v5_8}),
    "v5.9": _preset(
        "v5.9", "v5.9",
        "09854ba94c6a 'mm: do_wp_page() simplification'; a308c71bf1e6 'mm/gup: Remove "
        "enfornced COW mechanism'; 70e806e4e645 'mm: Do early cow for pinned pages during "
        "fork() for ptes'; d042035eaf5f; 008cfe4418b3 'mm: Introduce mm_struct.has_pinned'. "
        "Reclaim does not skip pinned pages (feb889fb40fa is v5.10), clear_refs write-protects "
        "them (9348b73c2e1b is v5.11), hugetlb has no early COW (4eae4efa2c29 is v5.12)",
        {"mm_has_pinned": True},
        **{**_OLD, "fork__anon_pte": fork_copy_pinned_v5_9, "wp__reuse": wp_reuse_refcount_v5_9}),
    "v5.18": _preset(
        "v5.18", "v5.10",
        "COW fixes part 1: 53a05ad9f21d 'mm: optimize do_wp_page() for exclusive pages in "
        "the swapcache'; c145e0b47c77 'mm: streamline COW logic in do_swap_page()'; "
        "3bff7e3f1f16 'mm/huge_memory: streamline COW logic in do_huge_pmd_wp_page()'; "
        "feb889fb40fa 'mm: don't put pinned pages into the swap cache' (v5.10); 9348b73c2e1b "
        "(v5.11); 4eae4efa2c29 + 84894e1c42e9 hugetlb early COW (v5.12/v5.13)",
        _F_V5_18,
        **{**_OLD, "fork__anon_pte": fork_copy_pinned_v5_9, "wp__reuse": wp_reuse_refcount_v5_18,
           "swap__in_exclusive": swapin_refcount_v5_18,
           "hugetlb__fork": hugetlb_fork_copy_pinned_v5_12}),
    "v5.19": _preset(
        "v5.19", "v5.19",
        "COW fixes part 2/3: 78fbe906cc90, 6c287605fd56 'mm: remember exclusively mapped "
        "anonymous pages with PG_anon_exclusive'; page_try_dup_anon_rmap, "
        "page_try_share_anon_rmap; 'mm/gup: trigger FAULT_FLAG_UNSHARE when R/O-pinning a "
        "possibly shared anonymous page'; 1493a1913e34 'mm/swap: remember "
        "PG_anon_exclusive via a swp pte bit'; 14a762dd1977 (unuse_pte keeps soft-dirty)",
        _F_V5_19, **_AE),
    "v6.0": _preset(
        "v6.0", "v6.0",
        "5535be309971 'mm/gup: fix FOLL_FORCE COW security issue and remove FOLL_COW'; "
        "64fe24a3e05e 'mm/mprotect: try avoiding write faults for exclusive anonymous pages "
        "when changing protection' with 76aefad628aa 'mm/mprotect: fix soft-dirty check in "
        "can_change_pte_writable()'",
        _F_V5_19, **_V6_0),
    "v6.2": _preset(
        "v6.2", "v6.1",
        "'mm/gup: reliable R/O long-term pinning in COW mappings' and 'mm: extend "
        "FAULT_FLAG_UNSHARE support to anything in a COW mapping'; 'mm/mprotect: allow clean "
        "exclusive anon pages to be writable'; MADV_COLLAPSE (v6.1); break_ksm via "
        "FAULT_FLAG_UNSHARE",
        _F_V6_2, **_V6_2),
    "v6.5": _preset(
        "v6.5", "v6.3",
        "'mm/gup: disallow FOLL_LONGTERM GUP-nonfast writing to file-backed mappings' and "
        "a6e79df92e4a 'mm/gup: disallow FOLL_LONGTERM GUP-fast writing to file-backed "
        "mappings'",
        _F_V6_5, **_V6_5),
    "v6.8": _preset(
        "v6.8", "v6.6",
        "19eaf44954df 'mm: thp: support allocation of anonymous multi-size THP'; "
        "wp_can_reuse_anon_folio (v6.7); folio_try_dup/_share_anon_rmap_* (v6.8)",
        _F_V6_8, **_V6_8),
    "current": _preset(
        "current", "v6.9",
        "the newest release the model follows: v6.8 and later (the 2025 large-folio COW "
        "reuse is not modelled: docs/limitations.md)",
        _F_V6_8, **_V6_8),
}

REFERENCE = "current"
