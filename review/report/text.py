"""Text output: compact, checkpatch-like, one line per finding, then its trace.

    [1/4] mm: fork: stop checking pins (fixtures/patches/0001.patch)
      checked: ...
    mm/memory.c:42: ERROR: pin-coherence: ... [fork.anon_pte: !anon_exclusive -> share]
      1. mmap(mm=1, vpn=0, npages=1)
      ...
      replay: mmreview check --replay .mmreview/check/0001-pin-coherence.json
    total: 1 error, 0 warnings, 0 notes; 4 patches checked (seed 0)
"""
from __future__ import annotations

from review.report import one_line, safe
from review.report.types import CheckFinding, CheckReport

LABEL = {"error": "ERROR", "warning": "WARNING", "note": "NOTE"}


def finding_lines(f: CheckFinding, *, verbose: bool = True) -> list[str]:
    where = f.where() or "-"
    head = f"{safe(where)}: {LABEL[f.severity]}: {f.id}: {one_line(f.message)}"
    if f.rule:
        head += f" [{one_line(f.rule)}]"
    lines = [head]
    if not verbose:
        return lines
    for d in f.detail.splitlines():
        lines.append(f"  {one_line(d)}")
    return lines + trace_lines(f)


def trace_lines(f: CheckFinding) -> list[str]:
    """A finding's steps, numbered, and the command that replays it."""
    lines = [f"  {i}. {one_line(s)}" for i, s in enumerate(f.steps, 1)]
    if f.replay:
        lines.append(f"  replay: {one_line(f.replay)}")
    return lines


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def render(report: CheckReport) -> str:
    out: list[str] = []
    for p in report.patches:
        ref = p.patch
        src = f" ({safe(ref.source)})" if ref.source else ""
        label = f"({one_line(ref.label)}) " if ref.label else ""
        out.append(f"[{ref.index}/{ref.total}] {label}{one_line(ref.subject)}{src}")
        if p.nfc_claim:
            out.append(f"  claims no functional change: \"{one_line(p.nfc_claim)}\"")
        for w in p.warnings:
            out.append(f"  input warning: {one_line(w)}")
        for c in p.checked:
            out.append(f"  checked: {one_line(c)}")
        if p.skipped:
            out.append(f"  not fuzzed: {one_line(p.skipped)}")
        if p.error:
            out.append(f"  CHECK FAILED: {one_line(p.error)}")
        for f in p.findings:
            out.extend(finding_lines(f))
        if not p.findings:
            out.append("  no findings")
    for note in report.notes:
        out.append(f"note: {one_line(note)}")
    c = report.counts()
    n = len(report.patches)
    out.append(
        f"total: {_plural(c['error'], 'error')}, {_plural(c['warning'], 'warning')}, "
        f"{_plural(c['note'], 'note')}; {n} patch{'' if n == 1 else 'es'} checked"
        f" (seed {report.seed}, reference {report.reference})"
    )
    return "\n".join(out) + "\n"
