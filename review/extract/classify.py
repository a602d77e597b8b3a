"""Every function a patch touches, in exactly one coverage class (review/extract/coverage.py).

In this order, the first that holds:
  bound        a binding maps it to the spec (review/extract/bindings.py), a bound
               function of the patch inlines it (its rules are checked there), or the
               vocabulary reads it as a context field (review/extract/vocab.py);
  equivalent   its two versions are the same code once wrappers, renames and constant
               arguments are followed (review/extract/plumbing.py);
  outside      it lies in a part of the kernel the model leaves out, or the patch only
               changes its locking, statistics or debugging (review/extract/areas.py);
  unmodelled   the rest, with what the spec lacks when the area says it; "not
               compared" when a function it calls is read from the mail because its
               hunk did not apply (the equivalence could not be tried: a patch it
               needs is missing from the input); else "no binding to the spec".
"""
from __future__ import annotations

from dataclasses import dataclass, field

from review.extract import cparse, plumbing
from review.extract.areas import area_of, change_kind
from review.extract.coverage import Coverage, Touched
from review.extract.cparse import CFunction
from review.extract.plumbing import Lookup
from review.extract.vocab import CALLS


@dataclass
class Candidate:
    file: str
    name: str
    pre: CFunction | None = None
    post: CFunction | None = None
    changed: list[str] = field(default_factory=list)  # its changed code lines, both sides


@dataclass
class Evidence:
    """What extraction learnt that the classes rest on."""
    bound: dict[str, str]                 # "file:function" -> its decision points/primitives
    inlined_by: dict[str, tuple[str, str]]  # callee -> (bound caller, the caller's roles)
    pre_lookup: Lookup
    post_lookup: Lookup
    renames: dict[str, str]               # post name -> pre name
    called_by: dict[str, str] = field(default_factory=dict)  # callee -> a bound caller
    # function -> its file, for functions a hunk changes that did not apply to the
    # image (a patch it needs is not in the input): read from the mail, in part
    from_mail: dict[str, str] = field(default_factory=dict)


def classify(candidates: list[Candidate], ev: Evidence) -> Coverage:
    return Coverage([_one(c, ev) for c in candidates])


def _one(c: Candidate, ev: Evidence) -> Touched:
    key = f"{c.file}:{c.name}"
    if key in ev.bound:
        return Touched(c.file, c.name, "bound", ev.bound[key])
    if c.name in ev.inlined_by:
        caller, roles = ev.inlined_by[c.name]
        return Touched(c.file, c.name, "bound", f"through {caller}() ({roles})")
    if c.name in CALLS:   # the vocabulary reads it as a context field wherever it is called
        return Touched(c.file, c.name, "bound", f"vocabulary: {CALLS[c.name].expr}")
    same = _equivalent(c, ev)
    if same:
        return Touched(c.file, c.name, "equivalent", same)
    area = area_of(c.file, c.name)
    if area is not None:
        return Touched(c.file, c.name, area.cls, area.reason)
    kind = change_kind(c.changed)
    if kind is not None:
        return Touched(c.file, c.name, "outside", kind)
    missing = _callee_from_mail(c, ev)
    if missing:
        return Touched(c.file, c.name, "unmodelled", missing)
    if c.name in ev.called_by:
        return Touched(c.file, c.name, "unmodelled",
                       f"a callee of {ev.called_by[c.name]}() not seen whole")
    return Touched(c.file, c.name, "unmodelled", "no binding to the spec")


def _callee_from_mail(c: Candidate, ev: Evidence) -> str:
    """Why plumbing equivalence could not be tried: a function it calls is read from
    the mail because a hunk of it did not apply (a prerequisite patch is missing)."""
    calls: set[str] = set()
    for fn in (c.pre, c.post):
        if fn is not None:
            calls |= cparse.called_names(fn.body)
    hidden = sorted(n for n in calls if n in ev.from_mail and n != c.name)
    if not hidden:
        return ""
    return f"not compared: {hidden[0]}() is read from the mail, a patch it needs is missing"


def _equivalent(c: Candidate, ev: Evidence) -> str:
    if c.pre is not None and c.post is not None:
        if plumbing.same_code(c.pre, c.post, ev.pre_lookup, ev.post_lookup, ev.renames):
            return "the same code once wrappers, renames and constant arguments are followed"
        return ""
    if c.post is None and c.name in ev.renames.values():
        new = next(n for n, old in ev.renames.items() if old == c.name)
        return f"renamed {new}()"
    if c.pre is None and c.name in ev.renames:
        return f"{ev.renames[c.name]}() renamed"
    return ""
