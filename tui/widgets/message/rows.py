"""A message as display rows: headers, body, and for a patch its diff line by line,
syntax-highlighted, with each reviewer's comments under the line they quote, the
reviewer's own draft comments, and findings at their implicated lines.

Every row remembers what it shows (file, hunk, diff line, comment) so that the
message pane can comment on a line, jump to a line and search. All mail text goes
through tui.literal: it is shown, never interpreted.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from rich.syntax import Syntax
from rich.text import Text

from review.model import DiffLine, FileDiff, Hunk, Message, Patch, ReviewComment
from review.reviewer.state import LineComment, ReviewState
from tui.literal import line as lit
from tui.literal import printable

# Colours for reviewers, picked by a hash of the address so a reviewer keeps hers.
REVIEWER_COLOURS = ("cyan", "magenta", "yellow", "green", "bright_blue", "bright_red")
SIGN = {"added": "+", "removed": "-", "context": " "}


@dataclass(eq=False)
class Row:
    text: Text
    kind: str                      # header, body, quote, file, hunk, diff, comment, draft, finding, gap
    file: FileDiff | None = None
    hunk: Hunk | None = None
    line: DiffLine | None = None
    comment: ReviewComment | None = None
    draft: LineComment | None = None
    finding: object | None = None
    search_text: str = ""


def reviewer_colour(email: str) -> str:
    h = int(hashlib.sha1(email.lower().encode()).hexdigest(), 16)
    return REVIEWER_COLOURS[h % len(REVIEWER_COLOURS)]


def _header_rows(msg: Message) -> list[Row]:
    rows = []
    date = msg.date.strftime("%a, %d %b %Y %H:%M %z") if msg.date else "(no date)"
    for name, value in (("From", msg.author), ("Date", date), ("Subject", msg.subject)):
        t = Text(f"{name}: ", style="bold", end="")
        t.append_text(lit(value))
        rows.append(Row(t, "header", search_text=value))
    everyone = msg.to + msg.cc
    if everyone:
        # long Cc lists are the norm on linux-mm: one row, the rest counted
        shown = ", ".join(everyone[:2])
        more = f" (+{len(everyone) - 2} more)" if len(everyone) > 2 else ""
        t = Text("To/Cc: ", style="bold dim", end="")
        t.append_text(lit(shown + more, style="dim"))
        rows.append(Row(t, "header", search_text=", ".join(everyone)))
    for w in msg.warnings:
        rows.append(Row(lit("⚠ " + w, style="yellow"), "header"))
    rows.append(Row(Text(""), "gap"))
    return rows


QUOTE_STYLES = ("green", "blue", "magenta", "cyan")


def body_rows(text: str) -> list[Row]:
    rows = []
    in_sig = False
    for raw in text.split("\n"):
        if raw == "-- ":
            in_sig = True
        depth = 0
        probe = raw
        while probe.startswith(">"):
            depth += 1
            probe = probe[1:].lstrip(" ")
        if in_sig:
            style = "dim"
        elif depth:
            style = QUOTE_STYLES[(depth - 1) % len(QUOTE_STYLES)]
        else:
            style = ""
        rows.append(Row(lit(raw, style=style), "quote" if depth else "body", search_text=raw))
    while rows and not rows[-1].search_text.strip():
        rows.pop()
    return rows


def _highlight_hunk(hunk: Hunk, dark: bool) -> list[Text]:
    """C highlighting of a hunk's lines, lexed together so comments spanning lines
    colour right; one Text per hunk line."""
    code = "\n".join(printable(ln.text) for ln in hunk.lines)
    theme = "monokai" if dark else "default"
    try:
        text = Syntax(code, "c", theme=theme, background_color="default").highlight(code)
        parts = text.split("\n", allow_blank=True)
    except Exception:  # a lexer hiccup must not hide the diff
        parts = []
    if len(parts) < len(hunk.lines):
        parts = [Text(printable(ln.text)) for ln in hunk.lines]
    return list(parts[: len(hunk.lines)])


def comment_row(c: ReviewComment, on_revision: bool = False) -> Row:
    colour = reviewer_colour(c.author_email)
    t = Text(end="")
    t.append("▌ ", style=colour)
    t.append(printable(c.message.author_name or c.author_email), style=f"bold {colour}")
    if on_revision:
        t.append("  (on the inline revision)", style="dim")
    for ln in c.text.split("\n"):
        t.append("\n▌ ", style=colour)
        t.append(printable(ln))
    return Row(t, "comment", comment=c, search_text=c.text)


def draft_row(d: LineComment, identity: str) -> Row:
    t = Text(end="")
    t.append("▌ ", style="bold reverse")
    t.append(f"your draft ({printable(identity.split('<')[0].strip() or identity)}) — c edits", style="bold")
    for ln in d.text.split("\n"):
        t.append("\n▌ ", style="bold reverse")
        t.append(printable(ln))
    return Row(t, "draft", draft=d, search_text=d.text)


def finding_row(f) -> Row:
    sev = getattr(f, "severity", "warning")
    colour = {"error": "bold red", "warning": "bold yellow"}.get(sev, "bold blue")
    t = Text(end="")
    t.append(f"⚠ {sev} {getattr(f, 'id', '')}: ", style=colour)
    t.append(printable(getattr(f, "message", "")))
    return Row(t, "finding", finding=f, search_text=getattr(f, "message", ""))


def _line_key(file: FileDiff, ln: DiffLine) -> tuple[str, str, int]:
    if ln.kind == "removed":
        return (file.path, "pre", int(ln.old_lineno or 0))
    return (file.path, "post", int(ln.new_lineno or 0))


def diff_rows(patch: Patch, state: ReviewState, findings: list, dark: bool,
              reviewers: set[str] | None = None, extra: list | None = None) -> list[Row]:
    """The patch's diff with comments inline. `reviewers` (emails) limits whose
    comments show; None shows everyone's. `extra`: (comment, diff line) pairs of
    comments made on an inline revision of this patch, shown as such."""
    by_line: dict[int, list[ReviewComment]] = {}
    revision: set[int] = set()
    pairs = [(c, c.anchor.last) for c in patch.comments if c.anchor is not None]
    for c, ln in extra or []:
        revision.add(id(c))
        pairs.append((c, ln))
    for c, ln in pairs:
        if reviewers is not None and c.author_email.lower() not in reviewers:
            continue
        by_line.setdefault(id(ln), []).append(c)
    drafts = {(d.file, d.side, d.line): d for d in state.review(patch).comments}
    at_line: dict[tuple[str, str, int], list] = {}
    for f in findings:
        if getattr(f, "file", "") and getattr(f, "line", 0):
            side = "pre" if getattr(f, "image", "post") == "pre" else "post"
            at_line.setdefault((f.file, side, f.line), []).append(f)
    rows: list[Row] = []
    width = max((len(str(max(h.old_start + h.old_count, h.new_start + h.new_count)))
                 for f in patch.files for h in f.hunks), default=3)
    for f in patch.files:
        head = Text(end="")
        head.append("━━ ", style="bold")
        head.append(printable(f.path), style="bold underline")
        head.append(f"  +{f.added_count} -{f.removed_count}", style="dim")
        if f.status != "modified":
            head.append(f"  ({f.status}{' from ' + printable(f.old_path or '') if f.status == 'renamed' else ''})",
                        style="dim")
        rows.append(Row(head, "file", file=f, search_text=f.path))
        for w in f.warnings:
            rows.append(Row(lit("⚠ " + w, style="yellow"), "header", file=f))
        for h in f.hunks:
            rows.append(Row(lit(h.header, style="bold blue"), "hunk", file=f, hunk=h, search_text=h.header))
            for ln, code in zip(h.lines, _highlight_hunk(h, dark)):
                number = ln.old_lineno if ln.kind == "removed" else ln.new_lineno
                t = Text(end="", no_wrap=True, overflow="crop")
                t.append(f"{number or '':>{width}} ", style="dim")
                sign_style = {"added": "bold green", "removed": "bold red"}.get(ln.kind, "dim")
                t.append(SIGN[ln.kind], style=sign_style)
                t.append_text(code)
                if ln.kind == "added":
                    t.stylize("on #1d3b1d" if dark else "on #dcf5dc", width + 1)
                elif ln.kind == "removed":
                    t.stylize("on #3f1d1d" if dark else "on #f8dcdc", width + 1)
                rows.append(Row(t, "diff", file=f, hunk=h, line=ln, search_text=ln.text))
                for c in by_line.get(id(ln), []):
                    r = comment_row(c, on_revision=id(c) in revision)
                    r.file, r.hunk, r.line = f, h, ln
                    rows.append(r)
                key = _line_key(f, ln)
                d = drafts.get(key)
                if d is not None and d.text.strip():
                    r = draft_row(d, state.identity)
                    r.file, r.hunk, r.line = f, h, ln
                    rows.append(r)
                for fi in at_line.get(key, []):
                    r = finding_row(fi)
                    r.file, r.hunk, r.line = f, h, ln
                    rows.append(r)
            for w in h.warnings:
                rows.append(Row(lit("⚠ " + w, style="yellow"), "header", file=f, hunk=h))
    return rows


def message_rows(msg: Message, state: ReviewState, findings: list, dark: bool = True,
                 reviewers: set[str] | None = None, extra: list | None = None) -> list[Row]:
    rows = _header_rows(msg)
    patch = msg.patch
    if patch is None or patch.inline and not patch.files:
        if msg.comments and any(c.anchor is not None for c in msg.comments):
            c0 = next(c for c in msg.comments if c.anchor is not None)
            hint = Text(f"↪ {sum(1 for c in msg.comments if c.anchor)} inline comment(s) on "
                        f"{printable(c0.anchor.patch.label)}; Enter on a quoted line opens it there",
                        style="italic dim", end="")
            rows.append(Row(hint, "gap"))
        rows += body_rows(msg.body)
        return rows
    # A patch mail: commit message, trailers (own and offered), notes, then the diff.
    rows += body_rows(patch.commit_message.rstrip("\n"))
    if patch.trailers:
        rows.append(Row(Text(""), "gap"))
        for tr in patch.trailers:
            t = Text(end="")
            t.append(printable(f"{tr.name}: {tr.value}"), style="green" if tr.from_reply else "")
            if tr.from_reply and tr.message is not None:
                t.append(printable(f"   (offered in reply by {tr.message.author_name or tr.message.author_email})"),
                         style="dim")
            rows.append(Row(t, "body", search_text=tr.value))
    mine = state.review(patch).trailers
    for tr in mine:
        rows.append(Row(Text(f"{printable(tr)}   (your draft)", style="bold green"), "body", search_text=tr))
    if patch.notes.strip():
        rows.append(Row(Text("---", style="dim"), "body"))
        rows += [Row(r.text, r.kind, search_text=r.search_text) for r in body_rows(patch.notes.rstrip("\n"))]
        for r in rows[-len(patch.notes.strip().split("\n")):]:
            r.text.stylize("dim")
    rows.append(Row(Text(""), "gap"))
    if not patch.files:
        rows += body_rows(patch.diff_text)
    rows += diff_rows(patch, state, findings, dark, reviewers, extra)
    return rows
