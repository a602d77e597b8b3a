"""PatchRules as JSON and as text (what `mmreview extract` prints).

Text from patches (titles, C condition text) is printed as data: control characters
and terminal escapes are replaced, never interpreted.
"""
from __future__ import annotations

import re
from typing import Any

from spec import expr as E
from spec.decisions import AssertionRule, ExtractedDecision, Provenance
from review.extract.rules import PatchRules

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(s: str) -> str:
    """`s` safe for a terminal: control characters (ESC included) shown as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", s)


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
        "unmodelled": [{"atom": a, "file": f, "line": ln, "image": im} for a, f, ln, im in pr.unmodelled],
        "partial": [{"function": fn, "file": f, "line": ln, "why": why} for fn, f, ln, why in pr.partial],
        "partial_decisions": [decision_json(d) for d in pr.partial_decisions],
        "skipped_files": pr.skipped_files,
        "warnings": pr.warnings,
    }


def _where(p: Provenance | None) -> str:
    return f"{p.file}:{p.line}" if p else "?"


def patch_text(pr: PatchRules) -> list[str]:
    out = [clean(f"[{pr.label}] {pr.title}")]
    if not pr.bound and not pr.unbound:
        out.append("  touches no C function")
    for b in pr.bound:
        out.append(f"  bound    {clean(b)}")
    if pr.unbound:
        out.append(f"  unbound  {clean(', '.join(pr.unbound))}")
    for which in ("pre", "post"):
        rules = pr.image(which)
        for d in rules.decisions:
            default = f" (otherwise {d.default})" if d.default else ""
            out.append(f"  {which:<4} decision {d.point}{default}")
            for c in d.cases:
                src = f": {clean(c.provenance.text)}" if c.provenance and c.provenance.text else ""
                out.append(f"         {c.outcome:<10} if {clean(str(c.guard))}   [{_where(c.provenance)}{src}]")
        for a in rules.assertions:
            p = a.provenance
            out.append(f"  {which:<4} assert   {a.primitive}: {a.macro}({clean(p.text if p else '')})"
                       f" -> {clean(str(a.condition))}   [{_where(p)}]")
    changed = pr.changed_points()
    if changed:
        out.append(f"  changed  {', '.join(changed)}")
    for atom, f, ln, im in pr.unmodelled:
        out.append(f"  unmodelled {clean(atom)}   [{f}:{ln} {im}]")
    for fn, f, ln, why in pr.partial:
        out.append(f"  partial  {clean(fn)} [{f}:{ln}] {clean(why)}")
    for w in pr.warnings:
        out.append(f"  warning  {clean(w)}")
    return out
