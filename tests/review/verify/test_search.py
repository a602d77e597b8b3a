"""The exploration of the spec (review/verify/search.py `verify`): preset bugs as
shortest replayable traces, `current` clean within bounds, every clause's shortest
trace, start traces, the alphabet, and the shortcuts that must not change what is
explored (packed frontiers, unchanged states, reused clones)."""
from __future__ import annotations

import pytest

from spec import expr as E
from spec.decisions import ExtractedDecision, GuardedOutcome
from spec.presets import PRESETS
from spec.run import run_trace
from spec.trace import parse_trace, step

from review.verify import canon
from review.verify.model import Bounds, SpecModel, StartError
from review.verify.search import explore, verify
from tests.review.verify.verify_util import CVE_OPS, PIN_OPS, key_after, replayed_clauses


def test_v57_foreign_data_is_found_as_a_shortest_trace():
    b = Bounds(depth=6, processes=2, pages=1, pins=1, ops=CVE_OPS)
    r = verify(PRESETS["v5.7"], b, clauses=["no-foreign-data"])
    assert r.status == "violation"
    assert [v.id for v in r.violations] == ["no-foreign-data"]
    steps = r.trace[1:]
    # write; get/fork in some order; writes on both sides (or a child exit); dma_read
    assert len(steps) == 6
    assert steps[-1]["op"] == "dma_read"
    assert {"fork", "get", "write"} <= {s["op"] for s in steps}
    # a replayable trace in the replay format that breaks the same clause
    assert "no-foreign-data" in replayed_clauses(r)
    # the textbook trace (write; fork; child get; child exit; parent write; dma_read)
    # has the same length: it is one of the shortest, as BFS says
    textbook = {"ruleset": "v5.7", "steps": r.trace[:1] + [
        {"op": "write", "mm": 0, "vpn": 0, "value": 1}, {"op": "fork", "mm": 0, "child": 1},
        {"op": "get", "mm": 1, "vpn": 0, "id": "r0"}, {"op": "exit", "mm": 1},
        {"op": "write", "mm": 0, "vpn": 0, "value": 2}, {"op": "dma_read", "id": "r0"}]}
    assert len(textbook["steps"]) == len(r.trace)
    assert "no-foreign-data" in run_trace(parse_trace(textbook), PRESETS["v5.7"]).clauses
    # one step less: nothing breaks no-foreign-data (BFS: no shorter trace exists)
    clean = verify(PRESETS["v5.7"], Bounds(depth=5, processes=2, pages=1, pins=1, ops=CVE_OPS),
                   clauses=["no-foreign-data"])
    assert clean.status == "verified" and clean.depth_verified == 5


def test_v59_ro_pin_incoherence_is_found_as_a_shortest_trace():
    b = Bounds(depth=5, processes=2, pages=1, pins=1, ops=PIN_OPS, pin_kinds=("ro", "rw"))
    r = verify(PRESETS["v5.9"], b)
    assert r.status == "violation"
    assert [v.id for v in r.violations] == ["pin-coherence"]
    ops = [s["op"] for s in r.trace[1:]]
    # write; fork; R/O pin of the shared page; write (COW away from the pin); dma_read
    assert ops == ["write", "fork", "pin", "write", "dma_read"]
    pin = r.trace[3]
    assert pin["write"] is False and pin["longterm"] is False
    assert "pin-coherence" in replayed_clauses(r)
    shorter = verify(PRESETS["v5.9"], Bounds(depth=4, processes=2, pages=1, pins=1, ops=PIN_OPS,
                                             pin_kinds=("ro", "rw")))
    assert shorter.status == "verified"
    # the same bounds on `current` (v6.x): clean, one step past the bug's length
    fixed = verify(PRESETS["current"], Bounds(depth=5, processes=2, pages=1, pins=1, ops=PIN_OPS,
                                             pin_kinds=("ro", "rw")))
    assert fixed.ok, fixed.summary()


def test_current_is_clean_on_every_op_two_processes_one_page_one_pin():
    r = verify(PRESETS["current"], Bounds(depth=3, processes=2, pages=1, pins=1))
    assert r.status == "verified", r.summary()
    assert r.states_per_depth[0] == 1 and len(r.states_per_depth) == 4
    assert r.states == sum(r.states_per_depth)


def test_current_is_clean_with_a_thp():
    r = verify(PRESETS["current"], Bounds(depth=2, processes=2, pages=2, thp=True, pins=1))
    assert r.status == "verified", r.summary()
    assert r.trace is None


def test_state_budget_stops_with_a_clear_verdict():
    r = verify(PRESETS["current"], Bounds(depth=4, max_states=50))
    assert r.status == "max_states" and r.states == 50
    assert r.summary().startswith("state budget of 50 reached: verified up to depth 1 only")


def test_fresh_values_do_not_make_new_states_so_small_spaces_exhaust():
    # write; write; ... only ever renames the value: the space is finite and the
    # search says so instead of running to the depth bound
    r = verify(PRESETS["current"], Bounds(depth=10, processes=1, pins=0,
                                          ops=("write", "read", "madvise"),
                                          advices=("dontneed", "pageout")))
    assert r.status == "exhausted" and r.ok and r.depth_verified < 10
    assert r.states == sum(r.states_per_depth) < 20


def test_overlay_rule_sets_are_explored_and_their_valuation_kept_for_replay():
    # a "patch" that reuses any R/O anon page on a write fault while an unmodelled
    # condition holds: with the condition true, fork + write breaks isolation
    patch = ExtractedDecision("wp.reuse", (GuardedOutcome(E.Free("page_is_lucky"), "reuse"),))
    rules = PRESETS["current"].with_overlay((patch,), free={"page_is_lucky": True})
    b = Bounds(depth=4, processes=2, pages=1, pins=0, ops=("write", "fork", "read"))
    r = verify(rules, b)
    assert r.status == "violation" and r.rules == "current+patch"
    trace = r.replay_trace()
    assert trace["free"] == {"page_is_lucky": True}
    assert [s["op"] for s in trace["steps"][1:]][:2] == ["write", "fork"]
    clean = verify(PRESETS["current"].with_overlay((patch,), free={"page_is_lucky": False}), b)
    assert clean.ok


def test_all_clauses_keeps_the_shortest_trace_of_each_clause():
    b = Bounds(depth=6, processes=2, pages=1, pins=1, ops=CVE_OPS + ("pin", "unpin"),
               pin_kinds=("ro-longterm",))
    r = verify(PRESETS["v5.7"], b, all_clauses=True)
    lengths = {f.id: f.length for f in r.findings}
    # the stale R/O longterm pin of never-written memory needs 3 steps and would stop a
    # plain search there; the foreign-data trace still comes out, at its own minimum
    assert lengths["pin-coherence"] == 3
    assert lengths["no-foreign-data"] == 6
    assert r.status == "violation" and r.trace == r.findings[0].trace["steps"]
    for f in r.findings:
        assert f.id in replayed_clauses(r, f.trace)


def test_findings_count_steps_after_a_longer_start():
    start = ({"op": "mmap", "mm": 0, "vpn": 0, "npages": 1}, {"op": "write", "mm": 0, "vpn": 0, "value": 7},
             {"op": "fork", "mm": 0, "child": 1})
    r = verify(PRESETS["v5.9"], Bounds(depth=3, ops=PIN_OPS, pin_kinds=("ro", "rw"), start=start),
               all_clauses=True)
    assert {f.id: f.length for f in r.findings} == {"pin-coherence": 3}
    assert r.summary().startswith("violation of pin-coherence by a shortest trace of 3 steps")


def test_library_start_steps_are_checked_and_completed():
    r = verify(PRESETS["current"], Bounds(depth=1, ops=("read",),
                                          start=({"op": "mmap", "mm": 0, "vpn": 0, "npages": 1},)))
    assert r.ok and r.states == 2  # the start, and the start after a read fault
    with pytest.raises(StartError, match="step 0: write: missing argument 'value'"):
        verify(PRESETS["current"], Bounds(depth=1, start=({"op": "write", "mm": 0, "vpn": 0},)))


def test_enabled_steps_follow_the_kernel_state_not_the_bookkeeping():
    m = SpecModel(PRESETS["current"], Bounds(depth=1, pins=1))
    state, _, _ = m.initial()
    session, driver = state
    canon.apply(session, step("pin", mm=0, vpn=0, write=True, longterm=False, id="r0"))
    ops = {(obj["op"], obj.get("id")) for _, obj, _ in m.enabled((session, driver))}
    assert ("unpin", "r0") in ops and ("dma_write", "r0") in ops
    assert ("pin", "r0") not in ops  # the only reference id is taken


def test_ksm_merge_is_tried_in_both_orders_which_reach_different_states():
    # ksmd makes the page it is scanning the KSM page: merging the parent's page that
    # fork shared with the child into a private one, or the other way round, leaves
    # a KSM page mapped three times or twice
    b = Bounds(depth=1, pages=2)
    m = SpecModel(PRESETS["current"], b)
    (_, driver), _, _ = m.initial()
    merges = [(s["mm"], s["vpn"], s["mm2"], s["vpn2"]) for _st, s, _a in m.alphabet(driver)
              if s["op"] == "ksm_merge"]
    assert (0, 0, 0, 1) in merges and (0, 1, 0, 0) in merges
    adv = lambda vpn: {"op": "madvise", "mm": 0, "vpn": vpn, "npages": 1,  # noqa: E731
                       "advice": "mergeable"}
    zero_filled = lambda vpn: [  # noqa: E731  (an anon page of zeroes: no value written)
        {"op": "pin", "mm": 0, "vpn": vpn, "write": True, "longterm": False, "id": "r0"},
        {"op": "unpin", "id": "r0"}]
    setup = [adv(0), adv(1), *zero_filled(0), {"op": "fork", "mm": 0, "child": 1},
             *zero_filled(1)]
    shared_first = {"op": "ksm_merge", "mm": 0, "vpn": 0, "mm2": 0, "vpn2": 1}
    private_first = {"op": "ksm_merge", "mm": 0, "vpn": 1, "mm2": 0, "vpn2": 0}
    b3 = Bounds(depth=1, pages=2, processes=3)
    assert key_after(b3, *setup, shared_first) != key_after(b3, *setup, private_first)


def test_packed_frontier_explores_the_same_states():
    b = Bounds(depth=3, processes=2, pages=1, pins=1, ops=PIN_OPS + ("swapout",))
    plain = explore(SpecModel(PRESETS["current"], b), "current", b, compact_after=None)
    packed = explore(SpecModel(PRESETS["current"], b), "current", b, compact_after=1)
    assert plain.ok and packed.ok
    assert packed.states_per_depth == plain.states_per_depth
    bug = Bounds(depth=5, processes=2, pages=1, pins=1, ops=PIN_OPS, pin_kinds=("ro", "rw"))
    found = explore(SpecModel(PRESETS["v5.9"], bug), "v5.9", bug, compact_after=1)
    assert [s["op"] for s in found.trace[1:]] == ["write", "fork", "pin", "write", "dma_read"]


def test_unchanged_shortcut_explores_exactly_the_same_states():
    for name, b in (("current", Bounds(depth=3, processes=2, pages=1, pins=1)),
                    ("v5.9", Bounds(depth=3, processes=2, pages=1, pins=1)),
                    ("v5.7", Bounds(depth=3, processes=2, pages=2, pins=1)),
                    ("current", Bounds(depth=2, processes=2, pages=2, thp=True, pins=1))):
        fast = explore(SpecModel(PRESETS[name], b), name, b, all_clauses=True)
        slow = explore(SpecModel(PRESETS[name], b, fast_same=False), name, b, all_clauses=True)
        assert fast.states_per_depth == slow.states_per_depth
        assert [(f.id, f.length) for f in fast.findings] == [(f.id, f.length) for f in slow.findings]


def test_reused_clones_give_the_same_traces_and_messages_as_fresh_ones():
    # a step that changes nothing hands its clone on to the next step (SpecModel
    # .transitions): step indices, counters and the contract's log are put back, so
    # every finding (trace, clause, message with its step numbers) is as without reuse
    b = Bounds(depth=4, processes=2, pages=1, pins=1, ops=CVE_OPS + ("pin", "madvise"),
               pin_kinds=("ro-longterm", "rw"), advices=("dontneed", "pageout"))
    for name in ("v5.7", "v5.8"):
        fast = explore(SpecModel(PRESETS[name], b), name, b, all_clauses=True)
        slow = explore(SpecModel(PRESETS[name], b, fast_same=False), name, b, all_clauses=True)
        assert fast.findings, name
        assert [(f.id, f.trace, [(v.id, v.step, v.message) for v in f.violations])
                for f in fast.findings] == \
               [(f.id, f.trace, [(v.id, v.step, v.message) for v in f.violations])
                for f in slow.findings]
        assert fast.states_per_depth == slow.states_per_depth
