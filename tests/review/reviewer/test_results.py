"""Findings kept beside the drafts: back for the same patch, not for a changed one,
an unreadable file ignored."""
from __future__ import annotations

from review.inputs.load import load
from review.model import patch_key
from review.report.types import CheckFinding, PatchRef, PatchResult
from review.reviewer.results import FindingsStore
from tests.conftest import PIN_TRACE


def _finding() -> CheckFinding:
    return CheckFinding(id="pin-coherence", message="dma_read sees 1", severity="error",
                        file="include/linux/rmap.h", line=21, image="pre", trace=PIN_TRACE)


def test_findings_come_back_for_the_same_patch_only(demo_mbox, tmp_path):
    c = load(str(demo_mbox))
    patch, other = c.patches[1], c.patches[2]
    store = FindingsStore(tmp_path / "x.findings.json")
    result = PatchResult(PatchRef(2, 3, patch.title), [_finding()], checked=["invariants: 100 examples"])
    store.put(patch, [_finding()], result)
    store.put(other, [_finding()], None)                      # stopped: findings, no result
    findings, results = FindingsStore(tmp_path / "x.findings.json").restore(c.patches)
    (f,) = findings[patch_key(patch)]
    assert f.id == "pin-coherence" and f.trace == PIN_TRACE and f.line == 21
    assert results[patch_key(patch)].checked == ["invariants: 100 examples"]
    assert patch_key(other) in findings and patch_key(other) not in results
    patch.diff_text += "+changed\n"                            # another diff: nothing comes back
    findings, results = FindingsStore(tmp_path / "x.findings.json").restore(c.patches)
    assert patch_key(patch) not in findings


def test_an_unreadable_findings_file_is_ignored(demo_mbox, tmp_path):
    (tmp_path / "x.findings.json").write_text("{not json")
    assert FindingsStore(tmp_path / "x.findings.json").restore(load(str(demo_mbox)).patches) == ({}, {})
