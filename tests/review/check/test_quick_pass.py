"""The shortest-trace pass: contract and invariants searched together give what two
separate passes give, and every other clause broken besides, each at its shortest."""
from __future__ import annotations

from dataclasses import replace

from spec.presets import PRESETS

from review.check.explore import quick, quick_groups
from review.finding_ids import CONTRACT_IDS, INVARIANT_IDS

POINTS = ["gup.unshare", "wp.reuse", "fork.anon_pte"]


def _separately(post, pre, clauses):
    got, summary = quick(post, pre, POINTS, depth=4, clauses=clauses, mode="introduced",
                         deadline=None, max_findings=1)
    return got, summary


def test_one_search_gives_each_group_the_shortest_trace_separate_passes_give():
    # a write fault that always reuses: an invariant breaks a step before the contract
    # does (exclusive-single-mapper in 3 steps, isolation in 4), and must not hide it
    pre = PRESETS["current"]
    post = replace(pre, name="always-reuse", decide={**pre.decide, "wp.reuse": lambda c: "reuse"})
    found, verdicts, alphabet = quick_groups(
        post, pre, POINTS, depth=4, groups={"contract": CONTRACT_IDS, "invariants": INVARIANT_IDS},
        deadline=None, max_states=2_000_000)
    for name, clauses in (("contract", CONTRACT_IDS), ("invariants", INVARIANT_IDS)):
        alone, _ = _separately(post, pre, clauses)
        ours = [f for f in found if f.id in clauses]
        assert alone, "the rules break both groups"
        assert [f.trace["steps"] for f in ours[:1]] == [f.trace["steps"] for f in alone]
        assert [f.id for f in ours[:1]] == [f.id for f in alone]
        # the group's other clauses, each once, none shorter than the first
        assert len({f.id for f in ours}) == len(ours)
        assert all(len(f.trace["steps"]) >= len(ours[0].trace["steps"]) for f in ours)
        assert verdicts[name].startswith(f"violation of {alone[0].id} by a shortest trace of")
    assert "operations (" in alphabet


def test_a_clean_pair_is_verified_for_every_group():
    rules = PRESETS["current"]
    found, verdicts, _ = quick_groups(
        rules, rules, POINTS, depth=3, groups={"contract": CONTRACT_IDS, "invariants": INVARIANT_IDS},
        deadline=None, max_states=2_000_000)
    assert found == []
    assert verdicts == {"contract": "verified up to depth 3", "invariants": "verified up to depth 3"}


def test_a_state_bound_says_how_far_it_got():
    rules = PRESETS["current"]
    _, verdicts, _ = quick_groups(
        rules, rules, POINTS, depth=5, groups={"contract": CONTRACT_IDS}, deadline=1e18, max_states=50)
    assert verdicts["contract"].startswith("state budget of 50 reached: verified up to depth")


def test_a_clause_that_breaks_first_does_not_hide_another_of_its_group():
    """A rule set that unshares every anonymous page it R/O-pins, exclusive or not, so
    that the unshare never ends (gup-progress), and pins never-written memory as it is
    (pin-coherence, once written): both contract clauses come back, each with its own
    shortest trace."""
    pre = PRESETS["current"]
    post = replace(pre, name="stalls", decide={
        **pre.decide, "gup.unshare": lambda c: "unshare" if c.anon and c.foll_pin else "pin"})
    found, verdicts, _ = quick_groups(
        post, pre, POINTS, depth=4, groups={"contract": CONTRACT_IDS}, deadline=None,
        max_states=2_000_000)
    by_id = {f.id: len(f.trace["steps"]) for f in found}
    assert "gup-progress" in by_id and "pin-coherence" in by_id
    assert verdicts["contract"].startswith("violation of ")
    assert ", of " in verdicts["contract"]


def test_a_slow_path_unshare_change_is_checked_against_gup_fast():
    """A patch that adds gup_must_unshare() to the slow path and leaves GUP-fast taking
    what is mapped: GUP-fast takes a shared anonymous page the slow path would unshare
    first (gup-fast-as-slow), in a shortest trace with a GUP-fast pin."""
    v519 = PRESETS["v5.19"]
    pre = replace(v519, name="slow-pins-as-mapped", decide={
        **v519.decide, "gup.unshare": lambda c: "pin", "gup.fast": lambda c: "pin"})
    post = replace(pre, name="slow-unshares", decide={
        **pre.decide, "gup.unshare": v519.decide["gup.unshare"]})
    found, _, alphabet = quick_groups(
        post, pre, ["gup.unshare"], depth=4, groups={"invariants": INVARIANT_IDS},
        deadline=None, max_states=2_000_000)
    assert "gup-fast-as-slow" in {f.id for f in found}, alphabet
    (f,) = [f for f in found if f.id == "gup-fast-as-slow"]
    assert any(s["op"] == "pin" and s.get("fast") for s in f.trace["steps"])
