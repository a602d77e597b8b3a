"""Where a check finding points in its patch: the extracted rule it implicates, as a
reviewer reads it, that rule's file and line (or the patch's first changed line when
no rule decided the trace), and that line in the mail as given (checkpatch's -:N:)."""
from __future__ import annotations

from spec.decisions import AssertionRule, ExtractedDecision, GuardedOutcome

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
    if isinstance(rule, ExtractedDecision):   # its default decided
        return f"{rule.point}: no case of the patch's rule holds -> {rule.default}"
    return str(rule)


def rule_place(rule) -> str:
    """` at mm/memory.c:42 (post-image)`; "" for a rule without a place (a default)."""
    prov = getattr(rule, "provenance", None)
    return f" at {prov.file}:{prov.line} ({prov.image}-image)" if prov is not None else ""


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


def diff_line(patch, file: str, line: int, image: str, expect: str = "") -> tuple[str, int]:
    """The hunk line showing `file`:`line` of `image`, with its +/-/space marker, and
    its line as the hunk numbers it; ("", 0) when no hunk shows it (a guard in context the hunks leave out). With `expect` (the
    rule's C text), a line that does not hold it is not the one: the nearest hunk line
    that does is, since a tree the hunks applied to with an offset numbers lines
    differently from the hunks."""
    want = " ".join(expect.split())
    best, best_at, best_dist = "", 0, None
    for fd in getattr(patch, "files", []):
        if file not in (fd.path, fd.old_path):
            continue
        for h in fd.hunks:
            for ln in h.lines:
                n = ln.new_lineno if image == "post" else ln.old_lineno
                if n is None or want and want not in " ".join(ln.text.split()):
                    continue
                dist = abs(n - line)
                if best_dist is None or dist < best_dist:
                    mark = {"added": "+", "removed": "-"}.get(ln.kind, " ")
                    best, best_at, best_dist = mark + ln.text, n, dist
    if best_dist == 0 or (want and best_dist is not None and best_dist <= 300):
        return best, best_at
    return "", 0


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
        point = None
        if isinstance(decided, ExtractedDecision):
            point = decided.point
        elif decided is not None:
            point = point_of(decided, self.rules)
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
                text += f"; decided instead: {rule_text(also)}{rule_place(also)}"
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
        self.locate_in_mail(f, prov.text if prov is not None else "")

    def locate_in_mail(self, f: CheckFinding, expect: str = "") -> None:
        """f.patch_line: the diff line showing f's file and line (holding `expect`, the
        rule's C text), when a hunk shows it; f.mail_line: that line in the mail as
        given."""
        f.patch_line, shown_at = diff_line(self.patch, f.file, f.line, f.image, expect)
        if self.mail_lines and f.file and f.line:
            pos = locate.find(self.mail_lines, f.file, shown_at or f.line, f.image)
            if pos is not None:
                f.mail_line = pos.index + 1
