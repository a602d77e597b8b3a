"""Output formats of `mmreview check` on a hand-built report (review/report/)."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from review.report.formats import render
from review.report.types import CheckFinding, CheckReport, PatchRef, PatchResult
from review.report import sarif as sarif_mod
from tests.conftest import PIN_STEPS, PIN_TRACE


def _report() -> CheckReport:
    bad = CheckFinding(
        severity="error", id="pin-coherence",
        message="pin p0 reads 1, process 0 reads 2 at vpn 0",
        file="mm/memory.c", line=42, mail_line=57, function="copy_present_pte",
        rule="fork.anon_pte: !anon_exclusive -> share", mode="invariants",
        trace=PIN_TRACE, trace_file="out/0001-pin-coherence.json",
        replay="mmreview check --replay out/0001-pin-coherence.json",
        steps=PIN_STEPS,
    )
    note = CheckFinding(severity="note", id="unmodelled", message="folio_test_foo unmodelled; explored both ways",
                   file="mm/memory.c", line=40, mode="extract")
    evil = CheckFinding(severity="warning", id="nfc-claim",
                   message="subject says \x1b[31mNFC\x1b[0m <b>&</b>", file="mm/gup.c", line=7,
                   mode="nfc", steps=["read(mm=1, vpn=0) -> 0 vs 1"])
    p1 = PatchResult(PatchRef(1, 3, "mm: fork: drop pin check", "a.patch"), [bad, note],
                     checked=["fork.anon_pte: 2 rules pre, 1 post"], modes=["invariants", "reference", "differential"])
    p2 = PatchResult(PatchRef(2, 3, "mm/gup: tidy \x07up (NFC)", "a.patch"), [evil],
                     nfc_claim="NFC", modes=["invariants", "reference", "differential", "nfc"])
    p3 = PatchResult(PatchRef(3, 3, "docs: typo", "a.patch"), [], skipped="no bound function touched",
                     warnings=["hunk @@ -4,7 +4,9 @@ counts -7 +9, but its body has -6 +7 lines"])
    return CheckReport([p1, p2, p3], seed=3, budget=5.0, max_examples=100, inputs=["a.patch"])


def test_exit_code_counts_errors_and_warnings_not_notes():
    r = _report()
    assert r.exit_code == 1
    assert r.counts() == {"error": 1, "warning": 1, "note": 1}
    r.patches[0].findings = [f for f in r.patches[0].findings if f.severity == "note"]
    r.patches[1].findings = []
    assert r.exit_code == 0


def test_text_is_compact_and_inert():
    out = render(_report(), "text")
    assert "mm/memory.c:42: ERROR: pin-coherence: pin p0 reads 1" in out
    assert "  replay: mmreview check --replay out/0001-pin-coherence.json" in out
    assert "  4. fork mm=0 child=1" in out
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[31mNFC" in out
    assert out.rstrip().endswith("3 patches checked (seed 3, reference current)")
    assert "  input warning: hunk @@ -4,7 +4,9 @@ counts -7 +9" in out


def test_json_round_trip():
    data = json.loads(render(_report(), "json"))
    assert data["exit_code"] == 1
    f = data["patches"][0]["findings"][0]
    assert (f["id"], f["file"], f["line"], f["severity"]) == ("pin-coherence", "mm/memory.c", 42, "error")
    assert f["trace"]["steps"][3] == {"op": "fork", "mm": 0, "child": 1}


def test_sarif_valid_against_official_schema(fixtures_dir):
    schema = json.loads((fixtures_dir / "sarif" / "sarif-schema-2.1.0.json").read_text())
    doc = json.loads(render(_report(), "sarif"))
    jsonschema.Draft4Validator(schema).validate(doc)
    run = doc["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert sorted(rules) == ["nfc-claim", "pin-coherence", "unmodelled"]  # one rule per id
    first = run["results"][0]
    assert first["level"] == "error" and first["ruleId"] == "pin-coherence"
    assert rules[first["ruleIndex"]] == "pin-coherence"
    region = first["locations"][0]["physicalLocation"]
    assert region["artifactLocation"]["uri"] == "mm/memory.c" and region["region"]["startLine"] == 42
    flow = first["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [loc["location"]["message"]["text"] for loc in flow][3] == "4. fork mm=0 child=1"


def test_sarif_schema_rejects_a_broken_document(fixtures_dir):
    """The schema check is real: a document missing `version` does not pass."""
    schema = json.loads((fixtures_dir / "sarif" / "sarif-schema-2.1.0.json").read_text())
    doc = json.loads(render(_report(), "sarif"))
    del doc["version"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(doc)


def test_sarif_puts_removed_lines_beside_the_post_image(fixtures_dir):
    """A finding at a removed line is shown on the analysed (post-image) file at the
    rule that decided instead; the removed line is a related location."""
    schema = json.loads((fixtures_dir / "sarif" / "sarif-schema-2.1.0.json").read_text())
    r = _report()
    f = r.patches[0].findings[0]
    f.image, f.line = "pre", 22
    f.related = [{"file": "mm/memory.c", "line": 45, "image": "post", "message": "decided instead: true -> share"}]
    doc = json.loads(render(r, "sarif"))
    jsonschema.Draft4Validator(schema).validate(doc)
    res = doc["runs"][0]["results"][0]
    assert res["locations"][0]["physicalLocation"]["region"]["startLine"] == 45
    rel = res["relatedLocations"]
    assert rel[0]["physicalLocation"]["region"]["startLine"] == 22 and "removed" in rel[0]["message"]["text"]


def test_sarif_respects_github_limits(monkeypatch):
    monkeypatch.setattr(sarif_mod, "MAX_RESULTS", 2)
    monkeypatch.setattr(sarif_mod, "MAX_FLOW_STEPS", 3)
    doc = sarif_mod.to_sarif(_report())
    run = doc["runs"][0]
    assert len(doc["runs"]) == 1 and len(run["results"]) == 2
    assert [r["level"] for r in run["results"]] == ["error", "warning"]  # notes dropped first
    assert len(run["results"][0]["codeFlows"][0]["threadFlows"][0]["locations"]) == 3
    for rule in run["tool"]["driver"]["rules"]:
        assert len(rule["properties"]["tags"]) <= 10


def test_junit_structure():
    root = ET.fromstring(render(_report(), "junit"))
    assert root.tag == "testsuites" and root.get("failures") == "2"
    suites = root.findall("testsuite")
    assert len(suites) == 3
    fails = [c for c in suites[0].findall("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in fails] == ["contract and invariants (post-image rules)"]
    assert fails[0].find("failure").get("type") == "pin-coherence"
    assert "unmodelled" in suites[0].find("system-out").text
    nfc = [c for c in suites[1].findall("testcase") if c.get("name") == "no-functional-change claim"]
    assert nfc and nfc[0].find("failure") is not None
    assert suites[2].find("testcase/skipped") is not None


def test_checkpatch_lines():
    lines = render(_report(), "checkpatch").splitlines()
    assert lines[0].startswith("-:57: ERROR: mmreview: pin-coherence: ")
    assert "(mm/memory.c:42)" in lines[0]
    assert lines[1].startswith("mm/gup.c:7: WARNING: mmreview: nfc-claim: ")
    assert len(lines) == 2  # notes are not printed: b4 would count them as warnings


def test_b4_json():
    data = json.loads(render(_report(), "b4"))
    assert [d["status"] for d in data] == ["fail", "warn", "pass"]
    assert set(data[0]) == {"tool", "status", "summary", "url", "details"}
    assert data[0]["summary"] == "1 error, 1 note"
    details = json.loads(data[0]["details"])
    assert details[0]["status"] == "fail" and details[0]["description"].startswith("mm/memory.c:42: pin-coherence")
    assert data[2]["summary"].startswith("not fuzzed")
