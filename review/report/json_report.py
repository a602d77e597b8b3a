"""JSON output: the whole report, stable keys (documented in docs/check.md). Every
note is kept (JSON is for machines); `notes_summary` is the line the text report
shows in their place."""
from __future__ import annotations

from review import terminal
from review.report.types import CheckReport

SCHEMA_VERSION = 1


def to_json(report: CheckReport) -> dict:
    return {
        "version": SCHEMA_VERSION,
        "tool": "mmreview check",
        "tool_version": report.tool_version,
        "seed": report.seed,
        "budget": report.budget,
        "max_examples": report.max_examples,
        "reference": report.reference,
        "inputs": list(report.inputs),
        "notes": list(report.notes),
        "exit_code": report.exit_code,
        "counts": report.counts(),
        "coverage": report.coverage().line() if any(p.touched for p in report.patches) else "",
        "patches": [
            {
                "index": p.patch.index, "total": p.patch.total,
                "subject": p.patch.subject, "source": p.patch.source,
                "msgid": p.patch.msgid, "commit": p.patch.commit, "label": p.patch.label,
                "era": p.era, "era_why": p.era_why,
                "nfc_claim": p.nfc_claim, "nfc_verdict": p.nfc_verdict, "nfc_why": p.nfc_why,
                "coverage": p.coverage, "touched": list(p.touched),
                "notes_summary": p.notes_summary(), "checked": list(p.checked),
                "skipped": p.skipped, "error": p.error, "warnings": list(p.warnings), "examples": p.examples,
                "seconds": round(p.seconds, 3),
                "findings": [f.to_json() for f in p.findings],
            }
            for p in report.patches
        ],
    }


def render(report: CheckReport, verbose: bool = False) -> str:
    # ensure_ascii and review.terminal keep mail text inert on any terminal
    return terminal.json_dumps(to_json(report), indent=2, ensure_ascii=True) + "\n"
