"""What the check tells the reviewer from the extraction alone, before any search:
the input's warnings, what became of each touched function, why a patch is not
fuzzed, what the era promises and does not keep, and the notes on conditions the
vocabulary lacks, functions seen only in part and flag aliases
(review/check/patch.py puts them in the patch's result)."""
from __future__ import annotations

from spec.decisions import RuleSet
from spec.invariant_table import INVARIANTS, applicable

from review.check.overlay import changed_atoms, changed_cases, read_fields
from review.extract.rules import PatchRules
from review.report.types import CheckFinding


def input_warnings(patch, rules) -> list[str]:
    """What reading the mail and the C warned about, once each."""
    out: list[str] = []
    msg = getattr(patch, "message", None)
    sources = [getattr(patch, "warnings", []), getattr(msg, "warnings", []) if msg else []]
    for fd in getattr(patch, "files", []):
        sources.append(getattr(fd, "warnings", []))
        for h in fd.hunks:
            sources.append(getattr(h, "warnings", []))
    if rules is not None:
        sources.append(getattr(rules, "warnings", []))
    for ws in sources:
        for w in ws or ():
            # a format-patch file has no Message-Id, and needs none to be checked
            if w not in out and not w.startswith("no Message-Id"):
                out.append(w)
    return out


def why_not_fuzzed(rules: PatchRules) -> str:
    """Why a patch without rules is not fuzzed."""
    partial = sorted({fn for fn, _, _, _ in rules.partial})
    if partial:
        return f"bound functions seen only in part, so no rule is trusted: {', '.join(partial)}"
    if rules.bound:
        return "the bound functions it touches yield no decision or assertion rule"
    return ("touches no function bound to a decision point or primitive"
            + (" (C outside the model)" if rules.unbound else ""))


_CLASS_WORDS = {"bound": "bound (checked)", "equivalent": "equivalent (nothing to check)",
                "outside": "outside the model (not checked)", "unmodelled": "unmodelled (not checked)"}


def coverage_lines(rules: PatchRules) -> list[str]:
    """What became of each touched function, one line per class it has."""
    out = []
    for cls, words in _CLASS_WORDS.items():
        items = rules.coverage.of(cls)
        if items:
            out.append(f"{words}: " + ", ".join(f"{t.function} ({t.reason})" for t in items))
    return out


def era_line(preset: RuleSet, rules: PatchRules) -> str | None:
    """Which invariants the era promises, when a later design's are left out; and the
    state the patch's rules read that the era does not keep (they read its default
    there). None when there is nothing to say."""
    said = []
    own = applicable(preset)
    kept = [i.id for i in own if i.kind == "invariant"]
    later = [i.id for i in INVARIANTS if i not in own and i.kind == "invariant"]
    if later:
        shown = ", ".join(later[:2]) + (", ..." if len(later) > 2 else "")
        said.append(f"the contract and its {len(kept)} internal invariants; "
                    f"{len(later)} of a later design are not charged ({shown})")
    unkept = sorted(read_fields(rules.post) & preset.unkept_fields())
    if unkept:
        said.append(f"it does not keep {', '.join(unkept)}, which the patch's rules read: "
                    f"they read false there, and a GUP stall waiting on it is a note")
    return "; ".join(said) or None


def extraction_notes(rules: PatchRules) -> tuple[list[CheckFinding], list[str]]:
    """(notes, checked lines): a note per unmodelled condition the change depends on,
    per function seen only in part, per use of a flag alias that can meet a page of
    the new meaning; a checked line for the conditions of unchanged code and for each
    flag-alias audit."""
    found: list[CheckFinding] = []
    checked: list[str] = []
    # an unmodelled atom matters to the reviewer where the change depends on it;
    # the others (conditions of unchanged code the inlined callees brought in)
    # are explored all the same, and said once
    relevant = changed_atoms(*changed_cases(rules.pre, rules.post))
    seen = set()
    context: dict[str, str] = {}
    for atom, file, line, image in rules.unmodelled:
        if (atom, file, line) in seen:
            continue
        seen.add((atom, file, line))
        if atom not in relevant:
            context.setdefault(atom, f"{file}:{line}")
            continue
        found.append(CheckFinding(severity="note", id="unmodelled",
                                  message=f"`{atom}` is not in the vocabulary: explored both ways",
                                  file=file, line=line, image=image, mode="extract"))
    if context:
        shown = ", ".join(f"`{a}` ({w})" for a, w in list(context.items())[:3])
        checked.append(
            f"unmodelled conditions of code the patch does not change ({len(context)}: {shown}"
            f"{', ...' if len(context) > 3 else ''}): explored as context, not reported one by one")
    # one note per function, however many images and hunks showed it in part
    partial: dict[tuple[str, str], list] = {}
    for function, file, line, why in rules.partial:
        partial.setdefault((function, file), []).append((line, why))
    for (function, file), seen_at in partial.items():
        line = min(ln for ln, _ in seen_at)
        whys = sorted({why.split(":", 1)[0] for _, why in seen_at})
        detail = sorted({why for _, why in seen_at})[0]
        if ":" in detail:
            detail = detail.split(":", 1)[1].strip()
        found.append(CheckFinding(severity="note", id="partial",
                                  message=f"{function} ({' and '.join(whys)}-image): {detail}",
                                  file=file, line=line, function=function, mode="extract"))
    _flag_alias_notes(rules, found, checked)
    return found, checked


def _flag_alias_notes(rules: PatchRules, found: list[CheckFinding], checked: list[str]) -> None:
    """The flag-alias audit (review/extract/flag_alias.py): what was searched, and
    each use of the other flag that can meet a page of the new meaning."""
    for alias in rules.flag_aliases:
        meet = ", ".join(f"{u.file}:{u.line}" + (f" {u.function}()" if u.function else "")
                         for u in alias.of("can meet"))
        checked.append(f"flag alias: {alias.summary()}" + (f"; can meet: {meet}" if meet else ""))
        for use in alias.of("can meet"):
            where = f"{use.function}()" if use.function else "a table or macro at file level"
            found.append(CheckFinding(
                severity="note", id="flag-alias-use", file=use.file, line=use.line, function=use.function,
                mode="extract", message=f"{use.text} in {where} {use.access} {alias.old}, which now also "
                                        f"means {alias.new} ({alias.meaning}): {use.why}"))
