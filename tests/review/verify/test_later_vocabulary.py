"""mmreview verify and the later vocabulary (poke, clear_softdirty, softdirty, mremap,
swapoff, writeback, pte, pfn; GUP-fast and FOLL_FORCE flavours; files, shmem and
hugetlb through a start trace): the alphabet, the canonical key, the footprints, and
the soft-dirty bug found on v5.19 and not on v6.0."""
from __future__ import annotations

import pytest

from spec.presets import PRESETS
from spec.state import SWAP

from review.verify import canon, por
from review.verify.model import ALL_OPS, DEFAULT_OPS, LATER_OPS, Bounds, SpecModel
from review.verify.por import Footprints
from review.verify.por_check import LATER, check_independence, check_writes
from review.verify.search import audit, verify
from tests.review.verify.verify_util import session_after

SHARED_FILE = ({"op": "mmap", "mm": 0, "vpn": 0, "npages": 1, "backing": "file",
                "shared": True},)
FILES = SHARED_FILE + ({"op": "mmap", "mm": 0, "vpn": 1, "npages": 1, "backing": "file"},)
LATER_BOUNDS = dict(pages=2, pins=1, ops=LATER,
                    pin_kinds=("ro", "rw-longterm", "ro-fast", "rw-force"),
                    get_kinds=("get", "get-rw"))


def test_the_later_ops_are_in_the_alphabet_when_asked_for_only():
    assert set(LATER_OPS) <= set(ALL_OPS) and not set(LATER_OPS) & set(DEFAULT_OPS)
    m = SpecModel(PRESETS["current"], Bounds(depth=1, **LATER_BOUNDS))
    state, _, _ = m.initial()
    steps = [obj for _s, obj, _a in m.enabled(state)]
    assert {o["op"] for o in steps} >= set(LATER_OPS)
    assert {"op": "mremap", "mm": 0, "vpn": 0, "npages": 1, "new_vpn": 1} in steps
    assert {"op": "swapoff"} in steps
    pins = [o for o in steps if o["op"] in ("pin", "get") and o["vpn"] == 0]
    assert {"op": "pin", "mm": 0, "vpn": 0, "write": False, "longterm": False, "id": "r0",
            "fast": True} in pins
    assert {"op": "get", "mm": 0, "vpn": 0, "id": "r0", "write": True} in pins
    default = SpecModel(PRESETS["current"], Bounds(depth=1, pages=2))
    state, _, _ = default.initial()
    assert not {o["op"] for _s, o, _a in default.enabled(state)} & set(LATER_OPS)


def test_a_rw_get_may_write_through_in_the_alphabet():
    m = SpecModel(PRESETS["current"], Bounds(depth=1, **LATER_BOUNDS))
    state, _, _ = m.initial()
    after = next(child for obj, _st, child, _v in m.transitions(state)
                 if obj["op"] == "get" and obj.get("write"))
    assert any(o["op"] == "dma_write" for _s, o, _a in m.enabled(after))


def test_the_key_covers_the_new_state():
    m, a = session_after({"op": "write", "mm": 0, "vpn": 0, "value": 1},
                         {"op": "swapout", "mm": 0, "vpn": 0})
    drv = (1, (0,), (), 2)
    assert a.kernel.state.mms[0].ptes[0].kind == SWAP
    for mutate in (
        lambda s: setattr(s.kernel.state.mms[0].ptes[0], "soft_dirty", False),
        lambda s: setattr(s.kernel.state, "zero_data", (7, 0)),
        lambda s: s.kernel.state.mms[0].files.__setitem__(1, (1, 1)),
        lambda s: setattr(s.contract.procs[0], "sd_tracking", True),
        lambda s: s.contract.procs[0].readonly.add(1),
    ):
        b = a.clone()
        mutate(b)
        assert m.keyer.key(b, drv) != m.keyer.key(a, drv)
        assert not canon.unchanged(a, b)


@pytest.mark.parametrize("preset", ["v5.18", "current"])
def test_later_steps_write_only_what_their_footprints_say_and_commute(preset):
    checked, problems = check_writes(PRESETS[preset], Bounds(depth=3, **LATER_BOUNDS))
    assert checked > 2_000 and problems == []
    checked, problems = check_independence(PRESETS[preset], Bounds(depth=3, **LATER_BOUNDS),
                                           states=10)
    assert checked > 300 and problems == []


@pytest.mark.parametrize("start", [FILES, (
    {"op": "mmap", "mm": 0, "vpn": 0, "npages": 4, "hugetlb": True, "shared": True},
    {"op": "fork", "mm": 0, "child": 1})], ids=["files", "shared-hugetlb"])
def test_file_pages_write_only_what_their_footprints_say(start):
    bounds = Bounds(depth=2, processes=3, start=start, **LATER_BOUNDS)
    checked, problems = check_writes(PRESETS["current"], bounds)
    assert checked > 200 and problems == []


def test_write_check_catches_a_footprint_without_file_tokens(monkeypatch):
    page = Footprints._page

    def no_files(self, out, session, mm, vpn):
        page(self, out, session, mm, vpn)
        out.difference_update({t for t in out if t[0] == "file"})
    monkeypatch.setattr(Footprints, "_page", no_files)
    bounds = Bounds(depth=2, processes=2, start=SHARED_FILE + ({"op": "fork", "mm": 0, "child": 1},),
                    **LATER_BOUNDS)
    _, problems = check_writes(PRESETS["current"], bounds)
    assert any("logical value" in p or "file" in p for p in problems)


def test_the_key_merges_only_states_that_behave_the_same():
    compared, problems = audit(PRESETS["current"], Bounds(depth=3, **LATER_BOUNDS), samples=40)
    assert compared == 40 and problems == []


@pytest.mark.parametrize("preset,found", [("v5.19", True), ("v6.0", False)])
def test_verify_finds_the_shared_mapping_soft_dirty_bug_until_v6_0(preset, found):
    bounds = Bounds(depth=6, pages=1, processes=1, pins=0, start=SHARED_FILE,
                    ops=("write", "clear_softdirty", "mprotect", "softdirty"))
    r = verify(PRESETS[preset], bounds, clauses=("softdirty",))
    assert (r.status == "violation") is found
    if found:   # the shortest: write, clear_refs, PROT_READ, PROT_READ|PROT_WRITE, write,
        # query (the first three in some order)
        assert sorted(s["op"] for s in r.trace[len(SHARED_FILE):]) == sorted([
            "write", "clear_softdirty", "mprotect", "mprotect", "write", "softdirty"])
    else:
        assert r.ok


def test_footprints_of_queries_read_their_page_only():
    m, s = session_after({"op": "write", "mm": 0, "vpn": 0, "value": 1})
    fp = Footprints(2, False, False)
    for op in ("pte", "pfn", "softdirty"):
        masks = por.footprint_masks(fp, s, [{"op": op, "mm": 0, "vpn": 0},
                                            {"op": "write", "mm": 0, "vpn": 1, "value": 2}])
        assert not por.dependent(*masks)
