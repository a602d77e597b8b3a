"""The message pane: one message as rows (tui.widgets.message.rows) with a line
cursor. Up/down move the cursor, Enter on a quoted or diff line follows it, `c`
comments on the diff line under the cursor (handled by the screen).

A line jumped to (a quote followed, a finding, a search hit) is centred, not left
at an edge. The search in progress is highlighted in every row that holds it."""
from __future__ import annotations

from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import Reactive
from textual.message import Message as TMessage
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from review.model import DiffLine, Message
from tui.literal import line as lit
from tui.widgets.message.rows import Row, message_rows


class MessagePane(OptionList):
    BORDER_TITLE = "Message"
    # The pane's size is the layout's (1fr), whatever the length of the message: a new
    # message needs its own lines repainted, not the whole screen laid out again
    # (Widget's virtual_size asks for that, tens of milliseconds per key at 200x50).
    virtual_size = Reactive(Size(0, 0), layout=False)
    BINDINGS = [
        Binding("space", "page_down", "Page", show=False),
        Binding("b", "page_up", "Page up", show=False),
        Binding("g", "first", "Top", show=False),
        Binding("G", "last", "Bottom", show=False),
    ]

    class Follow(TMessage):
        """Enter on a row that points elsewhere (a quoted line, a comment)."""
        def __init__(self, row: Row) -> None:
            super().__init__()
            self.row = row

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.message: Message | None = None
        self.rows: list[Row] = []
        self.needle = ""

    def show(self, msg: Message, state, findings: list, dark: bool, keep_cursor: bool = False,
             reviewers: set[str] | None = None, extra: list | None = None, reply_draft: str = "",
             rows: list[Row] | None = None) -> None:
        """Show `msg` (its `rows` when the caller has them already)."""
        same = self.message is msg
        old = self.highlighted if (keep_cursor and same) else None
        old_scroll = self.scroll_y if (keep_cursor and same) else 0
        self.message = msg
        self.rows = rows if rows is not None else message_rows(msg, state, findings, dark, reviewers,
                                                                extra, reply_draft)
        self._set_prompts()
        if old is not None and self.rows:
            self.highlighted = min(old, len(self.rows) - 1)
            self.scroll_to(y=old_scroll, animate=False, immediate=True)
        else:
            self.highlighted = 0 if self.rows else None
            self.scroll_home(animate=False, immediate=True)
        title = msg.patch.label if msg.patch is not None else (msg.author_name or msg.author_email)
        # a Text: a plain string would be parsed as markup
        self.border_title = lit(f"Message · {title}")

    def _set_prompts(self) -> None:
        self.set_options([Option(r.prompt(self.needle)) for r in self.rows])

    def set_needle(self, needle: str) -> None:
        """Highlight `needle` (a search) in the rows; '' for none."""
        if needle == self.needle:
            return
        self.needle = needle
        keep, scroll = self.highlighted, self.scroll_y
        self._set_prompts()
        self.highlighted = keep
        self.scroll_to(y=scroll, animate=False, immediate=True)

    @property
    def current_row(self) -> Row | None:
        i = self.highlighted
        return self.rows[i] if i is not None and 0 <= i < len(self.rows) else None

    def centre(self, i: int) -> None:
        """Put the cursor on row `i`, in the middle of the pane."""
        self.highlighted = i
        self._update_lines()
        y = self._index_to_line.get(i)
        if y is None:
            return
        height = self._heights.get(i, 1)
        view = self.scrollable_content_region.height
        top = max(0, y - max(0, (view - height) // 2))
        self.scroll_to(y=top, animate=False, immediate=True, force=True)

    def jump_to_line(self, file: str, side: str, number: int) -> bool:
        """Put the cursor on the diff line `file`:`number` of `side` (pre/post)."""
        for i, r in enumerate(self.rows):
            ln = r.line
            if r.kind != "diff" or ln is None or r.file is None or file not in (r.file.path, r.file.old_path):
                continue
            n = ln.old_lineno if side == "pre" else ln.new_lineno
            if n == number and (side == "pre" or ln.kind != "removed"):
                self.centre(i)
                return True
        return False

    def jump_to_diff_line(self, target: DiffLine) -> bool:
        for i, r in enumerate(self.rows):
            if r.line is target and r.kind == "diff":
                self.centre(i)
                return True
        return False

    def find(self, needle: str, start: int, step: int = 1) -> int | None:
        n = needle.lower()
        idx = range(start, len(self.rows)) if step > 0 else range(start, -1, -1)
        for i in idx:
            if n in self.rows[i].search_text.lower():
                return i
        return None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        row = self.current_row
        if row is not None:
            self.post_message(self.Follow(row))
