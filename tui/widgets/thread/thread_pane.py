"""The thread pane: lore's thread overview of each series version, with the
reviewer's marks.

One line per message, in reply order (review.inputs.overview): the date (UTC, as
lore shows it; shortened, then dropped, as the pane narrows), marks, the reply
tree as lore draws it ("` " under the parent), then for a patch its number and full
title, for a reply its author. Long lines wrap under their text (in a narrow pane
they are cut: `z` widens it). Patches the
input lacks are listed in their place under their titles, dimmed, "missing".

Marks: ✓ reviewed, – skipped, ✎ a draft (comments, a note or a reply), ! findings
(errors and warnings; notes alone do not mark).
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from rich.text import Text
from textual.message import Message as TMessage
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from review.inputs.overview import Entry, entries
from review.model import Message, Series
from tui.literal import printable
from tui.session import Group, ReviewSession
from tui.widgets.wrap import Hanging

_EXAMPLE = _dt.datetime(2000, 1, 1)
MARKS = {"reviewed": ("✓", "green"), "skipped": ("–", "yellow")}
WIDE = 60       # from this width on (of text): the full date and time
TIMED = 44      # from this width on: month, day and time
DATED = 30      # from this width on: month and day


@dataclass(eq=False)
class Line:
    """One line of the pane: a group's heading or an overview entry."""
    group: Group
    entry: Entry | None = None

    @property
    def message(self) -> Message | None:
        return self.entry.message if self.entry is not None else None


def _date_column(msg: Message | None, width: int) -> Text:
    if width < DATED:
        return Text("")
    date = msg.date if msg is not None else None
    if date is not None and date.tzinfo is not None:
        date = date.astimezone(_dt.timezone.utc)
    form = "%Y-%m-%d %H:%M" if width >= WIDE else "%m-%d %H:%M" if width >= TIMED else "%m-%d"
    shown = date.strftime(form) if date else " " * len(_EXAMPLE.strftime(form))
    return Text(shown + " ", style="dim")


def _tree(depth: int, width: int) -> str:
    if depth == 0:
        return ""
    depth = min(depth, max(1, (width - 24) // 4))     # deep replies keep room for words
    return "  " * (depth - 1) + "` "


class ThreadPane(OptionList):
    """Series > threads > messages. Moving the cursor shows the message."""

    BORDER_TITLE = "Thread"

    class Shown(TMessage):
        def __init__(self, message: Message) -> None:
            super().__init__()
            self.message = message

    def __init__(self, session: ReviewSession, **kw) -> None:
        super().__init__(**kw)
        self.session = session
        self.lines: list[Line] = []
        self._index: dict[str, int] = {}

    def on_mount(self) -> None:
        self.rebuild()

    # ----------------------------------------------------------------- building
    def rebuild(self) -> None:
        self.lines = []
        for group in self.session.groups():
            self.lines.append(Line(group))
            for thread in group.threads:
                self.lines += [Line(group, e) for e in entries(thread, group.series)]
        self._index = {ln.message.msgid: i for i, ln in enumerate(self.lines) if ln.message is not None}
        keep = self.highlighted
        self.set_options([Option(self._render(ln)) for ln in self.lines])
        if keep is not None and self.lines:
            self.highlighted = min(keep, len(self.lines) - 1)

    def _render(self, line: Line) -> Hanging:
        if line.entry is None:
            return Hanging(Text(""), self._group_label(line.group), mark="", min_wrap=DATED)
        e = line.entry
        marks = self._marks(e)

        def gutter(width: int) -> Text:
            t = _date_column(e.message, width)
            t.append_text(marks)
            t.append(_tree(e.depth, width), style="dim")
            return t
        return Hanging(Text(""), self.label_for_entry(e, line.group.series), mark="", gutter_for=gutter,
                       min_wrap=DATED)

    def _group_label(self, group: Group) -> Text:
        t = Text(end="")
        t.append(printable(group.label), style="bold")
        if group.series is not None:
            c = self.session.state.counts(group.series.patches)
            done = c["reviewed"] + c["skipped"]
            t.append(f"  {done}/{len(group.series.patches)} reviewed", style="dim")
        return t

    def _marks(self, e: Entry) -> Text:
        """Three fixed columns: the patch's mark, a draft, findings."""
        t = Text(end="")
        msg = e.message
        patch = msg.patch if msg is not None else None
        if patch is not None and not patch.inline:
            review = self.session.state.review(patch)
            sym, colour = MARKS.get(review.mark, (" ", ""))
            t.append(sym, style=colour)
            t.append("✎" if review.comments or review.note.strip() else " ", style="magenta")
            t.append("!" if self.session.serious_findings(patch) else " ", style="bold red")
        else:
            drafted = msg is not None and self.session.has_draft(msg)
            t.append(" ✎ " if drafted else "   ", style="magenta")
        return t

    def label_for_entry(self, e: Entry, series: Series | None = None) -> Text:
        t = Text(end="")
        msg = e.message
        if msg is None:
            if e.counter and series is not None:
                t.append(f"{e.counter:0{len(str(series.expected))}d}/{series.expected} ", style="dim bold")
                t.append(printable(e.title or "(title unknown)"), style="dim italic")
                t.append("  missing", style="dim")
            else:
                t.append(printable(f"({e.node.msgid} not in this input)"), style="dim italic")
            return t
        patch = msg.patch
        si = msg.subject_info
        if patch is not None and not patch.inline:
            t.append(f"{patch.counter:0{len(str(patch.expected))}d}/{patch.expected} ", style="bold")
            t.append(printable(patch.title))
            if series is None or series.author_email.lower() != msg.author_email.lower():
                t.append("  " + printable(msg.author_name or msg.author_email), style="dim cyan")
        elif si is not None and si.is_cover and not msg.is_reply:
            t.append(f"{0:0{len(str(si.expected))}d}/{si.expected} ", style="bold")
            t.append(printable(si.title))
            t.append("  " + printable(msg.author_name or msg.author_email), style="dim cyan")
        else:
            t.append(printable(msg.author_name or msg.author_email), style="cyan")
            if patch is not None:
                t.append("  inline patch", style="dim")
            n = sum(1 for c in msg.comments if c.anchor is not None)
            if n:
                t.append(f" ({n} inline)", style="dim")
            if msg.trailers:
                t.append(" " + printable(", ".join(sorted({tr.name for tr in msg.trailers}))), style="green")
        return t

    def label_for(self, node) -> Text:
        """The label and marks of the message `node` holds, as the pane shows them."""
        i = self._index.get(node.msgid)
        if i is None:
            return Text("")
        line = self.lines[i]
        t = self._marks(line.entry)
        t.append_text(self.label_for_entry(line.entry, line.group.series))
        return t

    def refresh_labels(self) -> None:
        keep, scroll = self.highlighted, self.scroll_y
        self.set_options([Option(self._render(ln)) for ln in self.lines])
        if keep is not None and self.lines:
            self.highlighted = keep
        self.scroll_to(y=scroll, animate=False, immediate=True)

    # ----------------------------------------------------------------- navigation
    def line_of(self, msg: Message) -> int | None:
        """The option index of `msg`'s line."""
        return self._index.get(msg.msgid)

    def y_of(self, msg: Message) -> int | None:
        """The first screen line (of the whole list, before scrolling) of `msg`'s entry."""
        i = self._index.get(msg.msgid)
        return None if i is None else self._index_to_line.get(i)

    def select_message(self, msg: Message) -> None:
        i = self._index.get(msg.msgid)
        if i is None or i == self.highlighted:
            return
        self.highlighted = i

    @property
    def current(self) -> Message | None:
        i = self.highlighted
        return self.lines[i].message if i is not None and 0 <= i < len(self.lines) else None

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        msg = self.current
        if msg is not None:
            self.post_message(self.Shown(msg))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
