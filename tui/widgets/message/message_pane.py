"""The message pane: one message as rows (tui.widgets.message.rows) with a line
cursor. Up/down move the cursor, Enter on a quoted or diff line follows it, `c`
comments on the diff line under the cursor (handled by the screen)."""
from __future__ import annotations

from textual.binding import Binding
from textual.message import Message as TMessage
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from review.model import DiffLine, Message
from tui.literal import line as lit
from tui.widgets.message.rows import Row, message_rows


class MessagePane(OptionList):
    BORDER_TITLE = "Message"
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

    def show(self, msg: Message, state, findings: list, dark: bool, keep_cursor: bool = False,
             reviewers: set[str] | None = None, extra: list | None = None) -> None:
        same = self.message is msg
        old = self.highlighted if (keep_cursor and same) else None
        old_scroll = self.scroll_y if (keep_cursor and same) else 0
        self.message = msg
        self.rows = message_rows(msg, state, findings, dark, reviewers, extra)
        self.set_options([Option(r.text) for r in self.rows])
        if old is not None and self.rows:
            self.highlighted = min(old, len(self.rows) - 1)
            self.scroll_to(y=old_scroll, animate=False)
        else:
            self.highlighted = 0 if self.rows else None
            self.scroll_home(animate=False)
        title = msg.patch.label if msg.patch is not None else (msg.author_name or msg.author_email)
        # a Text: a plain string would be parsed as markup
        self.border_title = lit(f"Message · {title}")

    @property
    def current_row(self) -> Row | None:
        i = self.highlighted
        return self.rows[i] if i is not None and 0 <= i < len(self.rows) else None

    def jump_to_line(self, file: str, side: str, number: int) -> bool:
        """Put the cursor on the diff line `file`:`number` of `side` (pre/post)."""
        for i, r in enumerate(self.rows):
            ln = r.line
            if r.kind != "diff" or ln is None or r.file is None or file not in (r.file.path, r.file.old_path):
                continue
            n = ln.old_lineno if side == "pre" else ln.new_lineno
            if n == number and (side == "pre" or ln.kind != "removed"):
                self.highlighted = i
                self.scroll_to_highlight(top=False)
                self.scroll_to(y=max(0, self.scroll_y), animate=False)
                return True
        return False

    def jump_to_diff_line(self, target: DiffLine) -> bool:
        for i, r in enumerate(self.rows):
            if r.line is target and r.kind == "diff":
                self.highlighted = i
                self.scroll_to_highlight()
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
