"""Pre- and post-images of the C files a patch touches, and which functions it touches.

The layer between the patch and the C parser (review/extract/cparse.py): it reads each
side of a file (from the best source there is), parses it, and says which functions
the patch changes and which definitions inlining may use.

Sources, best first:
  git    FileDiff.pre_image / post_image (whole files, from review.inputs.git);
  tree, repo  a whole pre-image from the run's base (review/extract/sources.py: a
         blob, the series so far, a base commit, a revision, a tree's file), and the
         post-image built from it by applying the hunks where their context is found
         (review/extract/apply.py); a hunk not found is read from the mail, and so
         is every function it changes;
  hunks  only what the hunks show: each hunk's context+removed lines (pre) and
         context+added lines (post) as fragments; functions they do not show whole
         are partial.

Changed lines are the image's own lines (where the hunks really landed), so that a
hunk applied at an offset is attributed to the function that holds it there.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from review.extract import cparse, hunks
from review.extract.apply import LineMap, Placement, apply
from review.extract.cparse import CFunction
from review.extract.definitions import Parses
from review.extract.sources import Base, FileSource, SeriesFiles
from review.model import FileDiff, Hunk, Patch

C_SUFFIXES = (".c", ".h")


def is_c_file(path: str) -> bool:
    return path.endswith(C_SUFFIXES)


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
    """The function named in a hunk's @@ section text (git's funcname line); None
    when that line is a prototype (`...;`): the hunk then starts in no function."""
    if (section or "").rstrip().endswith(";"):
        return None
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
    source: str          # "git" | "tree" | "repo" | "hunks"
    origin: FileSource | None = None   # where the pre-image came from (not for git)
    placements: list[Placement | None] | None = None  # per hunk (None: the patch's own lines)
    warnings: list[str] = field(default_factory=list)
    parses: Parses = field(default_factory=Parses)

    def text(self, side: str) -> str | None:
        return self.pre if side == "pre" else self.post

    def functions(self, side: str) -> list[CFunction]:
        text = self.text(side)
        return self.parses.functions(self.path, text) if text is not None else []

    def lines(self, side: str) -> LineMap:
        """The image's lines against the patch's, for functions read from this image."""
        return LineMap(side, self.placements, self.diff.hunks)

    def mail_hunks(self) -> list[Hunk]:
        """The hunks whose context the image does not have: read from the mail."""
        if self.placements is None:
            return []
        return [h for h, p in zip(self.diff.hunks, self.placements) if p is None]

    def mail_function_names(self) -> set[str]:
        """The functions changed by hunks whose context the image does not have (a
        patch they need is not in the input): read from the mail, in part."""
        missing = self.mail_hunks()
        if not missing:
            return set()
        return {f.name for side in ("pre", "post") for f in hunk_functions(self.diff, side, missing)[0]}

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
        lines = changed_lines(self.diff, side, self.placements)
        fns = self.functions(side)
        whole = touched(fns, lines)
        lost, warnings = self._lost_functions(side, lines)
        mail, complete = self._from_the_mail(side, fns)
        if not mail:
            return ChangedFunctions(whole, lost, fns, warnings)
        names = {f.name for f in mail}
        helpers = [f for f in fns if f.name not in names] + complete
        return ChangedFunctions([f for f in whole if f.name not in names], lost + mail, helpers, warnings)

    def _from_the_mail(self, side: str, fns: list[CFunction]) -> tuple[list[CFunction], list[CFunction]]:
        """The functions the hunks not found change, read from the mail, with every
        other hunk that changes them (the image has none of their changes on the post
        side); and the whole definitions those hunks show."""
        missing = self.mail_hunks()
        if not missing:
            return [], []
        names = {f.name for f in hunk_functions(self.diff, side, missing)[0]}
        also = [h for h, p in zip(self.diff.hunks, self.placements) if p is not None
                and any(f.name in names for f in touched(fns, _placed_lines(h, p, side)))]
        chosen = set(map(id, missing + also))
        return hunk_functions(self.diff, side, [h for h in self.diff.hunks if id(h) in chosen])

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
        placed = [h for i, h in enumerate(self.diff.hunks) if self.placements is None or self.placements[i]]
        for f in hunk_functions(self.diff, side, placed)[0]:
            if f.name in have or not _defined_in(self.text(side), f.name):
                continue
            warnings.append(f"{self.diff.path} ({side}): {f.name}: tree-sitter could not read its "
                            f"definition whole (unbalanced braces or macros?): read from the hunks")
            f.complete = False
            out.append(f)
            have.add(f.name)
        return out, warnings


def file_images(fd: FileDiff, patch: Patch, base: Base, series: SeriesFiles) -> FileImages:
    """The images of one file from the best source there is: git's whole images; a
    whole pre-image from the base (review/extract/sources.py) and that with the hunks
    applied where they are found; else the hunks alone."""
    if fd.pre_image is not None or fd.post_image is not None:
        return FileImages(fd.path, fd, fd.pre_image, fd.post_image, "git",
                          FileSource(fd.path, "git", "the commit's parent (a revision range)", "commit's parent"), parses=base.parses)
    pre, origin = base.pre_image(fd, patch, series)
    kind = "tree" if origin.origin == "tree" or series.kinds.get(fd.old_path or "") == "tree" else "repo"
    if pre is None:
        img = FileImages(fd.path, fd, None, None, "hunks", origin)
        if base.tree is not None:
            img.warnings.append(f"{fd.path}: not in the tree: read from the hunks")
        return img
    applied = apply(pre, fd.hunks)
    origin.placements = applied.placements
    if fd.hunks and not any(applied.placements) and fd.new_path is not None:
        img = FileImages(fd.path, fd, None, None, "hunks", origin)
        img.warnings.append(f"{fd.path}: the hunks do not apply to the {kind}'s file: read from the hunks")
        return img
    post = applied.text if fd.new_path is not None else None
    return FileImages(fd.path, fd, pre if fd.old_path else None, post, kind, origin, applied.placements,
                      parses=base.parses)


def hunk_functions(fd: FileDiff, side: str, only: list[Hunk] | None = None) -> tuple[list[CFunction], list[CFunction]]:
    """(touched functions, complete functions) seen in the hunks of one side: whole
    and cut definitions, and the window of the function each hunk starts in
    (review/extract/hunks.py), when the patch changes code there. `only`: these hunks
    of the file, not all of them."""
    touched_out: list[CFunction] = []
    complete: list[CFunction] = []
    lines = changed_lines(fd, side)
    other = "post" if side == "pre" else "pre"
    for h in fd.hunks if only is None else only:
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


def changed_lines(fd: FileDiff, side: str, placements: list[Placement | None] | None = None) -> set[int]:
    """File lines of `side` that the patch changes: removed (pre) / added (post)
    lines, plus, for a pure insertion (deletion), the lines on both sides of it.
    With `placements` (where each hunk landed in a whole image, review/extract/apply.py)
    they are the image's lines, and a hunk not found has none; else the patch's."""
    out: set[int] = set()
    for i, h in enumerate(fd.hunks):
        if placements is None:
            out |= _hunk_lines(h, side, 0)
        elif placements[i] is not None:
            out |= _placed_lines(h, placements[i], side)
    return out


def _placed_lines(h: Hunk, p: Placement, side: str) -> set[int]:
    return _hunk_lines(h, side, p.pre_offset if side == "pre" else p.post_offset)


def _hunk_lines(h: Hunk, side: str, offset: int) -> set[int]:
    """One hunk's changed lines (see changed_lines), shifted by `offset`; an insertion
    point after line n is marked -n."""
    out: set[int] = set()
    prev_ctx: int | None = None
    pending_other = False
    for ln in h.lines:
        mine = ln.old_lineno if side == "pre" else ln.new_lineno
        changed_here = ln.kind == ("removed" if side == "pre" else "added")
        other = ln.kind == ("added" if side == "pre" else "removed")
        if changed_here:
            out.add(int(mine or 0) + offset)
        elif other:
            pending_other = True
            if prev_ctx is not None:
                out.add(-(prev_ctx + offset))  # marks an insertion point after prev_ctx
        else:
            if pending_other and prev_ctx is not None:
                out.add(-(prev_ctx + offset))
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
