"""PatchRules as JSON and as text (what `mmreview extract` prints).

Text from patches (titles, file names, C condition text) is printed as data: every
line passes through review.terminal, so controls, escape sequences, bidi and
zero-width characters are shown escaped, never interpreted.
"""
from __future__ import annotations

from typing import Any

from spec import expr as E
from spec.decisions import AssertionRule, ExtractedDecision, Provenance
from review import terminal
from review.extract.rules import PatchRules


def provenance_json(p: Provenance | None) -> dict | None:
    if p is None:
        return None
    return {"file": p.file, "function": p.function, "line": p.line, "image": p.image,
            "hunk": p.hunk, "text": p.text}


def decision_json(d: ExtractedDecision) -> dict:
    return {"point": d.point, "default": d.default,
            "cases": [{"outcome": c.outcome, "guard": E.to_json(c.guard), "guard_text": str(c.guard),
                       "provenance": provenance_json(c.provenance)} for c in d.cases]}


def assertion_json(a: AssertionRule) -> dict:
    return {"primitive": a.primitive, "macro": a.macro, "condition": E.to_json(a.condition),
            "condition_text": str(a.condition), "provenance": provenance_json(a.provenance)}


def patch_json(pr: PatchRules) -> dict[str, Any]:
    return {
        "label": pr.label, "title": pr.title,
        "bound": pr.bound, "unbound": pr.unbound,
        "pre": {"decisions": [decision_json(d) for d in pr.pre.decisions],
                "assertions": [assertion_json(a) for a in pr.pre.assertions]},
        "post": {"decisions": [decision_json(d) for d in pr.post.decisions],
                 "assertions": [assertion_json(a) for a in pr.post.assertions]},
        "changed_points": pr.changed_points(),
        "comparisons": {point: {"verdict": c.verdict, "text": c.describe()}
                        for point, c in pr.comparisons().items()},
        "windows": [{"function": fn, "file": f, "first_line": a, "last_line": b, "image": im}
                    for fn, f, a, b, im in pr.windows],
        "unmodelled": [{"atom": a, "file": f, "line": ln, "image": im} for a, f, ln, im in pr.unmodelled],
        "partial": [{"function": fn, "file": f, "line": ln, "why": why} for fn, f, ln, why in pr.partial],
        "partial_decisions": [decision_json(d) for d in pr.partial_decisions],
        "coverage": {"line": pr.coverage.line(),
                     "touched": [{"file": t.file, "function": t.function, "class": t.cls, "reason": t.reason}
                                 for t in pr.coverage.touched]},
        "flag_aliases": [{"new": a.new, "old": a.old, "file": a.file, "line": a.line, "meaning": a.meaning,
                          "searched": a.searched, "summary": a.summary(),
                          "uses": [{"file": u.file, "line": u.line, "function": u.function, "text": u.text,
                                    "access": u.access, "verdict": u.verdict, "why": u.why} for u in a.uses]}
                         for a in pr.flag_aliases],
        "skipped_files": pr.skipped_files,
        "sources": [src.to_json() for src in pr.sources],
        "warnings": pr.warnings,
    }


def _where(p: Provenance | None) -> str:
    return f"{p.file}:{p.line}" if p else "?"


def patch_text(pr: PatchRules) -> list[str]:
    """The lines `mmreview extract` prints for one patch; every line passes through
    review.terminal, file names and C text included."""
    out = [f"[{pr.label}] {pr.title}"]
    if not pr.bound and not pr.unbound:
        out.append("  touches no C function")
    if pr.coverage.touched:
        out.append(f"  coverage {pr.coverage.line()}")
    for src in pr.told_sources():
        out.append(f"  source   {src.describe()}")
    for b in pr.bound:
        out.append(f"  bound    {b}")
    if pr.unbound:
        out.append(f"  unbound  {', '.join(pr.unbound)}")
    for which in ("pre", "post"):
        rules = pr.image(which)
        for d in rules.decisions:
            default = f" (otherwise {d.default})" if d.default else ""
            out.append(f"  {which:<4} decision {d.point}{default}")
            for c in d.cases:
                src = f": {c.provenance.text}" if c.provenance and c.provenance.text else ""
                out.append(f"         {c.outcome:<10} if {c.guard}   [{_where(c.provenance)}{src}]")
        for a in rules.assertions:
            p = a.provenance
            out.append(f"  {which:<4} assert   {a.primitive}: {a.macro}({p.text if p else ''})"
                       f" -> {a.condition}   [{_where(p)}]")
    for point, comparison in pr.comparisons().items():
        out.append(f"  compare  {point}: pre vs post {comparison.describe()}")
    for atom, f, ln, im in pr.unmodelled:
        out.append(f"  unmodelled {atom}   [{f}:{ln} {im}]")
    for alias in pr.flag_aliases:
        out.append(f"  alias    {alias.summary()}")
        for use in alias.of("can meet"):
            out.append(f"           can meet: {use.file}:{use.line} {use.function or '(file level)'}: {use.text}")
    for fn, f, first, last, im in pr.windows:
        out.append(f"  window   {fn} [{f}:{first}-{last}] {im}: read from the hunk; what it does not "
                   f"show is unmodelled")
    for fn, f, ln, why in pr.partial:
        out.append(f"  partial  {fn} [{f}:{ln}] {why}")
    for w in pr.warnings:
        out.append(f"  warning  {w}")
    return [terminal.escape(line, keep="\t\n") for line in out]
