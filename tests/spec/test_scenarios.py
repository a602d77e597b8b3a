"""The scenario library (fixtures/scenarios/*.json): every scenario gives the verdict
its header expects on every preset, like the LKMM litmus tests' `Result:` lines."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from spec.errors import TraceError
from spec.presets import PRESETS
from spec.run import Session, run_trace
from spec.trace import parse_trace, step

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "scenarios").glob("*.json"))


# Scenarios whose expected verdict (the real kernel's) the kernel model does not give
# yet, by (scenario, preset), with the reason. strict: when the model is fixed the
# test fails as XPASS, and the entry must go.
MODEL_GAPS: dict[tuple[str, str], str] = {
    # (scenario, preset) -> why the model cannot give the expected verdict yet (strict
    # xfail). Closed: thp-cow-after-partial-unmap (DecisionContext.thp_mapcount for
    # reuse_swap_page) and wipeonfork-part-of-thp (thp_eligible needs one VMA).
}


# how docs/scenarios.md abbreviates clause ids in its table
ABBREV = {"no-foreign-data": "foreign", "pin-coherence": "pin", "isolation": "isol",
          "no-loss": "loss"}


def load(path: Path):
    return parse_trace(json.loads(path.read_text()))


def test_library_is_there():
    assert len(SCENARIOS) >= 8


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_header(path):
    t = load(path)
    assert t.header["name"] == path.stem
    assert t.header["about"] and t.header["source"]
    assert set(t.header["expect"]) == set(PRESETS), "a verdict for every preset"


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_verdict(path, preset, request):
    gap = MODEL_GAPS.get((path.stem, preset))
    if gap:
        request.applymarker(pytest.mark.xfail(reason=gap, strict=True))
    t = load(path)
    report = run_trace(t, PRESETS[preset])
    got = sorted(report.clauses)
    want = sorted(t.header["expect"][preset])
    assert got == want, "\n".join(f"step {v.step}: {v.id}: {v.message}" for v in report.violations)


def test_reference_satisfies_every_scenario():
    for path in SCENARIOS:
        expect = load(path).header["expect"]
        assert expect["current"] == [], f"{path.stem}: the reference must satisfy it"


def test_docs_table_says_what_the_files_say():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "scenarios.md").read_text()
    rows = {}
    for line in doc.splitlines():
        if line.startswith("| ["):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0].split("]")[0][1:]] = cells[1:]
    assert set(rows) == {p.stem for p in SCENARIOS}
    for path in SCENARIOS:
        expect = load(path).header["expect"]
        want = [", ".join(ABBREV.get(c, c) for c in sorted(expect[p])) or "-" for p in PRESETS]
        got = [c.rstrip(" *") for c in rows[path.stem]]
        assert got == want, path.stem


def test_session_steps_clone_and_step_errors():
    s = Session(PRESETS["v5.7"])
    for st in (step("mmap", mm=0, vpn=0, npages=1), step("write", mm=0, vpn=0, value=1),
               step("fork", mm=0, child=1), step("get", mm=1, vpn=0, id="g"),
               step("exit", mm=1)):
        s.step(st)
    c = s.clone()
    r, vs = s.step(step("write", mm=0, vpn=0, value=2))
    assert s.outcomes == [("wp.reuse", "reuse")]       # the mapcount-era decision
    r, vs = s.step(step("dma_read", id="g"))
    assert (r.value, [v.id for v in vs]) == (2, ["no-foreign-data"])
    # the clone went on independently: its reference still sees the child's data
    r, vs = c.step(step("dma_read", id="g"))
    assert (r.value, vs) == (1, [])
    with pytest.raises(TraceError) as exc:
        c.step(step("dma_read", id="nope"))
    assert exc.value.step == 6


def test_report_json_and_per_step_outcomes():
    t = load(next(p for p in SCENARIOS if p.stem == "rw-pin-fork-parent-write"))
    rep = run_trace(t, PRESETS["v5.8"])
    doc = rep.to_json()
    assert [v["id"] for v in doc["violations"]] == ["pin-coherence", "isolation"]
    assert len(doc["results"]) == len(t.steps) == len(rep.outcomes)
    assert ("fork.anon_pte", "share") in rep.outcomes[3]
    assert ("fork.anon_pte", "copy") in run_trace(t, PRESETS["current"]).outcomes[3]
