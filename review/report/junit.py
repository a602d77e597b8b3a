"""JUnit XML output, for GitLab's `artifacts:reports:junit` and other CI viewers.

One <testsuite> per patch; inside it one <testcase> per kind of check that ran
(contract and invariants, against the reference, pre vs post, the no-functional-
change claim); a testcase fails when an error or warning finding of its kind exists,
with every such finding (and its replay trace) in the failure text. Notes go to
<system-out>, one line per kind unless verbose: informational, like checkpatch's
CHECK lines, they do not fail.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from review.report import safe
from review.report.text import claim_line, finding_lines
from review.report.types import CheckReport, PatchResult

# mode -> testcase name; findings of other modes (extract) are notes.
CASES = (
    ("invariants", "contract and invariants (post-image rules)"),
    ("reference", "post-image rules vs reference"),
    ("differential", "pre-image vs post-image rules"),
    ("nfc", "no-functional-change claim"),
)


def _xml_text(text: str) -> str:
    # XML 1.0 forbids most control characters even as entities: safe() escapes them.
    return safe(text)


def _suite(p: PatchResult, parent: ET.Element, verbose: bool) -> tuple[int, int]:
    name = f"[{p.patch.index}/{p.patch.total}] {p.patch.subject}"
    suite = ET.SubElement(parent, "testsuite", name=_xml_text(" ".join(name.split())))
    ran = {f.mode for f in p.findings} | set(p.modes)
    tests = failures = 0
    classname = f"mmreview.check.patch{p.patch.index:04d}"
    for mode, title in CASES:
        if mode == "nfc" and not p.nfc_claim:
            continue
        if p.skipped and mode not in ran:
            continue
        tests += 1
        case = ET.SubElement(suite, "testcase", classname=classname, name=title,
                             time=f"{p.seconds / max(1, len(CASES)):.3f}")
        failing = [f for f in p.findings if f.mode == mode and f.fails]
        if failing:
            failures += 1
            first = failing[0]
            fail = ET.SubElement(case, "failure", type=first.id,
                                 message=_xml_text(f"{first.where()}: {first.id}: {first.message}"))
            fail.text = _xml_text("\n".join(line for f in failing for line in finding_lines(f)))
    notes = [f for f in p.findings if not f.fails]
    extra = [f"era {p.era} ({p.era_why})"] if p.era else []
    extra += [claim_line(p)] if p.nfc_claim else []
    extra += [f"coverage: {p.coverage}"] if p.coverage else []
    extra += [f"checked: {c}" for c in p.checked]
    if p.skipped:
        extra.append(f"not fuzzed: {p.skipped}")
    if verbose:
        extra += [line for f in notes for line in finding_lines(f)]
    elif notes:
        extra.append(f"notes: {p.notes_summary()} (-v lists them)")
    if p.error:
        tests += 1
        case = ET.SubElement(suite, "testcase", classname=classname, name="check ran to the end")
        err = ET.SubElement(case, "error", type="internal", message=_xml_text(p.error))
        err.text = _xml_text(p.error)
    if tests == 0:
        # A patch with nothing to fuzz is still listed, as a skipped case.
        tests = 1
        case = ET.SubElement(suite, "testcase", classname=classname, name="rule extraction")
        ET.SubElement(case, "skipped", message=_xml_text(p.skipped or "nothing to check"))
    if extra:
        out = ET.SubElement(suite, "system-out")
        out.text = _xml_text("\n".join(extra))
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", "1" if p.error else "0")
    suite.set("time", f"{p.seconds:.3f}")
    return tests, failures


def render(report: CheckReport, verbose: bool = False) -> str:
    root = ET.Element("testsuites", name="mmreview check")
    tests = failures = 0
    for p in report.patches:
        t, f = _suite(p, root, verbose)
        tests += t
        failures += f
    root.set("tests", str(tests))
    root.set("failures", str(failures))
    root.set("errors", str(sum(1 for p in report.patches if p.error)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
