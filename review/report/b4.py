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
from review.report.text import claim_line
from review.report.types import CheckReport, PatchResult

TOOL = "mmreview"
_STATUS = {"error": "fail", "warning": "warn", "note": "pass"}


def _details(p: PatchResult, verbose: bool) -> list[dict]:
    """One {status, description} per error and warning (and note, when verbose), then
    the summary of the notes, the era, the claim's verdict, the coverage and what was
    checked."""
    details = []
    for f in p.findings:
        if not (verbose or f.fails):
            continue
        where = f"{f.where()}: " if f.where() else ""
        desc = f"{where}{f.id}: {one_line(f.message)}"
        if f.rule:
            desc += f" [{one_line(f.rule)}]"
        if f.replay:
            desc += f" replay: {one_line(f.replay)}"
        details.append({"status": _STATUS[f.severity], "description": desc})
    lines = []
    if p.note_kinds() and not verbose:
        lines.append(f"notes: {p.notes_summary()} (-v lists them)")
    if p.era:
        lines.append(f"era {p.era} ({p.era_why})")
    if p.nfc_claim:
        lines.append(claim_line(p))
    if p.coverage:
        lines.append(f"coverage: {p.coverage}")
    lines += [f"checked: {c}" for c in p.checked]
    return details + [{"status": "pass", "description": one_line(line)} for line in lines]


def entry(p: PatchResult, verbose: bool = False) -> dict:
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
    return {"tool": TOOL, "status": status, "summary": summary, "url": "",
            "details": json.dumps(_details(p, verbose))}


def render(report: CheckReport, verbose: bool = False) -> str:
    return terminal.json_dumps([entry(p, verbose) for p in report.patches], indent=1,
                               ensure_ascii=True) + "\n"
