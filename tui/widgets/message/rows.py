"""A message as display rows: headers, body, and for a patch its commit message and
diff line by line, syntax-highlighted, with each reviewer's comments under the line
they quote (diff or commit message), the reviewer's own drafts, and errors and
warnings found at their lines.

Every row remembers what it shows (file, hunk, diff line, comment, body line) so that
the message pane can comment on a line, jump to a line, follow a quote and search.
A row's `prompt()` is what the pane draws: its gutter (old and new line numbers of a
diff line, a comment's bar) once, its text wrapped under it with a "↪" on each
continuation line. All mail text goes through tui.literal: shown, never interpreted.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from rich.syntax import Syntax
from rich.text import Text

from review.inputs.patch import reply_around_inline_patch
from review.inputs.quotes import commit_message_line
from review.model import DiffLine, FileDiff, Hunk, Message, Patch, ReviewComment
from review.reviewer.state import LineComment, ReviewState
from tui.literal import line as lit
from tui.literal import printable
from tui.widgets.wrap import Hanging

# Colours for reviewers, picked by a hash of the address so a reviewer keeps hers.
REVIEWER_COLOURS = ("cyan", "magenta", "yellow", "green", "bright_blue", "bright_red")
SIGN = {"added": "+", "removed": "-", "context": " "}
QUOTE_STYLES = ("green", "blue", "magenta", "cyan")
BAR = "▌ "


@dataclass(eq=False)
class Row:
    text: Text                     # what the row says (a comment: its lines, without bars)
    kind: str                      # header, body, quote, file, hunk, diff, comment, draft, finding, gap
    file: FileDiff | None = None
    hunk: Hunk | None = None
    line: DiffLine | None = None
    comment: ReviewComment | None = None
    draft: LineComment | None = None
    finding: object | None = None
    search_text: str = ""
    gutter: Text | None = None     # drawn once left of the text (a diff line's numbers and sign)
    bar_style: str = ""            # comments and drafts: each of their lines under a bar
    body_line: int = 0             # body and quote rows: the 1-based line of the body shown

    def prompt(self, needle: str = "") -> Hanging:
        """What the pane draws; `needle` (a search) highlighted in the text. Kept per
        needle: a prompt keeps its lines wrapped for the widths it was drawn at."""
        cache = self.__dict__.setdefault("_prompts", {})
        if needle not in cache:
            cache.clear()
            cache[needle] = self._prompt(needle)
        return cache[needle]

    def _prompt(self, needle: str) -> Hanging:
        text = self.text
        if needle and needle.lower() in text.plain.lower():
            text = text.copy()
            text.highlight_words([needle], style="reverse bold", case_sensitive=False)
        if self.bar_style:
            bar = Text(BAR, style=self.bar_style)
            pairs = [(bar, part) for part in text.split("\n", allow_blank=True)]
            return Hanging(*pairs[0], mark=BAR, mark_style=self.bar_style, more=pairs[1:])
        return Hanging(self.gutter or Text(""), text)


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


def body_rows(text: str, first_line: int = 1) -> list[Row]:
    """One row per line of mail text, quote levels coloured, the signature dimmed;
    `first_line`: the body line number of the text's first line."""
    rows = []
    in_sig = False
    for n, raw in enumerate(text.split("\n"), first_line):
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
        rows.append(Row(lit(raw, style=style), "quote" if depth else "body", search_text=raw, body_line=n))
    while rows and not rows[-1].search_text.strip():
        rows.pop()
    return rows


def _highlight_hunk(hunk: Hunk, dark: bool | None) -> list[Text]:
    """C highlighting of a hunk's lines, lexed together so comments spanning lines
    colour right; one Text per hunk line. `dark` None: no highlighting (rows that
    are searched, not shown)."""
    if dark is None:
        return [Text(printable(ln.text)) for ln in hunk.lines]
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
    t.append(printable(c.message.author_name or c.author_email), style=f"bold {colour}")
    if on_revision:
        t.append("  (on the inline revision)", style="dim")
    for ln in c.text.split("\n"):
        t.append("\n")
        t.append(printable(ln))
    return Row(t, "comment", comment=c, search_text=c.text, bar_style=colour)


def draft_row(text: str, identity: str, what: str = "c edits", draft: LineComment | None = None) -> Row:
    t = Text(end="")
    who = identity.split("<")[0].strip() or identity or "you"
    t.append(f"your draft ({printable(who)}) — {what}", style="bold")
    for ln in text.split("\n"):
        t.append("\n")
        t.append(printable(ln))
    return Row(t, "draft", draft=draft, search_text=text, bar_style="bold reverse")


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


def _gutter(ln: DiffLine, width: int) -> Text:
    """The old and the new line number side by side (a removed line has only the
    old, an added line only the new), then the sign."""
    t = Text(end="")
    t.append(f"{ln.old_lineno or '':>{width}} {ln.new_lineno or '':>{width}} ", style="dim")
    t.append(SIGN[ln.kind], style={"added": "bold green", "removed": "bold red"}.get(ln.kind, "dim"))
    return t


def _comments_by_line(patch: Patch, reviewers: set[str] | None,
                      extra: list | None) -> tuple[dict[int, list[ReviewComment]], set[int]]:
    by_line: dict[int, list[ReviewComment]] = {}
    revision: set[int] = set()
    pairs = [(c, c.anchor.last) for c in patch.comments if c.anchor is not None]
    for c, ln in extra or []:
        revision.add(id(c))
        pairs.append((c, ln))
    for c, ln in pairs:
        if reviewers is None or c.author_email.lower() in reviewers:
            by_line.setdefault(id(ln), []).append(c)
    return by_line, revision


def _findings_by_line(findings: list) -> dict[tuple[str, str, int], list]:
    at_line: dict[tuple[str, str, int], list] = {}
    for f in findings:
        if getattr(f, "severity", "warning") == "note":
            continue        # notes stay folded in the spec pane
        if getattr(f, "file", "") and getattr(f, "line", 0):
            side = "pre" if getattr(f, "image", "post") == "pre" else "post"
            at_line.setdefault((f.file, side, f.line), []).append(f)
    return at_line


def _file_rows(f: FileDiff) -> list[Row]:
    head = Text(end="")
    head.append("━━ ", style="bold")
    head.append(printable(f.path), style="bold underline")
    head.append(f"  +{f.added_count} -{f.removed_count}", style="dim")
    if f.status != "modified":
        head.append(f"  ({f.status}{' from ' + printable(f.old_path or '') if f.status == 'renamed' else ''})",
                    style="dim")
    return [Row(head, "file", file=f, search_text=f.path)] + \
        [Row(lit("⚠ " + w, style="yellow"), "header", file=f) for w in f.warnings]


def _diff_line_row(f: FileDiff, h: Hunk, ln: DiffLine, code: Text, width: int, dark: bool | None) -> Row:
    gutter = _gutter(ln, width)
    text = code.copy()
    text.end = ""
    if ln.kind in ("added", "removed") and dark is not None:
        bg = {"added": ("on #1d3b1d", "on #dcf5dc"), "removed": ("on #3f1d1d", "on #f8dcdc")}[ln.kind]
        text.stylize(bg[0] if dark else bg[1])
        gutter.stylize(bg[0] if dark else bg[1], gutter.cell_len - 1)
    return Row(text, "diff", file=f, hunk=h, line=ln, search_text=ln.text, gutter=gutter)


def diff_rows(patch: Patch, state: ReviewState, findings: list, dark: bool | None,
              reviewers: set[str] | None = None, extra: list | None = None) -> list[Row]:
    """The patch's diff with comments inline. `reviewers` (emails) limits whose
    comments show; None shows everyone's. `extra`: (comment, diff line) pairs of
    comments made on an inline revision of this patch, shown as such."""
    by_line, revision = _comments_by_line(patch, reviewers, extra)
    drafts = {(d.file, d.side, d.line): d for d in state.review(patch).comments}
    at_line = _findings_by_line(findings)
    rows: list[Row] = []
    width = max((len(str(max(h.old_start + h.old_count, h.new_start + h.new_count)))
                 for f in patch.files for h in f.hunks), default=3)
    for f in patch.files:
        rows += _file_rows(f)
        for h in f.hunks:
            rows.append(Row(lit(h.header, style="bold blue"), "hunk", file=f, hunk=h, search_text=h.header))
            for ln, code in zip(h.lines, _highlight_hunk(h, dark)):
                under = [_diff_line_row(f, h, ln, code, width, dark)]
                under += [comment_row(c, on_revision=id(c) in revision) for c in by_line.get(id(ln), [])]
                key = _line_key(f, ln)
                d = drafts.get(key)
                if d is not None and d.text.strip():
                    under.append(draft_row(d.text, state.identity, draft=d))
                under += [finding_row(fi) for fi in at_line.get(key, [])]
                for r in under:
                    r.file, r.hunk, r.line = f, h, ln
                rows += under
            for w in h.warnings:
                rows.append(Row(lit("⚠ " + w, style="yellow"), "header", file=f, hunk=h))
    return rows


def _commit_message_rows(patch: Patch, reviewers: set[str] | None) -> list[Row]:
    """The commit message, each reviewer's comment on a line of it under that line."""
    under: dict[int, list[ReviewComment]] = {}
    for c in patch.comments:
        if c.anchor is None and (reviewers is None or c.author_email.lower() in reviewers):
            at = commit_message_line(c, patch)
            if at is not None:
                under.setdefault(at, []).append(c)
    rows: list[Row] = []
    for i, r in enumerate(body_rows(patch.commit_message.rstrip("\n"))):
        r.body_line = 0         # lines of the commit message, not of the mail's body
        rows.append(r)
        rows += [comment_row(c) for c in under.get(i, [])]
    return rows


def _trailer_rows(patch: Patch, state: ReviewState) -> list[Row]:
    rows = [Row(Text(""), "gap")] if patch.trailers else []
    for tr in patch.trailers:
        t = Text(end="")
        t.append(printable(f"{tr.name}: {tr.value}"), style="green" if tr.from_reply else "")
        if tr.from_reply and tr.message is not None:
            t.append(printable(f"   (offered in reply by {tr.message.author_name or tr.message.author_email})"),
                     style="dim")
        rows.append(Row(t, "body", search_text=tr.value))
    for tr in state.review(patch).trailers:
        rows.append(Row(Text(f"{printable(tr)}   (your draft)", style="bold green"), "body", search_text=tr))
    return rows


def _inline_heading(patch: Patch) -> Row:
    t = Text("── inline patch: ", style="bold", end="")
    t.append(printable(patch.title), style="bold")
    if patch.revises is not None:
        t.append(printable(f"  (revises {patch.revises.label})"), style="dim")
    return Row(t, "body", search_text=patch.title)


def patch_rows(msg: Message, state: ReviewState, findings: list, dark: bool | None,
               reviewers: set[str] | None, extra: list | None) -> list[Row]:
    """A patch mail: commit message (comments on it under their lines), trailers (own
    and offered), notes, then the diff. A reply that carries a patch keeps its own
    text around it."""
    patch = msg.patch
    before, after = reply_around_inline_patch(msg.body) if patch.inline else ("", "")
    rows = body_rows(before) + [Row(Text(""), "gap"), _inline_heading(patch)] if patch.inline else []
    rows += _commit_message_rows(patch, reviewers)
    rows += _trailer_rows(patch, state)
    if patch.notes.strip():
        rows.append(Row(Text("---", style="dim"), "body"))
        notes = body_rows(patch.notes.rstrip("\n"))
        for r in notes:
            r.text.stylize("dim")
            r.body_line = 0
        rows += notes
    rows.append(Row(Text(""), "gap"))
    if not patch.files:
        rows += body_rows(patch.diff_text)
    rows += diff_rows(patch, state, findings, dark, reviewers, extra)
    if after:
        rows += [Row(Text(""), "gap")] + [Row(r.text, r.kind, search_text=r.search_text) for r in body_rows(after)]
    return rows


def message_rows(msg: Message, state: ReviewState, findings: list, dark: bool | None = True,
                 reviewers: set[str] | None = None, extra: list | None = None,
                 reply_draft: str = "") -> list[Row]:
    """`msg` as rows; `dark`: the theme the code is coloured for, None for rows that
    are only searched."""
    rows = _header_rows(msg)
    patch = msg.patch
    if patch is None or patch.inline and not patch.files:
        anchored = [c for c in msg.comments if c.anchor is not None]
        if anchored:
            hint = Text(f"↪ {len(anchored)} inline comment(s) on "
                        f"{printable(anchored[0].anchor.patch.label)}; Enter on a quoted line opens it there",
                        style="italic dim", end="")
            rows.append(Row(hint, "gap"))
        rows += body_rows(msg.body)
    else:
        rows += patch_rows(msg, state, findings, dark, reviewers, extra)
    if reply_draft.strip():
        rows += [Row(Text(""), "gap"), draft_row(reply_draft.strip("\n"), state.identity, "o or E edits")]
    return rows
