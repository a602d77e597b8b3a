"""How the fuzzer draws: what the state enables and weights, which pages it draws,
and what later examples start with (review/fuzz/strategies.py). States are built by
running steps on the spec; drawn traces come from bounded searches with fixed seeds."""
from __future__ import annotations

import random
from collections import Counter

import pytest

import review.fuzz.strategies as strategies
from review.fuzz.search import search
from review.fuzz.strategies import (KINDS, LATER_KINDS, WEIGHT, World, _pick_page,
                                    draw_step, enabled, first_mmap, hot_pages)
from spec.presets import PRESETS
from spec.run import Session
from spec.trace import step

MENU = ["write"] * WEIGHT["write"] + list(KINDS) + list(LATER_KINDS)


class Fixed:
    """Choices that answer from a list of indices (then 0), flags from a list (then False)."""

    def __init__(self, indices=(), flags=()):
        self.indices, self.flags = list(indices), list(flags)

    def index(self, n):
        return self.indices.pop(0) % n if self.indices and n > 1 else 0

    def flag(self, p=0.5):
        return self.flags.pop(0) if self.flags else False


def contract(*steps):
    s = Session(PRESETS["current"])
    for x in steps:
        s.step(x)
    return s.contract


def later_world(**kw):
    return World(later=True, **kw)


def test_swapoff_waits_until_something_may_be_in_swap():
    c = contract(step("mmap", mm=0, vpn=0, npages=2), step("write", mm=0, vpn=0, value=1))
    w = later_world()
    assert "swapoff" not in enabled(MENU, c, w)
    assert draw_step(Fixed(), "swapout", c, w) is not None and w.swapped
    assert "swapoff" in enabled(MENU, c, w)
    for kind in ("pageout", "writeback"):
        w = later_world()
        draw_step(Fixed(), kind, c, w)
        assert w.swapped


def test_soft_dirty_tracking_weights_writes_and_what_rewrites_entries():
    base = [step("mmap", mm=0, vpn=0, npages=2), step("write", mm=0, vpn=0, value=1)]
    before = Counter(enabled(MENU, contract(*base), later_world(swapped=True)))
    after = Counter(enabled(MENU, contract(*base, step("clear_softdirty", mm=0)),
                            later_world(swapped=True)))
    for kind in ("write", "prot", "mprotect", "swapout", "swapoff", "migrate", "mremap"):
        assert after[kind] > before[kind], kind
    for kind in ("read", "get", "exit", "ksm_merge"):
        assert after[kind] == before[kind], kind


def test_file_shared_and_hugetlb_mappings_weight_pins_and_forks():
    anon = Counter(enabled(MENU, contract(step("mmap", mm=0, vpn=0, npages=4)), later_world()))
    for args in ({"backing": "file"}, {"backing": "shmem", "shared": True},
                 {"hugetlb": True}):
        c = contract(step("mmap", mm=0, vpn=0, npages=4, **args))
        other = Counter(enabled(MENU, c, later_world()))
        assert other["pin"] > anon["pin"] and other["fork"] > anon["fork"], args
        assert other["write"] == anon["write"] and other["read"] == anon["read"]


def test_hot_pages_include_pages_written_since_clear_softdirty():
    c = contract(step("mmap", mm=0, vpn=0, npages=4), step("write", mm=0, vpn=1, value=1),
                 step("clear_softdirty", mm=0), step("write", mm=0, vpn=2, value=2))
    assert hot_pages(c) == [(0, 2)]


def test_a_held_page_shared_after_fork_counts_once_more_than_other_shared_pages():
    c = contract(step("mmap", mm=0, vpn=0, npages=2), step("write", mm=0, vpn=0, value=1),
                 step("pin", mm=0, vpn=1, write=False, longterm=False, id="p"),
                 step("fork", mm=0, child=1))
    hot = Counter(hot_pages(c))
    assert hot[(0, 1)] == 2
    assert hot[(0, 0)] == hot[(1, 0)] == hot[(1, 1)] == 1


def test_swap_kinds_draw_pages_reclaim_can_swap():
    # vpn 0: a page-cache page of a shared file; vpn 1: never written (the zero page);
    # vpn 2: private anonymous data; hugetlb at 4..7
    c = contract(step("mmap", mm=0, vpn=0, npages=1, backing="file", shared=True),
                 step("mmap", mm=0, vpn=1, npages=2),
                 step("mmap", mm=0, vpn=4, npages=4, hugetlb=True),
                 step("write", mm=0, vpn=0, value=1), step("write", mm=0, vpn=2, value=2),
                 step("write", mm=0, vpn=4, value=3))
    for kind in ("swapout", "writeback", "pageout"):
        assert {_pick_page(Fixed([i]), c, kind) for i in range(12)} == {(0, 2)}, kind
    assert len({_pick_page(Fixed([i]), c, "migrate") for i in range(12)}) > 1
    # nothing swappable: any page, as before
    c = contract(step("mmap", mm=0, vpn=0, npages=2))
    assert _pick_page(Fixed([1]), c, "swapout") == (0, 1)


def test_mprotect_to_rw_alone_only_where_the_page_is_not_writable():
    writable = contract(step("mmap", mm=0, vpn=0, npages=1))
    readonly = contract(step("mmap", mm=0, vpn=0, npages=1, backing="file", prot="r"))

    def first_prots(c):
        out = set()
        for i in range(6):
            got = draw_step(Fixed([0, i], [True]), "prot", c, later_world())   # npages, prot
            out.add((got[0] if isinstance(got, list) else got).args["prot"])
        return out

    assert first_prots(writable) == {"r", "none"}
    assert first_prots(readonly) == {"r", "none", "rw"}
    # from a writable page: the round trip back to R/W
    got = draw_step(Fixed([0, 0], [True]), "prot", writable, later_world())
    assert [s.args["prot"] for s in got] == ["r", "rw"]


@pytest.mark.parametrize("seed", range(40))
def test_a_later_example_starts_with_a_later_mapping(seed):
    rng = random.Random(seed)
    data = Fixed([rng.randrange(64) for _ in range(8)], [rng.random() < 0.5 for _ in range(8)])
    first = first_mmap(data, later_world())
    assert first.args["mm"] == 0 and first.args["vpn"] == 0
    assert {"backing", "shared", "hugetlb", "thp_order"} & set(first.args)


def test_drawn_later_traces_start_with_a_later_mapping_and_swap_what_can_be_swapped(
        monkeypatch):
    monkeypatch.setattr(strategies, "P_LATER", 1.0)
    traces: list = []
    search(PRESETS["current"], seed=5, max_examples=300, database=None, _record=traces)
    swapouts = swapoffs = 0
    for t in traces:
        assert {"backing", "shared", "hugetlb", "thp_order"} & set(t["steps"][0])
        s = Session(PRESETS["current"])
        swap_drawn = False
        for x in t["steps"]:
            st = step(x["op"], **{k: v for k, v in x.items() if k != "op"})
            if st.op == "swapoff":
                assert swap_drawn, "swapoff before anything may be in swap"
                swapoffs += 1
            if st.op == "swapout":
                can = strategies._swappable(s.contract)
                assert not can or (st.args["mm"], st.args["vpn"]) in can
                swapouts += 1
            swap_drawn |= st.op in ("swapout", "writeback") or st.args.get("advice") == "pageout"
            s.step(st)
    assert swapouts > 20 and swapoffs > 10
