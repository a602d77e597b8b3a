"""Era presets: every decision implementation, table-driven over DecisionContext, and
the per-era behaviour they produce end to end."""
from __future__ import annotations

import pytest

from spec.decisions import DECISION_POINTS, DecisionContext as C
from spec.presets import PRESETS, REFERENCE
from spec.state import GUP_PIN_COUNTING_BIAS

from tests.spec.kernel_util import kernel, run

ERAS = ("v5.7", "v5.8", "v5.9", "v5.18", "v5.19", "current")


def test_every_preset_covers_every_point_and_cites_its_sources():
    assert tuple(PRESETS) == ERAS and REFERENCE == "current"
    for rules in PRESETS.values():
        assert set(rules.decide) == set(DECISION_POINTS)
        assert rules.cites
        for point, fn in rules.decide.items():
            assert fn.__doc__ or point in ("gup.cow_break", "swap.entry_exclusive"), (rules.name, point)


@pytest.mark.parametrize("feature,eras", [
    ("anon_exclusive", {"v5.19", "current"}),
    ("mm_has_pinned", {"v5.9", "v5.18", "v5.19", "current"}),
    ("reclaim_skips_pinned", {"v5.18", "v5.19", "current"}),
    ("ksm_unshare", {"current"}),
    ("madv_collapse", {"current"}),
])
def test_era_features(feature, eras):
    assert {n for n, r in PRESETS.items() if r.feature(feature)} == eras


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
     {"v5.7": "reuse", "v5.8": "reuse", "v5.19": "reuse", "current": "reuse", "*": "copy"}),
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
    # a PTE-mapped THP subpage mapped once, folio refcount 1: never reused by current
    ("wp.reuse", dict(large=True, refcount=1, mapcount=1, thp_mapcount=1),
     {"current": "copy", "*": "reuse"}),
    # PMD-mapped THP with a GUP reference: mapcount-based until v5.18
    ("wp.reuse", dict(large=True, pmd_mapped=True, refcount=2, mapcount=1, thp_mapcount=1),
     {"v5.7": "reuse", "v5.8": "reuse", "v5.9": "reuse", "*": "copy"}),
    # gup.unshare
    ("gup.unshare", dict(foll_pin=True, anon=True, anon_exclusive=False),
     {"v5.19": "unshare", "current": "unshare", "*": "pin"}),
    ("gup.unshare", dict(foll_pin=True, anon=True, anon_exclusive=True), {"*": "pin"}),
    ("gup.unshare", dict(foll_pin=True, foll_write=True, anon=True), {"*": "pin"}),
    ("gup.unshare", dict(foll_get=True, anon=True), {"*": "pin"}),
    ("gup.unshare", dict(foll_pin=True, foll_longterm=True, anon=False, zero_page=True),
     {"current": "unshare", "*": "pin"}),
    ("gup.unshare", dict(foll_pin=True, foll_longterm=False, anon=False, zero_page=True),
     {"*": "pin"}),
    # gup.cow_break
    ("gup.cow_break", dict(foll_get=True), {"v5.8": "break", "*": "no_break"}),
    ("gup.cow_break", dict(foll_pin=True), {"v5.8": "break", "*": "no_break"}),
    ("gup.cow_break", dict(foll_get=True, cow_mapping=False), {"*": "no_break"}),
    # rmap.try_share
    ("rmap.try_share", dict(maybe_pinned=True), {"v5.19": "refuse", "current": "refuse",
                                                 "*": "share"}),
    ("rmap.try_share", dict(maybe_pinned=False), {"*": "share"}),
    # swap.entry_exclusive
    ("swap.entry_exclusive", dict(anon_exclusive=True),
     {"v5.19": "exclusive", "current": "exclusive", "*": "plain"}),
    ("swap.entry_exclusive", dict(anon_exclusive=False), {"*": "plain"}),
    # swap.in_exclusive: a read fault on an exclusive swap entry
    ("swap.in_exclusive", dict(swp_exclusive=True, refcount=3, swapcache=True, swapcount=1,
                               mapcount=0),
     {"v5.19": "exclusive", "current": "exclusive", "*": "shared"}),
    # a write fault by the only user, the cache freed (refcount: the fault's own)
    ("swap.in_exclusive", dict(fault_write=True, refcount=1, swapcount=1, mapcount=0),
     {"*": "exclusive"}),
    # a write fault while pinned: reuse_swap_page ignores the pin (<= v5.17)
    ("swap.in_exclusive", dict(fault_write=True, refcount=2 + GUP_PIN_COUNTING_BIAS,
                               swapcache=True, swapcount=1, mapcount=0),
     {"v5.7": "exclusive", "v5.8": "exclusive", "v5.9": "exclusive", "*": "shared"}),
    # migrate.entry
    ("migrate.entry", dict(pte_write=True, anon_exclusive=True), {"*": "write"}),
    ("migrate.entry", dict(anon_exclusive=True),
     {"v5.19": "read_exclusive", "current": "read_exclusive", "*": "read"}),
    ("migrate.entry", dict(), {"*": "read"}),
    # thp.split
    ("thp.split", dict(anon_exclusive=True, pmd_mapped=True), {"*": "propagate"}),
    # mprotect.writable
    ("mprotect.writable", dict(anon_exclusive=True), {"current": "writable", "*": "readonly"}),
    ("mprotect.writable", dict(anon_exclusive=False), {"*": "readonly"}),
    ("mprotect.writable", dict(anon_exclusive=True, vm_write=False), {"*": "readonly"}),
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
def test_longterm_ro_pin_of_never_written_memory_is_reliable_only_in_current(era):
    """v6.2 unshares the zero page for R/O longterm pins; v5.8 broke COW on every GUP."""
    k = kernel(era)
    reliable = era in ("current", "v5.8")
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
