"""Where a check finding points in its patch: the extracted rule it implicates, as a
reviewer reads it, that rule's file and line (or the patch's first changed line when
no rule decided the trace), and that line in the mail as given (checkpatch's -:N:)."""
from __future__ import annotations

from spec.decisions import AssertionRule, GuardedOutcome

from review.extract.rules import PatchRules
from review.report import locate
from review.report.types import CheckFinding


def rule_text(rule, point: str = "") -> str:
    """A rule as a reviewer reads it:
    `fork.anon_pte: anon_exclusive && maybe_pinned -> copy (at `return -EBUSY;`)`."""
    prov = getattr(rule, "provenance", None)
    at = f" (at `{' '.join(prov.text.split())}`)" if prov is not None and prov.text else ""
    if isinstance(rule, GuardedOutcome):
        return f"{point + ': ' if point else ''}{rule.guard} -> {rule.outcome}{at}"
    if isinstance(rule, AssertionRule):
        return f"{rule.primitive}: {rule.macro}({rule.condition}){at}"
    return str(rule)


def rule_place(rule) -> str:
    """`mm/memory.c:42 (post-image)`."""
    prov = getattr(rule, "provenance", None)
    return f"{prov.file}:{prov.line} ({prov.image}-image)" if prov is not None else "?"


def point_of(rule, rules: PatchRules) -> str:
    """The decision point of an extracted case ("" for an assertion)."""
    for img in (rules.post, rules.pre):
        for d in img.decisions:
            if any(c is rule for c in d.cases):
                return d.point
    return ""


def changed_lines(patch) -> tuple[dict[str, set[int]], dict[str, set[int]]]:
    """{file: added post-image lines}, {file: removed pre-image lines}."""
    added: dict[str, set[int]] = {}
    removed: dict[str, set[int]] = {}
    for fd in getattr(patch, "files", []):
        for h in fd.hunks:
            for ln in h.lines:
                if ln.kind == "added":
                    added.setdefault(fd.path, set()).add(ln.new_lineno)
                elif ln.kind == "removed":
                    removed.setdefault(fd.old_path or fd.path, set()).add(ln.old_lineno)
    return added, removed


def first_changed_line(patch) -> tuple[str, int, str] | None:
    for fd in getattr(patch, "files", []):
        for h in fd.hunks:
            for ln in h.lines:
                if ln.kind == "added":
                    return fd.path, ln.new_lineno, "post"
                if ln.kind == "removed":
                    return fd.path, ln.old_lineno, "pre"
    return None


class Placer:
    """Places the findings of one patch (review.model.Patch, its extracted rules, and
    the mail's lines when it came as one mail)."""

    def __init__(self, patch, rules: PatchRules | None, mail_lines: list[str] | None):
        self.patch = patch
        self.rules = rules
        self.mail_lines = mail_lines
        self.added, self.removed = changed_lines(patch)

    def on_changed_line(self, rule) -> bool:
        prov = getattr(rule, "provenance", None)
        if prov is None:
            return False
        lines = self.added if prov.image == "post" else self.removed
        return prov.line in lines.get(prov.file, ())

    def choose(self, decided, added: list, removed: list):
        """Which rule the finding points at: the rule that decided the trace when the
        patch wrote that line; else a rule of the same decision point on a line the
        patch removed or added (a dropped check shows as the removed `return
        -EBUSY;`); else the deciding rule. Returns (primary, deciding-if-different)."""
        if isinstance(decided, AssertionRule):
            return decided, None  # the assertion that fired is the one to show
        if decided is not None and self.on_changed_line(decided):
            return decided, None
        point = point_of(decided, self.rules) if decided is not None else None
        for pool in (removed, added):
            for r in pool:
                if not self.on_changed_line(r):
                    continue
                if point is None or point_of(r, self.rules) in (point, ""):
                    return r, decided
        return decided, None

    def place(self, f: CheckFinding, decided, added: list = (), removed: list = ()) -> None:
        """Point `f` at the rule chosen among `decided` (the rule that decided the
        trace) and the rules the patch `added` and `removed`."""
        rule, also = self.choose(decided, list(added), list(removed))
        prov = getattr(rule, "provenance", None)
        if rule is not None:
            text = rule_text(rule, point_of(rule, self.rules))
            if prov is not None and prov.image == "pre":
                text = f"removed by the patch: {text}"
            if also is not None:
                text += f"; decided instead: {rule_text(also)} at {rule_place(also)}"
                ap = getattr(also, "provenance", None)
                if ap is not None:
                    f.related.append({"file": ap.file, "line": ap.line, "image": ap.image,
                                      "message": f"decided instead: {rule_text(also)}"})
            f.rule = text
        if prov is not None:
            f.file, f.line, f.image, f.function = prov.file, prov.line, prov.image, prov.function
        else:
            # no rule fired: the first changed line of the patch
            first = first_changed_line(self.patch)
            if first:
                f.file, f.line, f.image = first
        self.locate_in_mail(f)

    def locate_in_mail(self, f: CheckFinding) -> None:
        """f.mail_line: the line of the mail showing f's file and line."""
        if self.mail_lines and f.file and f.line:
            pos = locate.find(self.mail_lines, f.file, f.line, f.image)
            if pos is not None:
                f.mail_line = pos.index + 1
