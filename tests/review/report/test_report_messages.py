"""What every format of a real check says (review/report/): no Python repr in any
message, every error and warning with its patch line and a trace that replays it, notes
folded one line per kind per patch unless verbose, a coverage line per patch and one
for the series."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from review.check import run as C
from review.report import one_line
from review.report.formats import FORMAT_NAMES, render
from review.report.types import CheckReport

ROOT = Path(__file__).resolve().parents[3]
# a dataclass's repr (`AssertionRule(primitive=...`, `Free(name=...`) or an object's
REPR = re.compile(r"\b[A-Z][a-z]\w*\(\w+=|\bFree\(name=|<[\w.]+ object at 0x[0-9a-f]+>")
RUNS = [  # (patches, tree)
    (sorted((ROOT / "fixtures" / "patches").glob("000[1-4]-*.patch")), ROOT / "fixtures" / "ctree"),
    ([ROOT / "fixtures" / "patches-v5.17" / n for n in ("inverted.patch", "unshare-anon-only.patch",
                                                        "move-anon-rmap.patch")],
     ROOT / "fixtures" / "ctree-v5.17"),
]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> CheckReport:
    """The fixture patches checked, as one report."""
    out = tmp_path_factory.mktemp("traces")
    patches = []
    for inputs, tree in RUNS:
        opts = C.Options(budget=1.0, max_examples=60, seed=0, out_dir=out, tree=str(tree),
                         replay_hint="mmreview check INPUT")
        got, _ = C.check([str(p) for p in inputs], opts)
        patches += got.patches
    return CheckReport(patches, seed=0, budget=1.0, max_examples=60)


def messages(text: str, fmt: str) -> list[str]:
    """Every piece of text a format carries, one string each."""
    if fmt in ("json", "sarif", "b4"):
        strings: list[str] = []

        def walk(x):
            if isinstance(x, str):
                strings.append(x)
                if x[:1] in "[{":
                    try:
                        walk(json.loads(x))   # b4's details are JSON in a string
                    except ValueError:
                        pass
            elif isinstance(x, dict):
                for v in x.values():
                    walk(v)
            elif isinstance(x, list):
                for v in x:
                    walk(v)
        walk(json.loads(text))
        return strings
    if fmt == "junit":
        root = ET.fromstring(text)
        return [t for e in root.iter() for t in [e.text or "", *e.attrib.values()] if t]
    return text.splitlines()


@pytest.mark.parametrize("verbose", [False, True])
@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_no_message_is_a_python_repr(report, fmt, verbose):
    found = [m for m in messages(render(report, fmt, verbose=verbose), fmt) if REPR.search(m)]
    assert not found, found[:3]


def test_the_repr_pattern_catches_what_it_is_for():
    assert REPR.search("assertion((AssertionRule(primitive='free_folio', condition=Free(name='x')")
    assert not REPR.search("VM_BUG_ON_PAGE(PageTail(page)) at free_folio (mm/page_alloc.c:1302)")
    assert not REPR.search("pin mm=0 vpn=0 write=false longterm=true id=r0")


def test_every_error_and_warning_cites_its_patch_line_and_replays(report):
    failing = [f for f in report.findings if f.fails]
    assert len(failing) >= 4
    for f in failing:
        assert f.file and f.line > 0 and f.patch_line[:1] in "+- ", f
        assert f.steps and f.trace_file and Path(f.trace_file).is_file()
        assert f.replay.endswith(f"--replay {f.trace_file}")
    text = render(report, "text")
    for f in failing:
        assert f"  patch: {one_line(f.patch_line)}" in text


def test_notes_are_one_line_per_kind_unless_verbose(report):
    text, verbose = render(report, "text"), render(report, "text", verbose=True)
    notes = report.counts()["note"]
    assert notes and " NOTE: " not in text and verbose.count(" NOTE: ") == notes
    for p in report.patches:
        if p.note_kinds():
            assert f"  notes: {p.notes_summary()} (-v lists them)" in text
            assert sum(p.note_kinds().values()) == p.counts()["note"]
    data = json.loads(render(report, "json"))
    assert sum(len([f for f in p["findings"] if f["severity"] == "note"]) for p in data["patches"]) == notes
    assert [p["notes_summary"] for p in data["patches"]] == [p.notes_summary() for p in report.patches]
    folded = json.loads(render(report, "b4"))
    listed = json.loads(render(report, "b4", verbose=True))
    for p, short, full in zip(report.patches, folded, listed):
        short, full = json.loads(short["details"]), json.loads(full["details"])
        summary = [d for d in short if d["description"].startswith("notes: ")]
        assert len(summary) == (1 if p.note_kinds() else 0)
        for f in p.findings:
            if not f.fails:
                line = f"{f.where()}: {f.id}: "
                assert any(d["description"].startswith(line) for d in full)
                assert not any(d["description"].startswith(line) for d in short)


def test_each_patch_has_its_coverage_line_and_the_series_a_total(report):
    text = render(report, "text")
    for p in report.patches:
        assert p.coverage and f"  coverage: {p.coverage}" in text
    total = report.coverage()
    assert len(total.touched) == sum(len(p.touched) for p in report.patches)
    assert f"coverage: {total.line()}" in text.splitlines()
    assert json.loads(render(report, "json"))["coverage"] == total.line()


def test_each_patch_says_its_era(report):
    text = render(report, "text")
    assert {p.era for p in report.patches} == {"current", "v5.18"}
    for p in report.patches:
        assert f"  era {p.era} ({p.era_why})" in text
