"""The real thread (../shared/corpus): checked to completion, with a per-patch
account of what was checked and found. Small budget: this is about completeness and
the explanations, not about search depth."""
from __future__ import annotations

import pytest

from review.check import run as C
from review.report.formats import render


@pytest.fixture(scope="module")
def corpus_report(tmp_path_factory):
    from tests.conftest import CORPUS
    mbox = CORPUS / "cow-fixes-part2-v1.mbox"
    if not mbox.is_file():
        pytest.skip("../shared/corpus is not present")
    opts = C.Options(budget=0.6, max_examples=40, seed=0, out_dir=tmp_path_factory.mktemp("t"),
                     replay_hint=f"mmreview check {mbox}")
    report, _ = C.check([str(mbox)], opts)
    return report


def test_real_thread_checked_to_completion(corpus_report):
    patches = corpus_report.patches
    assert [p.patch.label for p in patches] == [f"v1 {n:02d}/15" for n in (1, 2, 3, 6, 7, 9, 10, 12, 14)]
    for p in patches:
        # every patch says what was checked, or why it was not fuzzed
        assert p.checked or p.skipped, p.patch.label
    by = {p.patch.label: p for p in patches}
    ten = by["v1 10/15"]
    assert any("SetPageAnonExclusive" in c for c in ten.checked)
    assert any("contract and invariants" in c for c in ten.checked)
    unmodelled = [f for f in ten.findings if f.id == "unmodelled"]
    assert unmodelled and all(f.file in ("include/linux/page-flags.h", "mm/page_alloc.c")
                              and f.line > 0 and "explored both ways" in f.message
                              for f in unmodelled)
    assert any("unmodelled atoms" in c and "valuations" in c for c in ten.checked)
    fourteen = by["v1 14/15"]
    assert any("gup.unshare" in c for c in fourteen.checked)
    assert any("pre- vs post-image" in c or "pre/post" in c for c in fourteen.checked)
    partial = by["v1 03/15"]
    assert not partial.skipped  # read from its hunks, not dropped as partial
    assert partial.nfc_claim == "No functional change intended"


def test_real_thread_text_report_explains_each_patch(corpus_report):
    out = render(corpus_report, "text")
    heads = [l for l in out.splitlines() if l.startswith("[")]
    assert len(heads) == 9 and heads[6].startswith("[7/9] (v1 10/15) mm/page-flags")
    assert "claims no functional change" in out
    assert out.rstrip().splitlines()[-1].startswith("total: ")


def test_real_thread_sarif_and_junit_are_valid(corpus_report, fixtures_dir):
    """Every output format of a real run: SARIF against the OASIS schema, JUnit as XML,
    b4 and JSON as JSON."""
    import json
    import xml.etree.ElementTree as ET

    import jsonschema
    schema = json.loads((fixtures_dir / "sarif" / "sarif-schema-2.1.0.json").read_text())
    doc = json.loads(render(corpus_report, "sarif"))
    jsonschema.Draft4Validator(schema).validate(doc)
    results = doc["runs"][0]["results"]
    assert len(results) == len(corpus_report.findings)
    assert all(r["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1 for r in results)
    root = ET.fromstring(render(corpus_report, "junit"))
    assert len(root.findall("testsuite")) == 9
    b4 = json.loads(render(corpus_report, "b4"))
    assert len(b4) == 9 and {e["status"] for e in b4} <= {"pass", "warn", "fail"}
    assert json.loads(render(corpus_report, "json"))["exit_code"] == corpus_report.exit_code
