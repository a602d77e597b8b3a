"""b4's external check-command format, for `b4.review-perpatch-check-cmd`.

b4 (b4/review/checks.py, `_run_external_cmd`) feeds one patch mail on stdin, runs the
command in the repository's top directory and reads a JSON list of
{tool, status: pass|warn|fail, summary, url, details}; `details` is shown in b4's
check-details view, which renders a JSON list of {status, description} entries as one
line each (the shape b4's own checkpatch and patchwork checks use).
"""
from __future__ import annotations

import json

from review import terminal
from review.report import one_line
from review.report.types import CheckReport, PatchResult

TOOL = "mmreview"
_STATUS = {"error": "fail", "warning": "warn", "note": "pass"}


def entry(p: PatchResult) -> dict:
    counts = p.counts()
    if counts["error"]:
        status = "fail"
    elif counts["warning"]:
        status = "warn"
    else:
        status = "pass"  # notes are informational
    parts = [f"{counts[s]} {s}{'' if counts[s] == 1 else 's'}"
             for s in ("error", "warning", "note") if counts[s]]
    summary = ", ".join(parts) if parts else "no findings"
    if p.error:
        status, summary = "fail", f"check failed: {one_line(p.error)}"
    elif p.skipped and not p.findings:
        summary = f"not fuzzed: {one_line(p.skipped)}"
    details = []
    for f in p.findings:
        where = f"{f.where()}: " if f.where() else ""
        desc = f"{where}{f.id}: {one_line(f.message)}"
        if f.rule:
            desc += f" [{one_line(f.rule)}]"
        if f.replay:
            desc += f" replay: {one_line(f.replay)}"
        details.append({"status": _STATUS[f.severity], "description": desc})
    for c in p.checked:
        details.append({"status": "pass", "description": f"checked: {one_line(c)}"})
    return {"tool": TOOL, "status": status, "summary": summary, "url": "",
            "details": json.dumps(details)}


def render(report: CheckReport) -> str:
    return terminal.json_dumps([entry(p) for p in report.patches], indent=1, ensure_ascii=True) + "\n"
