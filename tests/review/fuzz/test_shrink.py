"""The trace shrink's moves beyond deleting steps: each takes a trace a 1-minimal
deletion pass leaves a step too long down to the shortest one, on the real spec (the
finding is polished as a search would polish it, so the same (clause, variant) must
still show)."""
from __future__ import annotations

from review.findings import Finding
from review.fuzz.search import _polish
from review.fuzz.shrink import contract, fold_mremap, merge_process, shrink_steps
from spec.presets import PRESETS
from spec.trace import step


def _polished(ruleset: str, clause: str, variant: str, steps) -> list[dict]:
    trace = {"ruleset": ruleset, "steps": [s.to_json() for s in steps]}
    found = Finding(id=clause, message="", trace=trace, variant=variant, rulesets=(ruleset,))
    out = _polish(found, PRESETS[ruleset], None, "invariants")
    assert (out.id, out.variant) == (clause, variant)
    return out.trace["steps"]


def test_a_pin_that_only_faulted_the_page_in_becomes_the_write_and_the_fork_folds():
    # the first pin's handle is never used: it served as the write that populated the
    # page; then the first fork is only there to make the second one's parent
    steps = [step("mmap", mm=0, vpn=0, npages=1),
             step("pin", mm=0, vpn=0, write=True, longterm=False, id="p0"),
             step("fork", mm=0, child=1), step("fork", mm=1, child=2),
             step("pin", mm=1, vpn=0, write=False, longterm=False, id="p1"),
             step("write", mm=1, vpn=0, value=1), step("dma_read", id="p1")]
    out = _polished("v5.9", "pin-coherence", "R/O pin", steps)
    assert [s["op"] for s in out] == ["mmap", "write", "fork", "pin", "write", "dma_read"]


def test_two_steps_that_write_protect_the_entry_together_contract_into_one():
    # a swap-out and a second pin left the entry R/O; each is needed while the other
    # is there, so deleting steps one at a time cannot shorten this
    steps = [step("mmap", mm=0, vpn=0, npages=1),
             step("pin", mm=0, vpn=0, write=True, longterm=False, id="p0"),
             step("swapout", mm=0, vpn=0),
             step("pin", mm=0, vpn=0, write=False, longterm=False, id="p1"),
             step("write", mm=0, vpn=0, value=1), step("dma_read", id="p0")]
    out = _polished("v5.9", "pin-coherence", "R/W pin", steps)
    assert len(out) == 5 and out[1]["op"] == "pin" and out[-1]["op"] == "dma_read"


def test_an_mremap_folds_back_onto_the_range_it_moved():
    steps = [step("mmap", mm=0, vpn=0, npages=1, shared=True),
             step("write", mm=0, vpn=0, value=1),
             step("mremap", mm=0, vpn=0, npages=1, new_vpn=2),
             step("clear_softdirty", mm=0),
             step("mprotect", mm=0, vpn=2, npages=1, prot="none"),
             step("mprotect", mm=0, vpn=2, npages=1, prot="rw"),
             step("write", mm=0, vpn=2, value=2), step("softdirty", mm=0, vpn=2)]
    out = _polished("v5.19", "softdirty", "shared mapping", steps)
    assert "mremap" not in [s["op"] for s in out] and len(out) == 7
    assert {s["vpn"] for s in out if "vpn" in s} == {0}


def test_fold_mremap_moves_only_the_process_and_the_children_it_forks_later():
    steps = [step("mmap", mm=0, vpn=0, npages=2), step("fork", mm=0, child=1),
             step("mremap", mm=0, vpn=0, npages=2, new_vpn=4),
             step("fork", mm=0, child=2), step("write", mm=2, vpn=5, value=1),
             step("write", mm=1, vpn=5, value=2), step("write", mm=0, vpn=4, value=3)]
    out = fold_mremap(steps, 2)
    assert [(s.args.get("mm"), s.args.get("vpn")) for s in out[3:]] == [(2, 1), (1, 5), (0, 0)]


def test_contract_offers_single_steps_on_the_windows_page_and_keeps_a_forked_child():
    steps = [step("mmap", mm=0, vpn=0, npages=1), step("write", mm=0, vpn=0, value=4),
             step("fork", mm=0, child=3), step("swapout", mm=0, vpn=0)]
    ones = contract(steps, 2)
    assert step("fork", mm=0, child=3) not in ones       # a step of the window itself
    assert step("clear_softdirty", mm=0) in ones
    assert step("mprotect", mm=0, vpn=0, npages=1, write=False) in ones
    assert step("write", mm=0, vpn=0, value=5) in ones    # a fresh value
    fresh_child = contract(steps, 0)
    assert step("fork", mm=0, child=4) in fresh_child     # no fork in the window: a new id


def test_every_candidate_must_reproduce():
    # a check that accepts nothing leaves the trace as it was
    steps = [step("mmap", mm=0, vpn=0, npages=1), step("write", mm=0, vpn=0, value=1),
             step("read", mm=0, vpn=0)]
    assert shrink_steps(steps, lambda s: None) == steps


def test_a_grandchilds_part_merges_into_the_first_process_once_its_own_write_goes():
    # CVE-2020-29374's shape with a detour: a second child plays the part the parent
    # can play, but only once the parent's first write (which made it COW away
    # early) goes too: two changes at once
    steps = [step("mmap", mm=0, vpn=0, npages=1), step("write", mm=0, vpn=0, value=1),
             step("fork", mm=0, child=1), step("fork", mm=0, child=2),
             step("write", mm=0, vpn=0, value=2), step("get", mm=1, vpn=0, id="g0"),
             step("write", mm=1, vpn=0, value=3), step("write", mm=2, vpn=0, value=4),
             step("dma_read", id="g0")]
    out = _polished("v5.7", "no-foreign-data", "FOLL_GET sees process write", steps)
    assert len(out) == 7
    assert [s["op"] for s in out].count("fork") == 1


def test_an_mprotect_round_trip_around_a_pin_contracts_into_one_step():
    # R/O, pin, R/W again: the two mprotects are one step apart, and a fork after the
    # pin write-protects the entry as they did together
    steps = [step("mmap", mm=0, vpn=0, npages=2), step("write", mm=0, vpn=1, value=1),
             step("mprotect", mm=0, vpn=0, npages=2, write=False),
             step("pin", mm=0, vpn=1, write=False, longterm=False, id="p0"),
             step("mprotect", mm=0, vpn=1, npages=1, write=True),
             step("write", mm=0, vpn=1, value=2), step("dma_read", id="p0")]
    out = _polished("v5.9", "pin-coherence", "R/O pin", steps)
    assert len(out) == 6 and "mprotect" not in [s["op"] for s in out]


def test_merge_process_hands_the_childs_later_steps_to_the_chosen_process():
    steps = [step("mmap", mm=0, vpn=0, npages=1), step("fork", mm=0, child=1),
             step("fork", mm=1, child=2), step("write", mm=2, vpn=0, value=1),
             step("ksm_merge", mm=1, vpn=0, mm2=2, vpn2=0)]
    out = merge_process(steps, 2, 0)
    assert [s.op for s in out] == ["mmap", "fork", "write", "ksm_merge"]
    assert out[2].args["mm"] == 0 and out[3].args["mm2"] == 0 and out[3].args["mm"] == 1
