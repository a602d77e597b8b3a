"""One patch against its other version in the same input, as `git range-diff` shows
it: a diff of the two patches, each written as its commit message and its diff
with the hunk headers' line numbers left out (code that only moved in the file is
not a change between versions).

The versions of a series are linked by review.inputs.series (change-id, else
author and title); within them, the same patch is the one with the same title,
else the one at the same position when both versions have as many patches.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass

from review.model import Patch

CONTEXT = 3


@dataclass(frozen=True)
class RangeLine:
    """`outer`: ' ' in both versions, '-' only in the old, '+' only in the new, '@' a
    heading of the comparison; `text`: the patch line (with its own diff sign)."""
    outer: str
    text: str


def _norm(title: str) -> str:
    return " ".join(title.split()).lower()


def counterpart(patch: Patch, step: int = -1) -> Patch | None:
    """`patch` in the previous (step -1) or next (step 1) version of its series."""
    series = patch.series
    if series is None:
        return None
    other = series.previous if step < 0 else series.next
    if other is None:
        return None
    same_title = [p for p in other.patches if _norm(p.title) == _norm(patch.title)]
    if same_title:
        return same_title[0]
    if other.expected == series.expected:
        return next((p for p in other.patches if p.counter == patch.counter), None)
    return None


def patch_text(patch: Patch) -> list[str]:
    """The lines a range-diff compares: title, commit message, then the diff with
    hunk headers as `@@ <function>` only."""
    lines = [patch.title, ""] + patch.commit_message.rstrip("\n").split("\n") + ["", "---"]
    for f in patch.files:
        lines.append(f"diff --git a/{f.old_path or f.new_path} b/{f.new_path or f.old_path}")
        for h in f.hunks:
            lines.append(f"@@ {h.section}".rstrip())
            lines += [{"added": "+", "removed": "-"}.get(ln.kind, " ") + ln.text for ln in h.lines]
    return lines


def range_diff(old: Patch, new: Patch) -> list[RangeLine]:
    """What changed from `old` to `new`; [] when nothing did."""
    out: list[RangeLine] = []
    diff = difflib.unified_diff(patch_text(old), patch_text(new), n=CONTEXT, lineterm="")
    for line in diff:
        if line.startswith(("---", "+++")) and not out:
            continue        # difflib's own file headers
        if line.startswith("@@"):
            out.append(RangeLine("@", line))
        else:
            out.append(RangeLine(line[:1], line[1:]))
    return out
