"""SARIF 2.1.0 output, for GitHub code scanning and other SARIF viewers.

One reportingDescriptor per finding id (clause ids and the check's own ids); each
result located at the patch's file and line (the post-image line, or the pre-image
line for removed code, relative to the repository root); the shrunk trace as a
codeFlow whose thread-flow locations are the steps. Validated against the OASIS
schema in tests/review/test_report_sarif.py (fixtures/sarif/).

GitHub code scanning's limits (docs.github.com, "SARIF results exceed limits"):
20 runs per file, 25,000 results and 25,000 rules per run, 1,000 locations and
10,000 thread-flow locations per result, 20 tags per rule. We write one run, a
handful of rules, one location per result and cap results and flow steps well
below those numbers (a shrunk trace has tens of steps, never thousands).
"""
from __future__ import annotations

import hashlib

from review import terminal
from review.finding_ids import FINDING_IDS
from review.report import one_line
from review.report.types import CheckFinding, CheckReport

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
MAX_RESULTS = 5000          # GitHub displays the top 5,000 of a run
MAX_FLOW_STEPS = 1000       # GitHub keeps the top 1,000 thread-flow locations
MAX_TAGS = 10               # GitHub keeps 10 of at most 20

_LEVEL = {"error": "error", "warning": "warning", "note": "note"}
# The rule's tag names how bad its findings are by default, in the words a code
# scanning filter shows: a broken contract, a broken invariant, or what the check notes.
_TAG = {"error": "contract", "warning": "invariant", "note": "check"}


def rule(fid: str) -> dict:
    """The reportingDescriptor of a finding id of review/finding_ids.py."""
    known = FINDING_IDS[fid]
    meaning, source = known.meaning, known.source
    return {
        "id": fid,
        "name": "".join(part.capitalize() for part in fid.replace("-", " ").split()),
        "shortDescription": {"text": one_line(meaning)[:1000]},
        "fullDescription": {"text": one_line(f"{meaning}. Source: {source}" if source else meaning)},
        "help": {"text": one_line(f"{fid}: {meaning}. Replay a finding with the command "
                                  "in its message; see docs/check.md.")},
        "defaultConfiguration": {"level": _LEVEL[known.severity]},
        "properties": {"tags": ["mm", "anon-memory", _TAG[known.severity]][:MAX_TAGS]},
    }


def _physical(file: str, line: int, message: str | None = None) -> dict:
    loc: dict = {"physicalLocation": {
        "artifactLocation": {"uri": file or "PATCH", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": max(1, line or 1)},
    }}
    if message:
        loc["message"] = {"text": message}
    return loc


def _primary(f: CheckFinding) -> tuple[str, int]:
    """Code scanning shows results on the analysed commit, the post-image: a finding
    that points at a removed line is shown at the post-image rule that decided
    instead, when there is one (the removed line goes to relatedLocations)."""
    if f.image == "pre":
        for r in f.related:
            if r.get("image") == "post":
                return r["file"], r["line"]
    return f.file, f.line


def _location(f: CheckFinding, message: str | None = None) -> dict:
    file, line = _primary(f)
    return _physical(file, line, message)


def _related(f: CheckFinding) -> list[dict]:
    out = []
    if f.image == "pre" and _primary(f) != (f.file, f.line):
        out.append(_physical(f.file, f.line,
                             f"removed by the patch (line {f.line} of the pre-image)"))
    for r in f.related:
        if (r.get("file"), r.get("line")) != _primary(f):
            out.append(_physical(r["file"], r["line"], one_line(r.get("message", ""))))
    for i, loc in enumerate(out):
        loc["id"] = i
    return out


def _fingerprint(f: CheckFinding, patch_subject: str) -> str:
    # Stable across runs with the same result: id, place, rule, patch; not the trace
    # (a different seed may shrink to a different but equivalent trace).
    key = "\0".join([f.id, f.file, str(f.line), f.rule, patch_subject])
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _result(f: CheckFinding, rule_index: int, patch_label: str, patch_subject: str) -> dict:
    text = f"{patch_label}: {f.id}: {one_line(f.message)}"
    if f.rule:
        text += f" [{one_line(f.rule)}]"
    if f.replay:
        text += f" Replay: {one_line(f.replay)}"
    result: dict = {
        "ruleId": f.id,
        "ruleIndex": rule_index,
        "level": _LEVEL[f.severity],
        "message": {"text": text},
        "locations": [_location(f)],
        "relatedLocations": _related(f),
        "partialFingerprints": {"mmreviewFinding/v1": _fingerprint(f, patch_subject)},
        "properties": {"mode": f.mode, "patch": patch_label, "image": f.image,
                       "patch_line": f.patch_line},
    }
    if f.steps:
        steps = f.steps[:MAX_FLOW_STEPS]
        result["codeFlows"] = [{
            "message": {"text": f"replay trace ({len(f.steps)} steps)"},
            "threadFlows": [{
                "locations": [
                    {"location": _location(f, f"{i}. {one_line(s)}"), "executionOrder": i}
                    for i, s in enumerate(steps, 1)
                ],
            }],
        }]
    if f.trace_file:
        result["properties"]["trace_file"] = f.trace_file
    return result


def to_sarif(report: CheckReport) -> dict:
    ids: list[str] = []
    for f in report.findings:
        if f.id not in ids:
            ids.append(f.id)
    index = {fid: i for i, fid in enumerate(ids)}
    results = []
    for p in report.patches:
        label = f"[{p.patch.index}/{p.patch.total}] {one_line(p.patch.subject)}"
        for f in p.findings:
            results.append(_result(f, index[f.id], label, p.patch.subject))
    # errors first, so the cap drops notes before anything that fails the check
    order = {"error": 0, "warning": 1, "note": 2}
    results.sort(key=lambda r: order[r["level"]])
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "mmreview",
                "semanticVersion": report.tool_version or "0.1.0",
                "rules": [rule(fid) for fid in ids],
            }},
            "automationDetails": {"id": "mmreview-check/"},
            "results": results[:MAX_RESULTS],
            "properties": {"seed": report.seed, "reference": report.reference,
                           "budget": report.budget},
        }],
    }


def render(report: CheckReport, verbose: bool = False) -> str:
    """Every note is a result, whatever `verbose`: code scanning filters by level."""
    return terminal.json_dumps(to_sarif(report), indent=2, ensure_ascii=True) + "\n"
