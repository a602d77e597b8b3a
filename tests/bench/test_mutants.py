"""The mutation benchmark (bench/mutants.py): its operators on a made-up decision
function, mutants of a preset's helpers, the bounded equivalence filter, and a kill
that counts only when the preset itself does not break the same clause."""
from __future__ import annotations

import ast
import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from equivalence import equivalence, fields_read, shortest_kill  # noqa: E402
from mutants import Summary, counts_against, judge, parse_args, sample  # noqa: E402
from mutation import mutants, mutate, reached  # noqa: E402
from review.findings import Finding  # noqa: E402
from spec.decisions import DecisionContext  # noqa: E402
from spec.presets import PRESETS  # noqa: E402

SCENARIOS = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"

DECIDE = '''
def decide(c):
    if c.anon and not c.ksm:
        return "reuse"
    if c.reason == "swap":
        return "copy"
    return "reuse" if c.mapcount >= 1 else "copy"
'''


def _changes(outcomes=("reuse", "copy")):
    func = ast.parse(DECIDE).body[0]
    return {(ch.operator, ch.what): ch for ch in mutate(func, outcomes)}


def _body(change) -> str:
    """The mutated function's body without its def line, one statement a line."""
    return "\n".join(change.source.splitlines()[1:]).replace("    ", "")


def test_each_operator_yields_the_expected_mutant():
    ch = _changes()
    assert "if not c.ksm:" in _body(ch["drop", "drop 'c.anon'"])
    assert "if c.anon:" in _body(ch["drop", "drop 'not c.ksm'"])
    assert "if not c.anon and (not c.ksm):" in _body(ch["negate", "negate 'c.anon'"])
    assert "if c.anon and c.ksm:" in _body(ch["negate", "negate 'not c.ksm'"])
    assert "if c.reason != 'swap':" in _body(ch["negate", "negate 'c.reason == 'swap''"])
    assert "c.mapcount < 1" in _body(ch["negate", "negate 'c.mapcount >= 1'"])
    assert "c.refcount >= 1" in _body(ch["swap", "'c.mapcount' -> 'c.refcount'"])
    assert "c.mapcount > 1" in _body(ch["boundary", "'c.mapcount >= 1' -> 'c.mapcount > 1'"])
    # every returned outcome, the conditional expression's branches included
    outcome = sorted(w for op, w in ch if op == "outcome")
    assert outcome == ["return 'copy' for 'reuse'", "return 'reuse' for 'copy'"]
    every = mutate(ast.parse(DECIDE).body[0], ("reuse", "copy"))
    assert sum(c.operator == "outcome" for c in every) == 4   # four returned outcomes
    assert {op for op, _ in ch} == {"drop", "negate", "swap", "boundary", "outcome"}


def test_outcome_replacement_yields_only_legal_outcomes():
    legal = ("reuse", "copy", "share")
    for (op, _), change in _changes(legal).items():
        if op != "outcome":
            continue
        returned = {n.value for n in ast.walk(ast.parse(change.source))
                    if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        assert returned - {"swap"} <= set(legal)
    # the compared reason string is no outcome: never replaced
    assert not any("'swap'" in what for op, what in _changes(legal) if op == "outcome")


def test_a_helper_mutant_changes_the_point_through_its_caller():
    current = PRESETS["current"]
    assert [f.__name__ for f in reached(current.decide["wp.reuse"])] == \
        ["wp_reuse_current", "_refcount_after_free_swap"]
    (m,) = [m for m in mutants(current, ("wp.reuse",))
            if m.label.endswith("drop 'not c.writeback'")]
    assert m.label.startswith("wp.reuse: _refcount_after_free_swap line ")
    # a swap-cache page under writeback: try_to_free_swap fails, the extra reference stays
    ctx = DecisionContext(swapcache=True, swapcount=0, writeback=True, refcount=2)
    assert current.ask("wp.reuse", ctx) == "copy"
    assert m.rules.ask("wp.reuse", ctx) == "reuse"
    assert {p for p in current.decide if m.rules.decide[p] is not current.decide[p]} == {"wp.reuse"}


def test_a_mutant_of_an_unreachable_case_is_equivalent_within_the_bound():
    current = PRESETS["current"]
    original = current.decide["wp.reuse"]
    # wp.reuse is never asked about a hugetlb page (hugetlb.reuse is)
    mutant = replace(current, name="mutant", decide={
        **current.decide, "wp.reuse": lambda c: "copy" if c.hugetlb else original(c)})
    fields = fields_read(reached(original))
    verdict = equivalence(mutant, current, "wp.reuse", fields, depth=3)
    assert verdict.status == "equivalent" and verdict.states > 0
    assert shortest_kill(mutant, current, "wp.reuse", fields, depth=2) == \
        ("", None, "none within depth 2")


def test_a_killable_mutant_differs_and_the_fuzzer_kills_it():
    current = PRESETS["current"]
    (m,) = [m for m in mutants(current, ("wp.reuse",))
            if m.label.endswith("line 191: return 'copy' for 'reuse'")]
    fields = fields_read(reached(current.decide["wp.reuse"]))
    verdict = equivalence(m.rules, current, "wp.reuse", fields, depth=4)
    assert verdict.status == "different" and 0 < verdict.steps <= 4
    clause, trace, _ = shortest_kill(m.rules, current, "wp.reuse", fields, depth=3)
    assert clause == "pin-coherence" and [s["op"] for s in trace[1:]] == ["pin", "write", "dma_read"]
    outcome = judge(m, current, budget=15.0, seed=0, depth=4)
    assert outcome.status == "killed" and outcome.clause == "pin-coherence"
    assert outcome.steps > 0 and outcome.seconds is not None


def test_a_finding_the_preset_shares_is_no_kill():
    trace = json.loads((SCENARIOS / "hugetlb-pinned-fork.json").read_text())
    f = Finding("pin-coherence", "stale pin", {"ruleset": "v5.9", "steps": trace["steps"]})
    assert not counts_against(PRESETS["v5.9"])(f)    # v5.9's own bug
    assert counts_against(PRESETS["current"])(f)


def test_sample_spreads_and_bad_arguments_exit_2(capsys):
    assert sample(list(range(10)), 5) == [0, 2, 4, 6, 8]
    assert sample([1, 2], None) == [1, 2]
    with pytest.raises(SystemExit) as exc:
        parse_args(["--preset", "v9.99"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_the_summary_line_per_preset():
    s = Summary("v5.9", generated=107, equivalent=57, undecided=0, killed=40, counted=50,
                median=0.84, budget=10.0, depth=5, explain=6, killable=8)
    first, detail, survivors = s.lines()
    assert first == "mutants: killed 40 of 50 non-equivalent, median time to kill 0.84 s"
    assert "107 generated, 57 equivalent within depth 5, 0 undecided" in detail
    assert "killed 80%" in detail and "budget 10 s per mutant" in detail
    assert survivors == ("  survivors: 8 with a killing trace within depth 6 (the fuzzer's "
                         "misses), 2 without (only a differential search tells them apart)")
