"""Hunks applied to a file in memory, each located by its context as patch(1) does.

A mail's patch was written against its author's tree, rarely the reviewer's: a hunk
may sit some lines away from where its header says. As GNU patch with fuzz 0:
  - a hunk is looked for first where its header puts it, shifted by the offset of the
    hunk before it, then one line after, one before, two after, ... ;
  - its context and removed lines must match exactly; it never lands before the end
    of the hunk applied before it;
  - a hunk with less context before than after that starts at line 1 belongs at the
    start of the file, one with less context after than before at its end;
  - a hunk that is not found is left out (patch(1) would write it to a .rej file),
    and the others still apply.

`Placement` says where each hunk landed in both images, so that the patch's line
numbers and the image's can be told apart (LineMap).
"""
from __future__ import annotations

from dataclasses import dataclass

from review.model import Hunk


@dataclass(frozen=True)
class Placement:
    """Where one hunk landed: its first line in the pre- and post-image, and the
    offsets from the lines its header gives."""
    hunk: Hunk
    pre_start: int       # 1-based line of the image where the hunk's old lines start
    post_start: int
    pre_offset: int
    post_offset: int


@dataclass
class Applied:
    text: str                               # the image with the found hunks applied
    placements: list[Placement | None]      # per hunk, in order; None: not found


def apply(text: str, hunks: list[Hunk]) -> Applied:
    """`text` with `hunks` applied where their context is found."""
    # the newline that ends the last line does not start another (empty) one
    ends = text.endswith("\n") or not text
    lines = (text[:-1] if text.endswith("\n") else text).split("\n") if text else []
    out: list[str] = []
    pos = 0            # next unconsumed line of `lines`
    offset = 0         # the offset of the last hunk found
    placements: list[Placement | None] = []
    for h in hunks:
        old = [ln.text for ln in h.lines if ln.kind != "added"]
        new = [ln.text for ln in h.lines if ln.kind != "removed"]
        stated = h.old_start - 1 if h.old_count else h.old_start
        at = locate(lines, old, stated + offset, pos, _boundary(h))
        if at is None:
            placements.append(None)
            continue
        offset = at - stated
        out.extend(lines[pos:at])
        post_at = len(out)
        out.extend(new)
        pos = at + len(old)
        post_stated = h.new_start - 1 if h.new_count else h.new_start
        placements.append(Placement(h, at + 1, post_at + 1, offset, post_at - post_stated))
    out.extend(lines[pos:])
    return Applied("\n".join(out) + ("\n" if ends and out else ""), placements)


def _boundary(h: Hunk) -> str:
    """"start" or "end" when the hunk's context says it belongs at the file's start
    or end (less context on that side than on the other), else ""."""
    before = after = 0
    for ln in h.lines:
        if ln.kind != "context":
            break
        before += 1
    for ln in reversed(h.lines):
        if ln.kind != "context":
            break
        after += 1
    if before < after and h.old_start <= 1:
        return "start"
    if after < before:
        return "end"
    return ""


def locate(lines: list[str], block: list[str], guess: int, lo: int, boundary: str = "") -> int | None:
    """The 0-based line where `block` matches `lines`, nearest `guess` (after first,
    then before), never before `lo`; None when it matches nowhere."""
    n = len(block)
    if boundary == "start":
        return 0 if lo == 0 and lines[:n] == block else None
    if boundary == "end":
        at = len(lines) - n
        return at if at >= lo and lines[at:at + n] == block else None
    if not block:
        return min(max(guess, lo), len(lines))
    guess = min(max(guess, lo), len(lines))
    for delta in range(max(guess - lo, len(lines) - guess) + 1):
        for at in ((guess + delta, guess - delta) if delta else (guess,)):
            if lo <= at and at + n <= len(lines) and lines[at] == block[0] and lines[at:at + n] == block:
                return at
    return None


class LineMap:
    """Lines of one side of a file: the image's (where the hunks really landed) and the
    patch's (what its headers say). Without placements (a file read from the hunks
    alone) both are the patch's."""

    def __init__(self, side: str, placements: list[Placement | None] | None, hunks: list[Hunk]):
        self.side = side
        self.hunks = hunks
        self.spans: list[tuple[int, int, int, Hunk]] = []   # image start, count, offset, hunk
        for i, h in enumerate(hunks):
            count = h.old_count if side == "pre" else h.new_count
            if placements is None:
                start, off = (h.old_start if side == "pre" else h.new_start), 0
            elif placements[i] is None:
                continue
            else:
                p = placements[i]
                start, off = (p.pre_start, p.pre_offset) if side == "pre" else (p.post_start, p.post_offset)
            self.spans.append((start, count, off, h))

    def to_patch(self, line: int) -> int:
        """The patch's number for an image line: shifted by the offset of the hunk
        that holds it, or of the last hunk before it (of the first, before them all;
        never above line 1)."""
        if not self.spans or line <= 0:
            return line
        off = self.spans[0][2]
        for start, _, o, _ in self.spans:
            if start > line:
                break
            off = o
        return max(line - off, 1)

    def changed_rows(self) -> list[tuple[int, str]]:
        """(image line, text) of the lines the patch removes (pre) or adds (post), in
        the hunks this image has."""
        kind = "removed" if self.side == "pre" else "added"
        out = []
        for _, _, off, h in self.spans:
            for ln in h.lines:
                at = ln.old_lineno if self.side == "pre" else ln.new_lineno
                if ln.kind == kind and at:
                    out.append((at + off, ln.text))
        return out

    def hunk_of(self, line: int) -> str:
        """The header of the hunk whose lines hold this image line ("" if none)."""
        for start, count, _, h in self.spans:
            if start <= line < start + max(count, 1):
                return h.header
        return ""
