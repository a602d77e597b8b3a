"""Text output: compact, checkpatch-like, one line per finding, then its trace; a
screen per patch.

    [1/4] mm: fork: stop checking pins (fixtures/patches/0001.patch)
      era current (mail of 6 Dec 2026: lands after v6.18, the newest release known here)
      coverage: 2 touched: 1 bound, 0 equivalent, 0 outside, 1 unmodelled (...)
      checked: ...
    mm/memory.c:42: ERROR: pin-coherence: ... [fork.anon_pte: !anon_exclusive -> share]
      patch: -	if (page_needs_cow_for_dma(src_vma, page)) (mail line 57)
      1. mmap mm=0 vpn=0 npages=1
      ...
      replay: mmreview check ... --patch 1 --replay .../0001-pin-coherence.json
      notes: 12 unmodelled, 1 reference-difference (-v lists them)
    coverage: 2 touched: ...
    total: 1 error, 0 warnings, 13 notes; 4 patches checked (seed 0, reference current)

Errors and warnings are shown whole. Notes, which do not fail the check, are one line
per kind per patch unless `verbose` (-v); input warnings likewise past the first few.
"""
from __future__ import annotations

from review.report import one_line, safe
from review.report.types import CheckFinding, CheckReport, PatchResult

LABEL = {"error": "ERROR", "warning": "WARNING", "note": "NOTE"}
INPUT_WARNINGS_SHOWN = 3    # per patch, unless verbose


def finding_lines(f: CheckFinding, *, verbose: bool = True) -> list[str]:
    where = f.where() or "-"
    head = f"{safe(where)}: {LABEL[f.severity]}: {f.id}: {one_line(f.message)}"
    if f.rule:
        head += f" [{one_line(f.rule)}]"
    lines = [head]
    if not verbose:
        return lines
    if f.patch_line or f.mail_line:
        at = f" (mail line {f.mail_line})" if f.mail_line else ""
        lines.append(f"  patch: {one_line(f.patch_line) or '(not shown in the hunks)'}{at}")
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


def claim_line(p: PatchResult) -> str:
    """`claims no functional change: "..." (verified: by truth tables over 16 contexts)`."""
    line = f"claims no functional change: \"{one_line(p.nfc_claim)}\""
    if p.nfc_verdict:
        verdict = f"{p.nfc_verdict}: {p.nfc_why}" if p.nfc_why else p.nfc_verdict
        line += f" ({one_line(verdict)})"
    return line


def _patch_lines(p: PatchResult, verbose: bool) -> list[str]:
    ref = p.patch
    src = f" ({safe(ref.source)})" if ref.source else ""
    label = f"({one_line(ref.label)}) " if ref.label else ""
    out = [f"[{ref.index}/{ref.total}] {label}{one_line(ref.subject)}{src}"]
    if p.era:
        out.append(f"  era {one_line(p.era)} ({one_line(p.era_why)})")
    if p.nfc_claim:
        out.append(f"  {claim_line(p)}")
    shown = p.warnings if verbose else p.warnings[:INPUT_WARNINGS_SHOWN]
    out += [f"  input warning: {one_line(w)}" for w in shown]
    if len(shown) < len(p.warnings):
        out.append(f"  input warnings: {len(p.warnings) - len(shown)} more (-v lists them)")
    if p.coverage:
        out.append(f"  coverage: {one_line(p.coverage)}")
    out += [f"  checked: {one_line(c)}" for c in p.checked]
    if p.skipped:
        out.append(f"  not fuzzed: {one_line(p.skipped)}")
    if p.error:
        out.append(f"  CHECK FAILED: {one_line(p.error)}")
    for f in p.findings:
        if verbose or f.fails:
            out.extend(finding_lines(f))
    if p.note_kinds() and not verbose:
        out.append(f"  notes: {one_line(p.notes_summary())} (-v lists them)")
    if not p.findings:
        out.append("  no findings")
    return out


def render(report: CheckReport, verbose: bool = False) -> str:
    out: list[str] = []
    for p in report.patches:
        out.extend(_patch_lines(p, verbose))
    c = report.counts()
    n = len(report.patches)
    if any(p.touched for p in report.patches):
        out.append(f"coverage: {report.coverage().line()}")
    for note in report.notes:
        out.append(f"note: {one_line(note)}")
    out.append(
        f"total: {_plural(c['error'], 'error')}, {_plural(c['warning'], 'warning')}, "
        f"{_plural(c['note'], 'note')}; {n} patch{'' if n == 1 else 'es'} checked"
        f" (seed {report.seed}, reference {report.reference})"
    )
    return "\n".join(out) + "\n"
