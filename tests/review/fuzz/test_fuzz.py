"""The fuzzer finds the known historical bugs by itself, shrinks them, writes
replayable traces, and finds nothing on the reference. Runs are bounded (fixed seeds,
small max_examples, no example database unless the test is about it)."""
from __future__ import annotations

import json

from hypothesis.database import InMemoryExampleDatabase

from mmreview.cli import main
import review.fuzz.search as fuzz_search
from review.fuzz.search import search
from spec.errors import TraceError
from spec.presets import PRESETS
from spec.run import run_trace
from spec.trace import Step, parse_trace

BOUND = 600


def by_clause(findings):
    """clause -> its first finding (a clause may come with several variants)."""
    out = {}
    for f in findings:
        out.setdefault(f.id, f)
    return out


def variants(findings):
    return {(f.id, f.variant): f for f in findings}


def replays_to(f, clause):
    report = run_trace(parse_trace(f.trace), PRESETS[f.trace["ruleset"]])
    return clause in report.clauses


def test_v5_7_cve_2020_29374_found_shrunk_and_replayable():
    found = variants(search(PRESETS["v5.7"], seed=1, max_examples=BOUND, database=None))
    # a FOLL_GET reference sees what another process wrote after fork
    f = found[("no-foreign-data", "FOLL_GET sees process write")]
    assert len(f.trace["steps"]) <= 8
    assert replays_to(f, "no-foreign-data")
    ops = [s["op"] for s in f.trace["steps"]]
    assert {"write", "fork", "get"} <= set(ops) and ops[-1] == "dma_read"
    assert f.step == len(ops) - 1 and f.rulesets == ("v5.7",)
    assert "v5.7" in f.text() and "get mm=" in f.text()


def test_v5_9_ro_pin_incoherence_found():
    found = variants(search(PRESETS["v5.9"], seed=1, max_examples=1000, database=None))
    f = found[("pin-coherence", "R/O pin")]
    assert len(f.trace["steps"]) <= 8
    assert replays_to(f, "pin-coherence")
    pins = [s for s in f.trace["steps"] if s["op"] == "pin"]
    assert pins and not pins[0]["write"] and not pins[0]["longterm"]
    # the zero-page variant (fixed only in v6.2) is told apart, not merged
    assert ("pin-coherence", "R/O longterm pin of never-written memory") in found


def test_current_finds_nothing_in_a_bounded_run():
    assert search(PRESETS["current"], seed=2, max_examples=300, database=None) == []


def test_excluded_clause_is_not_reported_and_others_still_are():
    found = by_clause(search(PRESETS["v5.7"], seed=1, max_examples=BOUND, database=None,
                             exclude=("no-foreign-data",)))
    assert "no-foreign-data" not in found
    assert found, "v5.7 breaks more than one clause"


def test_one_variant_can_be_excluded():
    zero = "R/O longterm pin of never-written memory"
    found = variants(search(PRESETS["v5.19"], seed=1, max_examples=300, database=None))
    assert ("pin-coherence", zero) in found, "v5.19 has the bug v6.2 fixed"
    assert search(PRESETS["v5.19"], seed=1, max_examples=300, database=None,
                  exclude=(f"pin-coherence:{zero}",)) == []


def test_differential_reports_first_observable_difference_and_outcomes():
    found = by_clause(search(PRESETS["v5.7"], reference=PRESETS["current"], mode="differential",
                             seed=1, max_examples=BOUND, database=None))
    f = found["observable-difference"]
    assert f.rulesets == ("current", "v5.7") and f.mode == "differential"
    d = f.difference
    assert d["reference"] != d["patched"]
    # replaying on each side shows exactly that difference at that step
    t = parse_trace(f.trace)
    ref = run_trace(t, PRESETS["current"]).results[d["step"]]
    pat = run_trace(t, PRESETS["v5.7"]).results[d["step"]]
    assert (ref.status, ref.value) != (pat.status, pat.value)
    assert f.to_json()["difference"] == d
    # decisions that differ without (yet) a visible difference are their own finding
    o = found["outcome-difference"]
    assert o.outcome_differences and o.difference is None
    first = o.outcome_differences[0]
    assert first["reference"] != first["patched"]


def test_stop_and_progress_callbacks():
    seen = []
    out = search(PRESETS["v5.7"], seed=1, max_examples=BOUND, database=None,
                 should_stop=lambda: True, on_progress=seen.append)
    assert out == []
    seen = []
    search(PRESETS["current"], seed=1, max_examples=50, database=None, on_progress=seen.append)
    assert seen and seen[-1]["examples"] >= 50 and seen[-1]["seed"] == 1


def test_a_search_asked_to_stop_draws_no_further_example(monkeypatch):
    """Once the budget is spent or a stop is asked, each further example is turned away
    before it draws anything, so hypothesis ends the round at once instead of
    generating examples to turn away (a 0.05 s budget once ran for a second)."""
    draws = []
    real = fuzz_search.draw_seed
    monkeypatch.setattr(fuzz_search, "draw_seed", lambda data: draws.append(1) or real(data))
    search(PRESETS["current"], seed=1, max_examples=400, database=None,
           should_stop=lambda: len(draws) >= 3)
    assert len(draws) == 3


def test_findings_are_stored_in_the_example_database_and_replayed_first():
    db = InMemoryExampleDatabase()
    first = by_clause(search(PRESETS["v5.7"], seed=1, max_examples=BOUND, database=db))
    assert "no-foreign-data" in first
    assert list(db.data), "the shrunk example was saved"
    # a 1-example run finds it again from the database
    again = by_clause(search(PRESETS["v5.7"], seed=99, max_examples=1, database=db))
    assert "no-foreign-data" in again


def test_cli_writes_traces_and_exits_1(tmp_path, capsys):
    code = main(["fuzz", "--ruleset", "v5.7", "--seed", "1", "--max-examples", str(BOUND),
                 "--no-db", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "no-foreign-data [FOLL_GET sees process write] (contract) on v5.7" in out
    path = next(tmp_path.glob("no-foreign-data*.json"))
    trace = json.loads(path.read_text())
    assert "--seed 1" in trace["source"]
    assert main(["replay", str(path)]) == 1


def test_cli_clean_run_and_bad_usage(capsys):
    assert main(["fuzz", "--ruleset", "current", "--max-examples", "20", "--seed", "1",
                 "--no-db"]) == 0
    assert "0 finding(s) on current" in capsys.readouterr().out
    assert main(["fuzz", "--ruleset", "v5.19", "--max-examples", "200", "--seed", "1",
                 "--no-db", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [(f["clause"], f["variant"]) for f in doc["findings"]] == \
        [("pin-coherence", "R/O longterm pin of never-written memory")]
    assert doc["findings"][0]["trace"]["ruleset"] == "v5.19"
    assert main(["fuzz", "--ruleset", "v4.0", "--no-db"]) == 2
    assert "unknown rule set 'v4.0'" in capsys.readouterr().err
    assert main(["fuzz", "--exclude", "nope", "--no-db"]) == 2


def test_demo_shows_the_cve_and_its_fix(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "no-foreign-data [FOLL_GET sees process write] (contract) on v5.7" in out
    assert "The same trace on `current`: clean" in out


def test_trace_shrink_removes_what_hypothesis_left_and_renames():
    from review.fuzz.shrink import rename, shrink_steps
    from spec.trace import step

    noisy = [step("mmap", mm=0, vpn=0, npages=4, thp=True), step("write", mm=0, vpn=0, value=7),
             step("mmap", mm=0, vpn=4, npages=1), step("fork", mm=0, child=2),
             step("get", mm=2, vpn=0, id="g5"), step("write", mm=0, vpn=5, value=3),
             step("exit", mm=2), step("write", mm=0, vpn=0, value=9), step("dma_read", id="g5")]

    def reproduces(steps):
        try:
            rep = run_trace(parse_trace({"ruleset": "v5.7", "steps": [s.to_json() for s in steps]}))
        except TraceError:      # a deleted step that a later one needed
            return None
        hit = [v for v in rep.violations if v.id == "no-foreign-data"]
        return steps[:hit[0].step + 1] if hit else None

    assert reproduces(noisy)
    small = shrink_steps(noisy, reproduces)
    assert reproduces(small) and len(small) < len(noisy)
    assert all(not (s.op == "mmap" and s.args["thp"]) for s in small)   # THP not needed
    assert [s.op for s in small if s.op == "mmap"] == ["mmap"]          # nor the 2nd mapping
    ids = {s.args.get("id") for s in small} - {None}
    assert ids == {"g0"} and {s.args.get("child") for s in small} - {None} == {1}
    values = [s.args["value"] for s in small if "value" in s.args]
    assert values == list(range(1, len(values) + 1))
    assert rename(rename(small)) == rename(small)


def _search_in_fresh_interpreter(imports: str) -> str:
    """The traces a seeded search finds, from a new interpreter that first imports
    `imports` (what `mmreview check` or the TUI would have loaded)."""
    import subprocess
    import sys
    code = (
        f"{imports}\n"
        "import json\n"
        "from review.fuzz.search import search\n"
        "from spec.presets import PRESETS\n"
        "fs = search(PRESETS['v5.9'], seed=1, max_examples=400)\n"
        "print(json.dumps([f.trace for f in fs], sort_keys=True))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300)
    return out.stdout


def test_same_seed_same_findings_whatever_else_is_imported():
    # hypothesis draws literals from every imported local module; the search must not
    # depend on which of ours the entry point loaded (review/fuzz/determinism.py).
    bare = _search_in_fresh_interpreter("")
    loaded = _search_in_fresh_interpreter(
        "import mmreview.cli, review.check.run, review.extract.rules, review.verify.search, tui.app")
    assert json.loads(bare), "the v5.9 search found nothing to compare"
    assert bare == loaded


def test_introduced_mode_reports_only_what_the_reference_does_not_break():
    v59, current = PRESETS["v5.9"], PRESETS["current"]
    own = by_clause(search(v59, seed=1, max_examples=300, database=None))
    assert "pin-coherence" in own
    # against itself, a rule set brings in nothing: its own bugs are turned away trace by trace
    assert search(v59, reference=v59, mode="introduced", seed=1, max_examples=300,
                  database=None) == []
    # against a rule set without those bugs, they are all new; each trace replays
    # breaking the clause under the rule set and not under the reference
    found = search(v59, reference=current, mode="introduced", seed=1, max_examples=300,
                   database=None)
    assert "pin-coherence" in {f.id for f in found}
    for f in found:
        assert f.mode == "introduced" and f.rulesets == ("current", "v5.9")
        assert replays_to(f, f.id)
        assert f.id not in run_trace(parse_trace(f.trace), current).clauses


def test_introduced_mode_a_trace_the_reference_cannot_apply_excludes_nothing(monkeypatch):
    r = fuzz_search._Runner(PRESETS["v5.9"], PRESETS["v5.9"], "introduced", frozenset(), frozenset(),
                     {}, 0)
    r.run(Step("mmap", {"mm": 0, "vpn": 0, "npages": 1}))
    r.run(Step("write", {"mm": 0, "vpn": 0, "value": 1}))
    r.reference_broke.add("pin-coherence")
    assert r._reference_broke() == {"pin-coherence"} and r.reference_done == 2

    def refuse(step):
        raise TraceError("the reference cannot apply it", 2)
    monkeypatch.setattr(r.other, "step", refuse)
    r.steps.append(Step("read", {"mm": 0, "vpn": 0}))
    assert r._reference_broke() == set() and r.reference_lost


def test_cli_introduced_needs_against(capsys):
    assert main(["fuzz", "--ruleset", "v5.9", "--introduced", "--no-db"]) == 2
    assert "--introduced needs --against" in capsys.readouterr().err
    assert main(["fuzz", "--ruleset", "v5.9", "--against", "v5.9", "--introduced",
                 "--max-examples", "100", "--seed", "1", "--no-db"]) == 0
    assert "0 finding(s) on v5.9 vs v5.9" in capsys.readouterr().out


def test_one_trace_reports_every_clause_and_variant_it_breaks():
    """A search does not end a trace at its first failure: what the trace breaks later
    rides along with it, each with the trace up to its own step, instead of waiting
    for a round of its own."""
    r = fuzz_search._Runner(PRESETS["v5.9"], None, "invariants", frozenset(), frozenset(),
                            {}, 1)
    steps = [Step("mmap", {"mm": 0, "vpn": 0, "npages": 1, "thp": False}),
             Step("pin", {"mm": 0, "vpn": 0, "write": False, "longterm": True, "id": "p0"}),
             Step("write", {"mm": 0, "vpn": 0, "value": 1}),
             Step("dma_read", {"id": "p0"}),
             Step("mmap", {"mm": 0, "vpn": 4, "npages": 1, "thp": False, "prot": "r"}),
             Step("pin", {"mm": 0, "vpn": 4, "write": True, "longterm": False, "id": "p1",
                          "force": True}),
             Step("poke", {"mm": 0, "vpn": 4, "value": 2}),
             Step("dma_read", {"id": "p1"})]
    for s in steps:
        r.run(s)
    try:
        r.raise_first()
    except fuzz_search.ClauseViolated as exc:
        found = [exc.finding, *exc.also]
    else:
        raise AssertionError("the trace broke nothing")
    assert [(f.id, f.variant, len(f.trace["steps"])) for f in found] == [
        ("pin-coherence", "R/O longterm pin of never-written memory", 4),
        ("pin-coherence", "R/W pin", 8)]
