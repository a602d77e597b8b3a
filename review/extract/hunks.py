"""Reading C from hunks alone, when no whole file is known.

A hunk shows a window of a file: the end of one function, code between functions,
whole definitions, the start of another. git's @@ line names the function the window
starts in, but that name is only git's guess (the last line that looked like a
definition before the hunk): for a change after that function's closing brace, in a
macro, a declaration or a new function, it names the wrong one. So the window is
parsed:

  - the rows before the first definition, up to the closing brace of the function
    they are in (kernel style: `}` in column 0), belong to the function git names;
  - rows after that brace are top level: a definition (whole or cut), or a macro,
    declaration or enum member (`TopLevel`), never the named function;
  - definitions in the window are read as they are; one cut by the window's end is
    partial.

The rows inside a named function become a function of their own (`hunk_body`),
whose braces are balanced so that it parses: blocks the window starts inside of
are opened, blocks it leaves open are closed. Its paths start under one unmodelled
atom, "reaching the window", explored both ways; a path that leaves the window has
not decided (the unseen rest of the function may still decide).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from review.extract import cparse
from review.extract.cparse import CFunction
from review.model import Hunk

_CLOSES_TOP = re.compile(r"^}\s*[;,]?\s*(?:/\*.*)?$")
# The atom a window's paths start under. It is a fact about the state (is the window
# reached?), the same before and after the patch: comparisons treat it as context,
# not as unseen code that might make two rules agree.
ENTRY_PREFIX = "reaching "


# The atom that stands for the unseen rest of a function a window falls off the end
# of ("the rest of F after @@...@@ decides X"): code the hunk does not show, which
# the patch did not change.
REST_PREFIX = "the rest of "


def is_entry_atom(name: str) -> bool:
    return name.startswith(ENTRY_PREFIX)


def is_rest_atom(name: str) -> bool:
    return name.startswith(REST_PREFIX)


@dataclass
class Row:
    line: int        # the file line on this side
    text: str
    changed: bool    # removed (pre) or added (post) on this side


@dataclass
class TopLevel:
    """A changed line outside any function: a macro, a declaration, an enum member."""
    line: int
    text: str
    kind: str        # "macro" | "enum member" | "declaration" | "other"


@dataclass
class HunkSide:
    """One side of one hunk, parsed."""
    hunk: Hunk
    side: str
    rows: list[Row]
    head: list[Row]                          # rows inside the function git names
    head_function: str | None                # that function's name, when git names one
    definitions: list[CFunction] = field(default_factory=list)
    top_level: list[TopLevel] = field(default_factory=list)

    @property
    def entry_atom(self) -> str:
        """The same name on both sides of the hunk, so that pre and post are compared
        under the same assumption about what comes before the window."""
        return f"{ENTRY_PREFIX}{self.head_function} at {self.hunk.header.split(' @@')[0]} @@"


def side_rows(h: Hunk, side: str) -> list[Row]:
    other = "added" if side == "pre" else "removed"
    mine = "removed" if side == "pre" else "added"
    return [Row(int((ln.old_lineno if side == "pre" else ln.new_lineno) or 0), ln.text, ln.kind == mine)
            for ln in h.lines if ln.kind != other]


def read_hunk(h: Hunk, side: str, section_function: str | None) -> HunkSide:
    rows = _close_leading_comment(side_rows(h, side))
    text = "\n".join(r.text for r in rows)
    line_map = {i + 1: r.line for i, r in enumerate(rows)}
    defs = cparse.functions(text, line_map)
    first_def = min((f.node.start_point[0] for f in defs), default=len(rows))
    before = rows[:first_def]
    head_end = _enclosing_end(before) if section_function else 0
    part = HunkSide(h, side, rows, before[:head_end], section_function if head_end else None, defs)
    covered = {r for f in defs for r in range(f.start_line, f.end_line + 1)}
    for r in before[head_end:] + rows[first_def:]:
        if r.changed and r.line not in covered and not _comment_or_blank(r.text):
            part.top_level.append(TopLevel(r.line, r.text.strip(), _top_kind(r.text)))
    return part


def _close_leading_comment(rows: list[Row]) -> list[Row]:
    """A window that starts inside a block comment: its rows up to the `*/` are
    comment, blanked so that the rest parses (the lines keep their numbers)."""
    for i, r in enumerate(rows):
        opens, closes = r.text.find("/*"), r.text.find("*/")
        if opens >= 0 and (closes < 0 or opens < closes):
            return rows        # a comment opens first: the window did not start in one
        if closes >= 0:
            blank = [Row(x.line, "", x.changed) for x in rows[:i]]
            return blank + [Row(r.line, r.text[closes + 2:], r.changed)] + rows[i + 1:]
    return rows


def _enclosing_end(rows: list[Row]) -> int:
    """How many of the leading rows lie inside the function the window starts in: up
    to and including the column-0 `}` that closes it, else all of them."""
    depth = 0
    lexer = _Braces()
    for i, r in enumerate(rows):
        depth += lexer.count(r.text)
        if depth <= -1 and _CLOSES_TOP.match(r.text):
            return i + 1
    return len(rows)


def hunk_body(part: HunkSide) -> CFunction | None:
    """The rows inside the named function as a function of their own, its braces
    balanced; None when there are none or they hold no code."""
    if not part.head_function or not any(not _comment_or_blank(r.text) for r in part.head):
        return None
    rows = part.head
    if _CLOSES_TOP.match(rows[-1].text):
        rows = rows[:-1]  # the function's own closing brace: the wrapper has one
    lexer = _Braces()
    depth = lowest = 0
    for r in rows:
        depth += lexer.count(r.text)
        lowest = min(lowest, depth)
    opened = -lowest            # blocks the window starts inside of
    closing = depth + opened    # blocks still open where the window ends
    first, last = part.head[0].line, part.head[-1].line
    lines = ["void __hunk__(void) {" + " {" * opened] + [r.text for r in rows] + ["}" * (closing + 1)]
    line_map = {1: first, len(lines): last}
    line_map.update({i + 2: r.line for i, r in enumerate(rows)})
    found = [f for f in cparse.functions("\n".join(lines), line_map) if f.name == "__hunk__"]
    if not found:
        return None
    fn = found[0]
    fn.name = part.head_function
    fn.complete = False
    fn.entry_atom = part.entry_atom
    return fn


def changed_in(fn: CFunction, part: HunkSide) -> bool:
    return any(r.changed and fn.start_line <= r.line <= fn.end_line and not _comment_or_blank(r.text)
               for r in part.rows)


def changes_head(part: HunkSide) -> bool:
    """Does the patch change code in the rows inside the named function?"""
    return any(r.changed and not _comment_or_blank(r.text) for r in part.head)


def _comment_or_blank(line: str) -> bool:
    t = line.strip()
    return not t or t.startswith(("/*", "*", "//"))


def _top_kind(line: str) -> str:
    t = line.strip()
    if t.startswith("#"):
        return "macro"
    if re.match(r"^[A-Z][A-Z0-9_]*\s*(=\s*[A-Za-z_]\w*\s*)?,?\s*(/\*.*)?$", t):
        return "enum member"
    if t.endswith(";"):
        return "declaration"
    return "other"


class _Braces:
    """Counts braces line by line, outside comments, strings, character literals
    and preprocessor lines; remembers an open block comment across lines."""

    def __init__(self):
        self.in_comment = False

    def count(self, line: str) -> int:
        if not self.in_comment and line.lstrip().startswith("#"):
            return 0
        n, i, size = 0, 0, len(line)
        while i < size:
            c = line[i]
            if self.in_comment:
                if line.startswith("*/", i):
                    self.in_comment = False
                    i += 2
                    continue
            elif line.startswith("/*", i):
                self.in_comment = True
                i += 2
                continue
            elif line.startswith("//", i):
                break
            elif c in "\"'":
                end = line.find(c, i + 1)
                while end > 0 and line[end - 1] == "\\":
                    end = line.find(c, end + 1)
                i = size if end < 0 else end + 1
                continue
            elif c == "{":
                n += 1
            elif c == "}":
                n -= 1
            i += 1
        return n
