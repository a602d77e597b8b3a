"""Pre- and post-images of the C files a patch touches, and which functions it touches.

Three sources, best first:
  git    FileDiff.pre_image / post_image (whole files, from review.inputs.git);
  tree   a kernel checkout (`--tree`): the pre-image is the tree's file as the
         series has changed it so far, the post-image is that with the hunks applied;
  hunks  only what the hunks show: each hunk's context+removed lines (pre) and
         context+added lines (post) as fragments; functions they do not show whole
         are partial.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from review.extract import cparse
from review.extract.cparse import CFunction
from review.model import FileDiff, Hunk

C_SUFFIXES = (".c", ".h")
MAX_FILE_BYTES = 8 * 1024 * 1024
# Where a kernel tree keeps the helpers that mm functions inline.
HELPER_GLOBS = ("include/linux/*.h", "mm/*.h", "mm/*.c", "include/linux/sched/*.h", "include/asm-generic/*.h")


def is_c_file(path: str) -> bool:
    return path.endswith(C_SUFFIXES)


def apply_hunks(text: str, hunks: list[Hunk]) -> str | None:
    """`text` with `hunks` applied (exact context, at the stated line or within
    +-300 lines of it); None when a hunk does not apply."""
    lines = text.split("\n")
    out: list[str] = []
    pos = 0  # next unconsumed line of `lines`
    for h in hunks:
        old = [ln.text for ln in h.lines if ln.kind != "added"]
        new = [ln.text for ln in h.lines if ln.kind != "removed"]
        want = max(h.old_start - 1, 0) if h.old_count else h.old_start
        at = _find(lines, old, want, pos)
        if at is None:
            return None
        out.extend(lines[pos:at])
        out.extend(new)
        pos = at + len(old)
    out.extend(lines[pos:])
    return "\n".join(out)


def _find(lines: list[str], block: list[str], want: int, lo: int) -> int | None:
    if not block:
        return max(want, lo)
    n = len(block)
    for delta in range(0, 301):
        for at in ((want + delta, want - delta) if delta else (want,)):
            if at >= lo and at + n <= len(lines) and lines[at:at + n] == block:
                return at
    return None


@dataclass
class Fragment:
    """One side of one hunk as text, with the file line of each of its lines."""
    text: str
    line_map: dict[int, int]
    hunk: Hunk


def fragment(h: Hunk, side: str, wrap: bool = False) -> Fragment:
    keep = "added" if side == "pre" else "removed"
    rows = [ln for ln in h.lines if ln.kind != keep]
    body = [ln.text for ln in rows]
    nums = [(ln.old_lineno if side == "pre" else ln.new_lineno) or 0 for ln in rows]
    if wrap:  # a synthetic body around a function's middle: line 1 is the opening
        body = ["void __hunk__(void) {"] + body + ["}"]
        nums = [nums[0] if nums else 0] + nums + [nums[-1] if nums else 0]
    return Fragment("\n".join(body), {i + 1: n for i, n in enumerate(nums)}, h)


_SECTION_NAME = re.compile(r"([A-Za-z_]\w*)\s*\(")


def section_function(section: str) -> str | None:
    """The function named in a hunk's @@ section text (git's funcname line)."""
    names = _SECTION_NAME.findall(section or "")
    for n in names:
        if n.isupper():  # PAGEFLAG(...), DEFINE_...(...): a macro line, not a function
            continue
        if n not in ("__attribute__", "if", "while", "for", "switch", "sizeof", "__releases", "__acquires"):
            return n
    return None


@dataclass
class FileImages:
    path: str
    diff: FileDiff
    pre: str | None      # whole pre-image, if known
    post: str | None     # whole post-image, if known
    source: str          # "git" | "tree" | "hunks"
    warnings: list[str] = field(default_factory=list)
    _fns: dict = field(default_factory=dict)

    def functions(self, side: str) -> list[CFunction]:
        if side not in self._fns:
            text = self.pre if side == "pre" else self.post
            self._fns[side] = cparse.functions(text) if text is not None else []
        return self._fns[side]


def changed_lines(fd: FileDiff, side: str) -> set[int]:
    """File lines of `side` that the patch changes: removed (pre) / added (post)
    lines, plus, for a pure insertion (deletion), the lines on both sides of it."""
    out: set[int] = set()
    for h in fd.hunks:
        prev_ctx: int | None = None
        pending_other = False
        for ln in h.lines:
            mine = ln.old_lineno if side == "pre" else ln.new_lineno
            changed_here = ln.kind == ("removed" if side == "pre" else "added")
            other = ln.kind == ("added" if side == "pre" else "removed")
            if changed_here:
                out.add(int(mine or 0))
            elif other:
                pending_other = True
                if prev_ctx is not None:
                    out.add(-prev_ctx)  # marks an insertion point after prev_ctx
            else:
                if pending_other and prev_ctx is not None:
                    out.add(-prev_ctx)
                pending_other = False
                prev_ctx = mine
    return out


def touched(functions: list[CFunction], lines: set[int]) -> list[CFunction]:
    """Functions containing a changed line, or an insertion point strictly inside."""
    out = []
    for f in functions:
        hit = False
        for ln in lines:
            if ln > 0 and f.start_line <= ln <= f.end_line:
                hit = True
            elif ln < 0 and f.start_line <= -ln < f.end_line:
                hit = True
            if hit:
                break
        if hit:
            out.append(f)
    return out


class TreeIndex:
    """Finds helper definitions in a kernel checkout (mm/ and include/linux only)."""

    def __init__(self, root: str | os.PathLike | None):
        self.root = Path(root) if root else None
        self._texts: dict[str, str] = {}
        self._defs: dict[str, CFunction | None] = {}
        self._files: list[Path] | None = None
        self._parsed: dict[str, list[CFunction]] = {}

    def parsed(self, text: str) -> list[CFunction]:
        fns = self._parsed.get(text)
        if fns is None:
            fns = self._parsed[text] = cparse.functions(text)
        return fns

    def read(self, rel: str) -> str | None:
        if self.root is None:
            return None
        if rel in self._texts:
            return self._texts[rel]
        p = (self.root / rel)
        try:
            if not p.resolve().is_relative_to(self.root.resolve()) or not p.is_file():
                return None
            if p.stat().st_size > MAX_FILE_BYTES:
                return None
            t = p.read_text("utf-8", "surrogateescape")
        except OSError:
            return None
        self._texts[rel] = t
        return t

    def _candidates(self) -> list[Path]:
        if self._files is None:
            files: list[Path] = []
            for g in HELPER_GLOBS:
                files.extend(sorted(self.root.glob(g)))
            self._files = files
        return self._files

    def alias(self, name: str, overrides: dict[str, str] | None = None) -> str | None:
        """The function a one-call function-like macro `name` stands for, if any."""
        if self.root is None:
            return None
        pat = re.compile(rf"#\s*define\s+{re.escape(name)}\(")
        for p in self._candidates():
            rel = p.relative_to(self.root).as_posix()
            t = overrides.get(rel) if overrides and rel in overrides else self.read(rel)
            if t is not None and pat.search(t):
                target = cparse.macro_aliases(t).get(name)
                if target:
                    return target
        return None

    def find(self, name: str, overrides: dict[str, str] | None = None) -> CFunction | None:
        """The definition of `name` in the tree (files in `overrides` read from there)."""
        if self.root is None:
            return None
        if name in self._defs and not overrides:
            return self._defs[name]
        pat = re.compile(rf"\b{re.escape(name)}\s*\(")
        found = None
        for p in self._candidates():
            rel = p.relative_to(self.root).as_posix()
            t = overrides.get(rel) if overrides and rel in overrides else self.read(rel)
            if t is None or not pat.search(t):
                continue
            for f in self.parsed(t):
                if f.name == name:
                    found = f
                    break
            if found:
                break
        if not overrides:
            self._defs[name] = found
        return found
