"""Find a file line of a patch in the patch's own text.

Two consumers need it: the checkpatch format (`-:N:` is the line in the mail as b4
fed it on stdin) and b4 review's external comments (a comment goes right after the
quoted diff line it is about). The review model (review/inputs/patch.py) gives file line
numbers; this maps them back to positions in a text that contains the diff.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

_DIFF_GIT = re.compile(r"^diff --git a/(.*) b/(.*)$")
_PLUS = re.compile(r"^\+\+\+ (?:b/)?(.*?)\s*$")
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class DiffPos:
    index: int          # 0-based line index in the text
    path: str           # post-image path (pre-image path for a deletion)
    kind: str           # "context" | "added" | "removed"
    old: int | None     # pre-image line
    new: int | None     # post-image line
    text: str           # the line as written, with its +/-/space marker


def walk(lines: list[str]) -> Iterator[DiffPos]:
    """Every hunk line of every file diff in `lines`, with its file line numbers."""
    path = ""
    old = new = 0
    old_left = new_left = 0
    for i, raw in enumerate(lines):
        line = raw.rstrip("\r\n")
        if old_left <= 0 and new_left <= 0:
            m = _DIFF_GIT.match(line)
            if m:
                path = m.group(2)
                continue
            m = _PLUS.match(line)
            if m and m.group(1) != "/dev/null":
                path = m.group(1)
                continue
            m = _HUNK.match(line)
            if m:
                old, new = int(m.group(1)), int(m.group(3))
                old_left = int(m.group(2)) if m.group(2) is not None else 1
                new_left = int(m.group(4)) if m.group(4) is not None else 1
            continue
        if line.startswith("\\"):
            continue
        if line.startswith("+"):
            yield DiffPos(i, path, "added", None, new, line)
            new += 1
            new_left -= 1
        elif line.startswith("-"):
            yield DiffPos(i, path, "removed", old, None, line)
            old += 1
            old_left -= 1
        else:  # context (a blank line stands for " " after some mailers)
            yield DiffPos(i, path, "context", old, new, line)
            old += 1
            new += 1
            old_left -= 1
            new_left -= 1


def find(lines: list[str], path: str, line: int, image: str = "post") -> DiffPos | None:
    """The diff line showing `path`:`line` of the given image, or, when the hunks do
    not show that exact line, the nearest shown line of that file (a guard's line may
    lie in unchanged context the hunk does not carry)."""
    best: DiffPos | None = None
    best_dist = None
    for pos in walk(lines):
        if path and pos.path != path:
            continue
        n = pos.new if image == "post" else pos.old
        if n is None:
            continue
        if n == line:
            return pos
        dist = abs(n - line)
        if best_dist is None or dist < best_dist:
            best, best_dist = pos, dist
    return best
