"""Pre- and post-images of the C files a patch touches, and which functions it touches.

The layer between the patch and the C parser (review/extract/cparse.py): it reads each
side of a file (from the best source there is), parses it, and says which functions
the patch changes and which definitions inlining may use.

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

from review.extract import cparse, hunks
from review.extract.cparse import CFunction
from review.extract.definitions import Definitions, NameIndex, Parses, directory_lines, read_file
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


def fragment(h: Hunk, side: str) -> Fragment:
    rows = hunks.side_rows(h, side)
    return Fragment("\n".join(r.text for r in rows), {i + 1: r.line for i, r in enumerate(rows)}, h)


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
class ChangedFunctions:
    """What one side of a file gives the extraction."""
    touched: list[CFunction]     # functions the patch changes, read from the file's source
    from_hunks: list[CFunction]  # changed functions the parser lost in the whole image:
                                 # read from the hunks instead, as partial
    helpers: list[CFunction]     # definitions inlining may use
    warnings: list[str]


@dataclass
class FileImages:
    path: str
    diff: FileDiff
    pre: str | None      # whole pre-image, if known
    post: str | None     # whole post-image, if known
    source: str          # "git" | "tree" | "hunks"
    warnings: list[str] = field(default_factory=list)
    parses: Parses = field(default_factory=Parses)

    def text(self, side: str) -> str | None:
        return self.pre if side == "pre" else self.post

    def functions(self, side: str) -> list[CFunction]:
        text = self.text(side)
        return self.parses.functions(self.path, text) if text is not None else []

    def aliases(self, side: str) -> dict[str, str]:
        """Function-like macros that are one call (cparse.macro_aliases) in the whole
        image of `side`, or in its hunks when the image is not known."""
        whole = self.text(side)
        if whole:
            return self.parses.aliases(self.path, whole)
        out: dict[str, str] = {}
        for h in self.diff.hunks:
            out.update(cparse.macro_aliases(fragment(h, side).text))
        return out

    def changed_functions(self, side: str) -> ChangedFunctions:
        if self.source == "hunks":
            fns, complete = hunk_functions(self.diff, side)
            return ChangedFunctions(fns, [], complete, [])
        lines = changed_lines(self.diff, side)
        fns = self.functions(side)
        lost, warnings = self._lost_functions(side, lines)
        return ChangedFunctions(touched(fns, lines), lost, fns, warnings)

    def _lost_functions(self, side: str, lines: set[int]) -> tuple[list[CFunction], list[str]]:
        """Changed lines that no parsed function covers, inside a function the image does
        define (tree-sitter lost it: unbalanced braces, macros): that function read from
        the hunks, as partial, with a warning saying so."""
        fns = self.functions(side)
        uncovered = [ln for ln in lines
                     if not any(f.start_line <= abs(ln) <= f.end_line for f in fns)]
        if not uncovered:
            return [], []
        have = {f.name for f in fns}
        out, warnings = [], []
        for f in hunk_functions(self.diff, side)[0]:
            if f.name in have or not _defined_in(self.text(side), f.name):
                continue
            warnings.append(f"{self.diff.path} ({side}): {f.name}: tree-sitter could not read its "
                            f"definition whole (unbalanced braces or macros?): read from the hunks")
            f.complete = False
            out.append(f)
            have.add(f.name)
        return out, warnings


def file_images(fd: FileDiff, index: TreeIndex, state: dict[str, str]) -> FileImages:
    """The images of one file from the best source there is: git's whole images; the
    tree's file (as earlier patches of the series left it: `state`, path -> text) and
    that with the hunks applied; else the hunks alone."""
    if fd.pre_image is not None or fd.post_image is not None:
        return FileImages(fd.path, fd, fd.pre_image, fd.post_image, "git", parses=index.parses)
    if index.root is None:
        return FileImages(fd.path, fd, None, None, "hunks")
    if fd.status == "added" or fd.old_path is None:
        pre = ""
    else:
        pre = state.get(fd.old_path)
        if pre is None:
            pre = index.read(fd.old_path)
    if pre is None:
        img = FileImages(fd.path, fd, None, None, "hunks")
        img.warnings.append(f"{fd.path}: not in the tree: read from the hunks")
        return img
    post = apply_hunks(pre, fd.hunks) if fd.new_path is not None else None
    if post is not None or fd.new_path is None:
        return FileImages(fd.path, fd, pre if fd.old_path else None, post, "tree", parses=index.parses)
    img = FileImages(fd.path, fd, None, None, "hunks")
    img.warnings.append(f"{fd.path}: the hunks do not apply to the tree's file: read from the hunks")
    return img


def hunk_functions(fd: FileDiff, side: str) -> tuple[list[CFunction], list[CFunction]]:
    """(touched functions, complete functions) seen in the hunks of one side: whole
    and cut definitions, and the window of the function each hunk starts in
    (review/extract/hunks.py), when the patch changes code there."""
    touched_out: list[CFunction] = []
    complete: list[CFunction] = []
    lines = changed_lines(fd, side)
    other = "post" if side == "pre" else "pre"
    for h in fd.hunks:
        name = section_function(h.section)
        part = hunks.read_hunk(h, side, name)
        for f in part.definitions:
            f.file = fd.path
        complete += [f for f in part.definitions if f.complete]
        touched_out += touched(part.definitions, lines)
        window = hunks.hunk_body(part)
        # a change on one side is a change of both: a pure deletion leaves the post
        # side's window with no changed row of its own
        if window is not None and (hunks.changed_in(window, part)
                                   or hunks.changes_head(hunks.read_hunk(h, other, name))):
            window.file = fd.path
            touched_out.append(window)
    return touched_out, complete


def _defined_in(text: str | None, name: str) -> bool:
    return bool(text) and re.search(rf"^\w[\w \t\*]*\b{re.escape(name)}\s*\([^;]*$", text, re.M) is not None


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
    """Finds helper definitions in a kernel checkout (review/extract/definitions.py)."""

    def __init__(self, root: str | os.PathLike | None):
        self.root = Path(root) if root else None
        self.parses = Parses()
        index = None
        if self.root is not None:
            root_path = self.root
            index = NameIndex(lambda: directory_lines(root_path), lambda rel: read_file(root_path, rel))
        self.definitions = Definitions(index, self.parses)

    def read(self, rel: str) -> str | None:
        if self.root is None:
            return None
        return self.definitions.text(rel, None)

    def alias(self, name: str, overrides: dict[str, str] | None = None) -> str | None:
        return self.definitions.alias(name, overrides)

    def find(self, name: str, overrides: dict[str, str] | None = None) -> CFunction | None:
        return self.definitions.find(name, overrides)
