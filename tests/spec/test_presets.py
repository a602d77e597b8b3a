"""Era presets: every decision implementation, table-driven over DecisionContext, and
the per-era behaviour they produce end to end."""
from __future__ import annotations

import pytest

from spec.decisions import DECISION_POINTS, DecisionContext as C
from spec.presets import PRESETS, REFERENCE
from spec.state import GUP_PIN_COUNTING_BIAS

from tests.spec.kernel_util import kernel, run

ERAS = ("v5.7", "v5.8", "v5.9", "v5.18", "v5.19", "v6.0", "v6.2", "v6.5", "v6.8", "current")
AE = ("v5.19", "v6.0", "v6.2", "v6.5", "v6.8", "current")     # PG_anon_exclusive
FROM_V6_2 = ("v6.2", "v6.5", "v6.8", "current")
BEFORE_V6_0 = ("v5.7", "v5.8", "v5.9", "v5.18", "v5.19")


def eras(names, outcome: str, **others) -> dict:
    """{era: outcome} for every era in `names`, plus `others` ("*" is every other era)."""
    out = {n: outcome for n in names}
    out.update({k.replace("_", "."): v for k, v in others.items() if k != "rest"})
    if "rest" in others:
        out["*"] = others["rest"]
    return out


def test_every_preset_covers_every_point_and_cites_its_sources():
    assert tuple(PRESETS) == ERAS and REFERENCE == "current"
    for rules in PRESETS.values():
        assert set(rules.decide) == set(DECISION_POINTS)
        assert rules.cites
        for point, fn in rules.decide.items():
            assert fn.__doc__ or point in ("gup.cow_break", "swap.entry_exclusive"), (rules.name, point)


@pytest.mark.parametrize("feature,names", [
    ("anon_exclusive", set(AE)),
    ("mm_has_pinned", {"v5.9", "v5.18", *AE}),
    ("reclaim_skips_pinned", {"v5.18", *AE}),
    ("clear_refs_skips_pinned", {"v5.18", *AE}),
    ("unuse_keeps_soft_dirty", set(AE)),
    ("ksm_unshare", set(FROM_V6_2)),
    ("madv_collapse", set(FROM_V6_2)),
    ("longterm_write_file_refused", {"v6.5", "v6.8", "current"}),
    ("mthp", {"v6.8", "current"}),
])
def test_era_features(feature, names):
    assert {n for n, r in PRESETS.items() if r.feature(feature)} == names


def _ask(preset: str, point: str, **fields) -> str:
    return PRESETS[preset].ask(point, C(**fields))


# (point, context fields, {preset: expected outcome}) — one row per behaviour that
# distinguishes eras; "*" is every era not listed.
TABLE = [
    # fork.anon_pte: a pinned exclusive page in an mm that has pinned
    ("fork.anon_pte", dict(anon_exclusive=True, mm_has_pinned=True, maybe_pinned=True),
     {"v5.7": "share", "v5.8": "share", "*": "copy"}),
    # ... not exclusive (v5.19+ shares; v5.9-v5.18 know no flag and copy)
    ("fork.anon_pte", dict(anon_exclusive=False, mm_has_pinned=True, maybe_pinned=True),
     {"v5.9": "copy", "v5.18": "copy", "*": "share"}),
    ("fork.anon_pte", dict(anon_exclusive=True, mm_has_pinned=False, maybe_pinned=True),
     {"*": "share"}),
    # wp.reuse: mapped once, but a GUP reference: the CVE-2020-29374 distinction
    ("wp.reuse", dict(refcount=2, mapcount=1, folio_mapcount=1),
     {"v5.7": "reuse", "v5.8": "reuse", "*": "copy"}),
    ("wp.reuse", dict(refcount=1, mapcount=1, folio_mapcount=1), {"*": "reuse"}),
    # exclusive and pinned: only the flag says "ours"
    ("wp.reuse", dict(anon_exclusive=True, refcount=1 + GUP_PIN_COUNTING_BIAS, mapcount=1),
     eras(AE, "reuse", v5_7="reuse", v5_8="reuse", rest="copy")),
    # a THP whose head is mapped once but another page twice (page_trans_huge_mapcount)
    ("wp.reuse", dict(large=True, pmd_mapped=True, refcount=3, mapcount=1, thp_mapcount=2),
     {"*": "copy"}),
    ("wp.reuse", dict(large=True, refcount=4, mapcount=1, thp_mapcount=1, folio_mapcount=4),
     {"v5.7": "reuse", "v5.8": "reuse", "*": "copy"}),
    # in the swap cache with no swap entry left (v5.18: try_to_free_swap first)
    ("wp.reuse", dict(refcount=2, mapcount=1, swapcache=True, swapcount=0),
     {"v5.9": "copy", "*": "reuse"}),
    # a KSM page mapped once: reuse_ksm_page (v5.1-v5.8) reuses it, unless it is in the
    # swap cache or has another reference; later eras always copy
    ("wp.reuse", dict(ksm=True, refcount=1, mapcount=1),
     {"v5.7": "reuse", "v5.8": "reuse", "*": "copy"}),
    ("wp.reuse", dict(ksm=True, refcount=2, mapcount=1, swapcache=True, swapcount=0),
     {"*": "copy"}),
    ("wp.reuse", dict(ksm=True, refcount=2, mapcount=2), {"*": "copy"}),
    # a PTE-mapped THP subpage mapped once, folio refcount 1: never reused from v6.7
    # (wp_can_reuse_anon_folio)
    ("wp.reuse", dict(large=True, refcount=1, mapcount=1, thp_mapcount=1),
     {"v6.8": "copy", "current": "copy", "*": "reuse"}),
    # in the swap cache, no swap entry left, but under writeback: folio_free_swap fails
    ("wp.reuse", dict(refcount=2, mapcount=1, swapcache=True, swapcount=0, writeback=True),
     {"v5.7": "reuse", "v5.8": "reuse", "*": "copy"}),
    # PMD-mapped THP with a GUP reference: mapcount-based until v5.18
    ("wp.reuse", dict(large=True, pmd_mapped=True, refcount=2, mapcount=1, thp_mapcount=1),
     {"v5.7": "reuse", "v5.8": "reuse", "v5.9": "reuse", "*": "copy"}),
    # gup.unshare
    ("gup.unshare", dict(foll_pin=True, anon=True, anon_exclusive=False),
     eras(AE, "unshare", rest="pin")),
    ("gup.unshare", dict(foll_pin=True, anon=True, anon_exclusive=True), {"*": "pin"}),
    ("gup.unshare", dict(foll_pin=True, foll_write=True, anon=True), {"*": "pin"}),
    ("gup.unshare", dict(foll_get=True, anon=True), {"*": "pin"}),
    ("gup.unshare", dict(foll_pin=True, foll_longterm=True, anon=False, zero_page=True),
     eras(FROM_V6_2, "unshare", rest="pin")),
    # a page-cache page of a private mapping, R/O longterm: the v6.2 fix too
    ("gup.unshare", dict(foll_pin=True, foll_longterm=True, anon=False),
     eras(FROM_V6_2, "unshare", rest="pin")),
    ("gup.unshare", dict(foll_pin=True, foll_longterm=True, anon=False, cow_mapping=False),
     {"*": "pin"}),
    ("gup.unshare", dict(foll_pin=True, foll_longterm=False, anon=False, zero_page=True),
     {"*": "pin"}),
    # gup.cow_break
    ("gup.cow_break", dict(foll_get=True), {"v5.8": "break", "*": "no_break"}),
    ("gup.cow_break", dict(foll_pin=True), {"v5.8": "break", "*": "no_break"}),
    ("gup.cow_break", dict(foll_get=True, cow_mapping=False), {"*": "no_break"}),
    # rmap.try_share
    ("rmap.try_share", dict(maybe_pinned=True), eras(AE, "refuse", rest="share")),
    ("rmap.try_share", dict(maybe_pinned=False), {"*": "share"}),
    # swap.entry_exclusive
    ("swap.entry_exclusive", dict(anon_exclusive=True), eras(AE, "exclusive", rest="plain")),
    ("swap.entry_exclusive", dict(anon_exclusive=False), {"*": "plain"}),
    # swap.in_exclusive: a read fault on an exclusive swap entry
    ("swap.in_exclusive", dict(swp_exclusive=True, refcount=3, swapcache=True, swapcount=1,
                               mapcount=0),
     eras(AE, "exclusive", rest="shared")),
    # a write fault by the only user, the cache freed (refcount: the fault's own)
    ("swap.in_exclusive", dict(fault_write=True, refcount=1, swapcount=1, mapcount=0),
     {"*": "exclusive"}),
    # a write fault while pinned: reuse_swap_page ignores the pin (<= v5.17)
    ("swap.in_exclusive", dict(fault_write=True, refcount=2 + GUP_PIN_COUNTING_BIAS,
                               swapcache=True, swapcount=1, mapcount=0),
     {"v5.7": "exclusive", "v5.8": "exclusive", "v5.9": "exclusive", "*": "shared"}),
    # migrate.entry
    ("migrate.entry", dict(pte_write=True, anon_exclusive=True), {"*": "write"}),
    ("migrate.entry", dict(anon_exclusive=True), eras(AE, "read_exclusive", rest="read")),
    ("migrate.entry", dict(), {"*": "read"}),
    # thp.split
    ("thp.split", dict(anon_exclusive=True, pmd_mapped=True), {"*": "propagate"}),
    # mprotect.writable: private anon (v6.0: dirty PTEs only; v6.2: clean too, and PMDs)
    ("mprotect.writable", dict(anon_exclusive=True), eras(FROM_V6_2, "writable", rest="readonly")),
    ("mprotect.writable", dict(anon_exclusive=True, pte_dirty=True),
     eras(FROM_V6_2, "writable", v6_0="writable", rest="readonly")),
    ("mprotect.writable", dict(anon_exclusive=True, pte_dirty=True, pmd_mapped=True, large=True),
     eras(FROM_V6_2, "writable", rest="readonly")),
    ("mprotect.writable", dict(anon_exclusive=False), {"*": "readonly"}),
    ("mprotect.writable", dict(anon_exclusive=True, vm_write=False), {"*": "readonly"}),
    ("mprotect.writable", dict(anon=False, pte_dirty=True), {"*": "readonly"}),
    # ... soft-dirty tracking on, the PTE not soft-dirty: the fault is wanted
    ("mprotect.writable", dict(anon_exclusive=True, pte_dirty=True, vm_softdirty=False),
     {"*": "readonly"}),
    ("mprotect.writable", dict(anon_exclusive=True, pte_dirty=True, vm_softdirty=False,
                               pte_soft_dirty=True), eras(FROM_V6_2, "writable", v6_0="writable",
                                                          rest="readonly")),
    # shared mappings that want write-notify: a dirty PTE; the soft-dirty polarity bug of
    # 64e455079e1b (v3.18) up to v6.0 (76aefad628aa)
    # (before v6.0 a dirty PTE without the soft-dirty bit stays R/O even with tracking off)
    ("mprotect.writable", dict(cow_mapping=False, writenotify=True, pte_dirty=True),
     eras(BEFORE_V6_0, "readonly", rest="writable")),
    ("mprotect.writable", dict(cow_mapping=False, writenotify=True, pte_dirty=True,
                               vm_softdirty=False), eras(BEFORE_V6_0, "writable", rest="readonly")),
    ("mprotect.writable", dict(cow_mapping=False, writenotify=True, pte_dirty=True,
                               pte_soft_dirty=True, vm_softdirty=False), {"*": "writable"}),
    ("mprotect.writable", dict(cow_mapping=False, writenotify=True), {"*": "readonly"}),
    # ... and ones that do not: vm_page_prot is writable
    ("mprotect.writable", dict(cow_mapping=False, writenotify=False), {"*": "writable"}),
    # gup.fast: a R/O pin of a R/O-mapped anon page that is not exclusive
    ("gup.fast", dict(foll_pin=True, anon=True), eras(AE, "fallback", v5_8="fallback", rest="pin")),
    ("gup.fast", dict(foll_pin=True, anon=True, pte_write=True), {"*": "pin"}),
    ("gup.fast", dict(foll_get=True, anon=True), {"v5.8": "fallback", "*": "pin"}),
    ("gup.fast", dict(foll_pin=True, anon=True, anon_exclusive=True),
     {"v5.8": "fallback", "*": "pin"}),
    # ... a R/O longterm pin of a page-cache page (no VMA to tell a COW mapping)
    ("gup.fast", dict(foll_pin=True, foll_longterm=True, anon=False),
     eras(FROM_V6_2, "fallback", v5_8="fallback", rest="pin")),
    # ... a R/W longterm pin of a file page that needs dirty tracking (v6.5)
    ("gup.fast", dict(foll_pin=True, foll_longterm=True, foll_write=True, anon=False,
                      pte_write=True), eras(("v6.5", "v6.8", "current"), "fallback", rest="pin")),
    ("gup.fast", dict(foll_pin=True, foll_longterm=True, foll_write=True, anon=False, shmem=True,
                      pte_write=True), {"*": "pin"}),
    # gup.follow_write (can_follow_write_pte)
    ("gup.follow_write", dict(pte_write=True), {"*": "follow"}),
    ("gup.follow_write", dict(anon_exclusive=True, pte_dirty=True, vm_write=False), {"*": "fault"}),
    # FOLL_FORCE after this call broke COW: the dirty exclusive copy is followed everywhere
    ("gup.follow_write", dict(foll_force=True, foll_cow=True, pte_dirty=True, anon_exclusive=True,
                              vm_write=False), {"*": "follow"}),
    # ... a dirty page-cache page with FOLL_COW: CVE-2022-2590's case, closed in v6.0
    ("gup.follow_write", dict(foll_force=True, foll_cow=True, pte_dirty=True, anon=False,
                              vm_write=False), eras(BEFORE_V6_0, "follow", rest="fault")),
    # ... an exclusive anon page, clean, before any fault in this call
    ("gup.follow_write", dict(foll_force=True, anon_exclusive=True, vm_write=False),
     eras(BEFORE_V6_0, "fault", rest="follow")),
    ("gup.follow_write", dict(foll_force=True, anon_exclusive=True, vm_write=False,
                              vm_softdirty=False), {"*": "fault"}),
    ("gup.follow_write", dict(foll_force=True, anon_exclusive=True, vm_write=True), {"*": "fault"}),
    ("gup.follow_write", dict(foll_force=True, anon_exclusive=True, vm_write=False,
                              cow_mapping=False), {"*": "fault"}),
    # wp.pagecache
    ("wp.pagecache", dict(anon=False), {"*": "copy"}),
    ("wp.pagecache", dict(anon=False, cow_mapping=False), {"*": "share"}),
    # hugetlb.reuse: page_mapcount == 1 && anon, pins or not
    ("hugetlb.reuse", dict(hugetlb=True, large=True, mapcount=1, refcount=2), {"*": "reuse"}),
    ("hugetlb.reuse", dict(hugetlb=True, large=True, mapcount=2, refcount=2), {"*": "copy"}),
    ("hugetlb.reuse", dict(hugetlb=True, large=True, anon=False, mapcount=1), {"*": "copy"}),
    # hugetlb.fork: early COW of a pinned page from v5.12 (the v5.18 preset)
    ("hugetlb.fork", dict(hugetlb=True, anon_exclusive=True, mm_has_pinned=True, maybe_pinned=True),
     {"v5.7": "share", "v5.8": "share", "v5.9": "share", "*": "copy"}),
    ("hugetlb.fork", dict(hugetlb=True, mm_has_pinned=True, maybe_pinned=True),
     {"v5.18": "copy", "*": "share"}),
    ("hugetlb.fork", dict(hugetlb=True, anon_exclusive=True), {"*": "share"}),
    # swap.unuse
    ("swap.unuse", dict(swp_exclusive=True), eras(AE, "exclusive", rest="shared")),
    ("swap.unuse", dict(swp_exclusive=False), {"*": "shared"}),
    # mremap.soft_dirty
    ("mremap.soft_dirty", dict(), {"*": "mark"}),
    # pinned.maybe
    ("pinned.maybe", dict(refcount=GUP_PIN_COUNTING_BIAS), {"*": "pinned"}),
    ("pinned.maybe", dict(refcount=GUP_PIN_COUNTING_BIAS - 1), {"*": "not_pinned"}),
    ("pinned.maybe", dict(large=True, refcount=2000, pincount=0), {"*": "not_pinned"}),
    ("pinned.maybe", dict(large=True, refcount=2, pincount=1), {"*": "pinned"}),
]


@pytest.mark.parametrize("point,fields,expected", TABLE,
                         ids=[f"{p}-{i}" for i, (p, _, _) in enumerate(TABLE)])
def test_decision_implementations(point, fields, expected):
    for era in ERAS:
        want = expected.get(era, expected.get("*"))
        assert _ask(era, point, **fields) == want, era


STEPS_LONGTERM_RO_PIN_NEVER_WRITTEN = (
    ("mmap", dict(mm=0, vpn=0, npages=1)),
    ("pin", dict(mm=0, vpn=0, write=False, longterm=True, id="p")),
    ("write", dict(mm=0, vpn=0, value=3)),
    ("dma_read", dict(id="p")),
)


@pytest.mark.parametrize("era", ERAS)
def test_longterm_ro_pin_of_never_written_memory_is_reliable_from_v6_2(era):
    """v6.2 unshares the zero page for R/O longterm pins; v5.8 broke COW on every GUP."""
    k = kernel(era)
    reliable = era in FROM_V6_2 or era == "v5.8"
    assert run(k, *STEPS_LONGTERM_RO_PIN_NEVER_WRITTEN)[-1].value == (3 if reliable else 0)


RW_PIN_FORK_DEVICE_WRITE = (
    ("mmap", dict(mm=0, vpn=0, npages=1)),
    ("pin", dict(mm=0, vpn=0, write=True, longterm=True, id="p")),
    ("fork", dict(mm=0, child=1)),
    ("dma_write", dict(id="p", value=9)),
    ("read", dict(mm=1, vpn=0)),
    ("write", dict(mm=0, vpn=0, value=4)),
    ("dma_read", dict(id="p")),
)


@pytest.mark.parametrize("era,child_sees,pin_sees", [
    ("v5.7", 9, 9), ("v5.8", 9, 9), ("v5.9", 0, 4), ("v5.18", 0, 4), ("v5.19", 0, 4),
    ("current", 0, 4)])
def test_rw_pin_then_fork_early_cow_since_v5_9(era, child_sees, pin_sees):
    """Before v5.9 the pinned page is shared with the child: the device's write shows in
    the child (isolation) and the parent's next write COWs away from the pin."""
    k = kernel(era)
    res = run(k, *RW_PIN_FORK_DEVICE_WRITE)
    assert (res[4].value, res[6].value) == (child_sees, pin_sees)


def test_a_later_valuation_reaches_decisions_extracted_before_it():
    """A replayed trace's "free" valuation (spec.run.rules_for) applies to the extracted
    decisions of the overlay it is laid on, and to those they fall back to."""
    from spec import expr as E
    from spec.decisions import DecisionContext, ExtractedDecision, GuardedOutcome
    from spec.run import rules_for
    from spec.trace import parse_trace

    inner = PRESETS["current"].with_overlay(
        (ExtractedDecision("wp.reuse", (GuardedOutcome(E.Free("y"), "reuse"),)),), free={"y": False})
    outer = inner.with_overlay(
        (ExtractedDecision("wp.reuse", (GuardedOutcome(E.Free("x"), "copy"),)),), free={"x": False},
        name="patched")
    ctx = DecisionContext(anon=True, ksm=True)      # current alone: a KSM page is copied
    assert outer.ask("wp.reuse", ctx) == "copy"
    trace = parse_trace({"ruleset": "current", "steps": [], "free": {"x": False, "y": True}})
    assert rules_for(trace, "patched", presets={"patched": outer}).ask("wp.reuse", ctx) == "reuse"
    trace = parse_trace({"ruleset": "current", "steps": [], "free": {"x": True, "y": True}})
    assert rules_for(trace, "patched", presets={"patched": outer}).ask("wp.reuse", ctx) == "copy"


def test_unkept_fields_follow_the_era_features():
    assert PRESETS["v5.7"].unkept_fields() == {"anon_exclusive", "mm_has_pinned"}
    assert PRESETS["v5.18"].unkept_fields() == {"anon_exclusive"}
    assert PRESETS["current"].unkept_fields() == set()
