"""Decision points: the places where kernel versions (and patches) differ.

An operation of the spec that reaches a decision point builds a DecisionContext (what
the kernel function can see at that moment) and asks the active RuleSet, which answers
with one of the point's outcomes. Presets (spec/presets.py) give a Python reference
implementation per point and kernel era; extracted rules (review/extract) give guarded
outcomes over the same context fields, as expression trees (spec/expr.py).

Context fields are named after what they paraphrase in the kernel; review/extract/vocab.py maps
kernel identifiers (page_* and folio_* forms) onto them. A field a decision point does
not use keeps its default.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Callable, Mapping

from spec import expr as E


@dataclass(slots=True)
class DecisionContext:
    # --- the (sub)page and its folio
    anon: bool = True            # PageAnon / folio_test_anon
    ksm: bool = False            # PageKsm / folio_test_ksm
    anon_exclusive: bool = False  # PageAnonExclusive(subpage) (head page when PMD-mapped)
    large: bool = False          # folio_test_large / PageCompound (a THP in the model)
    head: bool = False           # PageHead(page): the page decided about is a large folio's
                                 # head (a PMD mapping's page; a hugetlb folio's flags live there)
    pmd_mapped: bool = False     # the entry is a PMD mapping the whole THP
    refcount: int = 0            # page_count / folio_ref_count (FOLL_PIN adds the bias on small folios)
    mapcount: int = 0            # page_mapcount(subpage) (PMD mapping counts once per subpage)
    folio_mapcount: int = 0      # folio_mapcount: mappings of any page of the folio
    thp_mapcount: int = 0        # page_trans_huge_mapcount: largest page_mapcount over the folio's pages
    pincount: int = 0            # folio->_pincount (exact; large folios only in the kernel)
    maybe_pinned: bool = False   # page_maybe_dma_pinned / folio_maybe_dma_pinned (pinned.maybe)
    swapcache: bool = False      # PageSwapCache / folio_test_swapcache
    swapcount: int = 0           # swap references to the folio's slot (page_swapcount)
    zero_page: bool = False      # is_zero_pfn(pte_pfn(pte)): the shared zero page is mapped
    lru: bool = True             # PageLRU (the model drains LRU caches: always true)
    writeback: bool = False      # PageWriteback (set by the writeback op until the folio is
                                 # reclaimed or swapoff waits for it)
    hugetlb: bool = False        # folio_test_hugetlb / is_vm_hugetlb_page
    shmem: bool = False          # shmem_mapping(folio->mapping): a tmpfs/shmem page-cache folio
    # --- the page-table entry
    pte_write: bool = False      # pte_write / pmd_write
    pte_dirty: bool = False      # pte_dirty / pmd_dirty
    pte_soft_dirty: bool = False  # pte_soft_dirty / pmd_soft_dirty
    swp_exclusive: bool = False  # pte_swp_exclusive(orig_pte): exclusive bit of a swap PTE
    # --- the VMA and mm
    vm_write: bool = True        # vma->vm_flags & VM_WRITE
    cow_mapping: bool = True     # is_cow_mapping(vm_flags): private and may write (the
                                 # model's private mappings may always write: VM_MAYWRITE)
    vm_softdirty: bool = True    # vma->vm_flags & VM_SOFTDIRTY: set on a new VMA, cleared by
                                 # clear_refs; tracking is on when clear (vma_soft_dirty_enabled)
    writenotify: bool = False    # vma_wants_writenotify(): a shared writable mapping whose PTEs
                                 # start R/O (a file with writeback, or soft-dirty tracking)
    mm_has_pinned: bool = False  # test_bit(MMF_HAS_PINNED) (was mm->has_pinned)
    # --- the request
    foll_pin: bool = False       # gup flags & FOLL_PIN
    foll_get: bool = False       # gup flags & FOLL_GET
    foll_write: bool = False     # gup flags & FOLL_WRITE
    foll_longterm: bool = False  # gup flags & FOLL_LONGTERM
    foll_force: bool = False     # gup flags & FOLL_FORCE (ptrace, /proc/pid/mem)
    foll_cow: bool = False       # FOLL_COW (v4.9-v5.19): this GUP call already broke COW
    fault_write: bool = False    # vmf->flags & FAULT_FLAG_WRITE
    fault_unshare: bool = False  # vmf->flags & FAULT_FLAG_UNSHARE
    from_swapcache: bool = True  # swap-in: page == swapcache (false: a fresh copy, "certainly exclusive")
    reason: str = ""             # rmap.try_share / migrate: "swap", "ksm", "migrate", "thp_freeze"


CONTEXT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(DecisionContext))
# Context fields only one design's state keeps: under a rule set without its feature
# they stay at their default (PageAnonExclusive before v5.19, 6c287605fd56;
# MMF_HAS_PINNED before v5.9, 008cfe4418b3), so a rule that waits for one of them to
# change waits for ever there.
FIELD_FEATURE = {"anon_exclusive": "anon_exclusive", "mm_has_pinned": "mm_has_pinned"}
INT_FIELDS = frozenset({"refcount", "mapcount", "folio_mapcount", "thp_mapcount", "pincount",
                        "swapcount"})


@dataclass(frozen=True)
class DecisionPoint:
    id: str
    outcomes: tuple[str, ...]
    asked_by: str
    kernel: str  # the kernel functions that implement it (all eras; see presets for which)


DECISION_POINTS: dict[str, DecisionPoint] = {
    p.id: p
    for p in (
        DecisionPoint(
            "fork.anon_pte", ("share", "copy"),
            "fork, per present anon PTE/PMD in a COW mapping",
            "copy_one_pte, copy_present_pte, copy_present_page, page_try_dup_anon_rmap, "
            "folio_try_dup_anon_rmap_pte(s)/_pmd, copy_huge_pmd",
        ),
        DecisionPoint(
            "wp.reuse", ("reuse", "copy"),
            "write (or unshare) fault on a R/O-mapped anon page",
            "do_wp_page, wp_can_reuse_anon_folio, do_huge_pmd_wp_page, reuse_swap_page",
        ),
        DecisionPoint(
            "gup.unshare", ("pin", "unshare"),
            "R/O GUP (FOLL_PIN, and FOLL_GET where a version did) on a R/O mapped page",
            "gup_must_unshare, follow_page_pte, can_follow_write_pte",
        ),
        DecisionPoint(
            "gup.cow_break", ("break", "no_break"),
            "any GUP on a COW mapping (v5.8 forced COW break)",
            "should_force_cow_break (v5.8 only)",
        ),
        DecisionPoint(
            "rmap.try_share", ("share", "refuse"),
            "swap-out, KSM merge, THP freeze, migration of an exclusive page",
            "page_try_share_anon_rmap, folio_try_share_anon_rmap_pte/_pmd, try_to_unmap_one, "
            "try_to_migrate_one, write_protect_page",
        ),
        DecisionPoint(
            "swap.entry_exclusive", ("exclusive", "plain"),
            "swap-out: what the swap PTE remembers",
            "try_to_unmap_one (pte_swp_mkexclusive)",
        ),
        DecisionPoint(
            "swap.in_exclusive", ("exclusive", "shared"),
            "swap-in fault: map the page exclusive (writable on a write fault) or shared R/O",
            "do_swap_page, reuse_swap_page",
        ),
        DecisionPoint(
            "migrate.entry", ("write", "read_exclusive", "read"),
            "migration: the migration entry type (restore derives exclusivity from it)",
            "try_to_migrate_one, set_pmd_migration_entry, remove_migration_pte",
        ),
        DecisionPoint(
            "thp.split", ("propagate", "drop"),
            "PMD split of an anon THP: the head's exclusive flag to every subpage or not",
            "__split_huge_pmd_locked",
        ),
        DecisionPoint(
            "mprotect.writable", ("writable", "readonly"),
            "mprotect(PROT_WRITE) on a present R/O entry: map it writable at once (private "
            "anon from v6.0; shared mappings that want write-notify, when dirty) or leave it "
            "to the write fault",
            "can_change_pte_writable, can_change_pmd_writable, change_pte_range "
            "(MM_CP_DIRTY_ACCT before v6.0), vma_wants_writenotify, vma_soft_dirty_enabled",
        ),
        DecisionPoint(
            "pinned.maybe", ("pinned", "not_pinned"),
            "page_maybe_dma_pinned: exact pincount, or the refcount-bias false positive",
            "page_maybe_dma_pinned, folio_maybe_dma_pinned",
        ),
        DecisionPoint(
            "gup.fast", ("pin", "fallback"),
            "GUP-fast on a present entry that allows the access: take the page without the "
            "VMA, or back off to the slow path",
            "gup_pte_range, gup_huge_pmd (<= v6.9), gup_fast_pte_range, gup_fast_pmd_leaf "
            "(v6.10+), gup_must_unshare(vma == NULL), folio_fast_pin_allowed, "
            "gup_fast_folio_allowed",
        ),
        DecisionPoint(
            "gup.follow_write", ("follow", "fault"),
            "a FOLL_WRITE lookup of a R/O entry: write to the page mapped, or fault first "
            "(FOLL_FORCE writes into R/O private mappings)",
            "can_follow_write_pte, can_follow_write_pmd; FOLL_COW (v4.9-v5.19)",
        ),
        DecisionPoint(
            "wp.pagecache", ("copy", "share"),
            "write (or unshare) fault on a R/O page-cache page: COW it into an anon page "
            "(private mapping) or make the shared mapping writable",
            "do_wp_page (non-anon page), wp_page_copy, wp_page_shared",
        ),
        DecisionPoint(
            "hugetlb.reuse", ("reuse", "copy"),
            "write (or unshare) fault on a R/O hugetlb entry of a private mapping",
            "hugetlb_wp (hugetlb_cow before v6.0)",
        ),
        DecisionPoint(
            "hugetlb.fork", ("share", "copy", "share_writable"),
            "fork, per present hugetlb entry of a private mapping: share both entries R/O, "
            "copy early (pinned), or install the source entry as read, write bit and all",
            "copy_hugetlb_page_range, hugetlb_install_folio, page_try_dup_anon_rmap",
        ),
        DecisionPoint(
            "swap.unuse", ("exclusive", "shared"),
            "swapoff: map a swapped-out page back exclusive or not",
            "unuse_pte",
        ),
        DecisionPoint(
            "mremap.soft_dirty", ("mark", "keep"),
            "mremap: mark every moved entry soft-dirty or keep its bit",
            "move_ptes, move_soft_dirty_pte, move_huge_pmd, move_soft_dirty_pmd",
        ),
    )
}


@dataclass(frozen=True)
class Provenance:
    """Where an extracted rule comes from: file, function, line in the image, hunk."""
    file: str
    function: str
    line: int
    image: str = "post"  # "pre" or "post"
    hunk: str = ""
    text: str = ""       # the C source of the condition, for reports


@dataclass(frozen=True)
class GuardedOutcome:
    guard: E.Expr
    outcome: str
    provenance: Provenance | None = None


@dataclass(frozen=True)
class ExtractedDecision:
    """A decision implementation taken from C: the first guard that holds picks the
    outcome; when none holds, `default` (or, if None, the base rule set) decides."""
    point: str
    cases: tuple[GuardedOutcome, ...]
    default: str | None = None

    def __post_init__(self) -> None:
        outcomes = DECISION_POINTS[self.point].outcomes
        for o in [c.outcome for c in self.cases] + ([self.default] if self.default else []):
            if o not in outcomes:
                raise ValueError(f"{self.point}: unknown outcome {o!r} (expected one of {outcomes})")


@dataclass(frozen=True)
class AssertionRule:
    """A VM_BUG_ON/WARN_ON condition bound to a spec primitive: `condition` true means
    the kernel would warn or BUG when it runs that primitive."""
    primitive: str
    condition: E.Expr
    macro: str = "VM_BUG_ON"
    provenance: Provenance | None = None


# Spec primitives that assertion rules may bind to (kernel function names in comments).
PRIMITIVES = (
    "set_anon_exclusive",      # SetPageAnonExclusive / folio forms
    "clear_anon_exclusive",    # ClearPageAnonExclusive
    "add_new_anon_rmap",       # page_add_new_anon_rmap / folio_add_new_anon_rmap
    "add_anon_rmap",           # page_add_anon_rmap / folio_add_anon_rmap_pte(s)/_pmd
    "remove_rmap",             # page_remove_rmap / folio_remove_rmap_pte(s)/_pmd
    "try_dup_anon_rmap",       # page_try_dup_anon_rmap / folio_try_dup_anon_rmap_*
    "try_share_anon_rmap",     # page_try_share_anon_rmap / folio_try_share_anon_rmap_*
    "move_anon_rmap",          # page_move_anon_rmap / folio_move_anon_rmap
    "pin_page",                # try_grab_page(FOLL_PIN) / try_grab_folio
    "unpin_page",              # unpin_user_page / gup_put_folio
    "free_folio",              # free_pages_prepare / __folio_put
)

Decide = Callable[[DecisionContext], str]


@dataclass(frozen=True)
class RuleSet:
    """Every decision point mapped to an implementation, plus era-level features that
    are not decisions (documented per preset), extracted assertions, and the valuation
    of free atoms used by extracted guards."""
    name: str
    decide: Mapping[str, Decide]
    features: Mapping[str, object] = field(default_factory=dict)
    assertions: Mapping[str, tuple[AssertionRule, ...]] = field(default_factory=dict)
    free: Mapping[str, bool] = field(default_factory=dict)
    cites: str = ""
    # the first kernel release this rule set models, "v5.10" (presets; spec/presets.py)
    first_release: str = ""

    def ask(self, point: str, ctx: DecisionContext) -> str:
        return self.decide[point](ctx)

    def unkept_fields(self) -> set[str]:
        """The context fields of FIELD_FEATURE this rule set's state does not keep."""
        return {f for f, feature in FIELD_FEATURE.items() if not self.feature(feature)}

    def feature(self, name: str, default: object = False) -> object:
        return self.features.get(name, default)

    def with_overlay(
        self,
        decisions: tuple[ExtractedDecision, ...] = (),
        assertions: tuple[AssertionRule, ...] = (),
        free: Mapping[str, bool] | None = None,
        name: str | None = None,
    ) -> "RuleSet":
        """This rule set with extracted decisions replacing (or refining) its own and
        extracted assertions added at their primitives."""
        valuation = dict(self.free)
        valuation.update(free or {})
        # decisions extracted earlier read the valuation they were built with: a new
        # valuation (a replayed trace's "free") must reach them too
        decide = {p: _revalued(fn, valuation) for p, fn in self.decide.items()} if free \
            else dict(self.decide)
        for d in decisions:
            decide[d.point] = _extracted(d, self.decide[d.point], valuation)
        merged: dict[str, tuple[AssertionRule, ...]] = dict(self.assertions)
        for a in assertions:
            if a.primitive not in PRIMITIVES:
                raise ValueError(f"unknown primitive {a.primitive!r}")
            merged[a.primitive] = merged.get(a.primitive, ()) + (a,)
        return replace(self, name=name or f"{self.name}+patch", decide=decide,
                       assertions=merged, free=valuation)

    def failed_assertions(self, primitive: str, ctx: DecisionContext) -> list[AssertionRule]:
        """The extracted assertions at `primitive` whose condition holds in `ctx`."""
        rules = self.assertions.get(primitive)
        if not rules:
            return []
        return [a for a in rules if E.evaluate(a.condition, ctx, self.free)]


def _extracted(d: ExtractedDecision, base: Decide, valuation: Mapping[str, bool]) -> Decide:
    cases = d.cases
    default = d.default

    def decide(ctx: DecisionContext) -> str:
        for c in cases:
            if E.evaluate(c.guard, ctx, valuation):
                return c.outcome
        return default if default is not None else base(ctx)

    decide.__name__ = f"extracted_{d.point.replace('.', '_')}"
    decide.extracted = (d, base)   # what _revalued rebuilds it from
    return decide


def _revalued(fn: Decide, valuation: Mapping[str, bool]) -> Decide:
    """`fn` as it decides under `valuation`: an extracted decision (and the extracted
    ones it falls back to) rebuilt; a preset's decision as it is."""
    made = getattr(fn, "extracted", None)
    if made is None:
        return fn
    d, base = made
    return _extracted(d, _revalued(base, valuation), valuation)
