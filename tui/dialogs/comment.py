"""Write a comment on one diff line. The text is saved to the draft file as it is
typed (ReviewState.set_comment on every change), so a crash loses nothing; Escape or
q (when the editor is not focused) or Ctrl+S closes. Emptying the text drops it."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static, TextArea

from review.model import DiffLine, FileDiff, Hunk, Patch
from review.reviewer.state import ReviewState
from tui.literal import printable


class CommentDialog(ModalScreen[str | None]):
    BINDINGS = [
        # priority: the editor would otherwise take Escape to release focus
        Binding("escape", "close", "Done", priority=True),
        Binding("ctrl+s", "close", "Save", priority=True),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, state: ReviewState, patch: Patch, file: FileDiff, hunk: Hunk, line: DiffLine) -> None:
        super().__init__()
        self.state, self.patch, self.file, self.hunk, self.line = state, patch, file, hunk, line
        existing = state.comment_at(patch, file, line)
        self.initial = existing.text if existing else ""

    def compose(self) -> ComposeResult:
        number = self.line.old_lineno if self.line.kind == "removed" else self.line.new_lineno
        sign = {"added": "+", "removed": "-"}.get(self.line.kind, " ")
        with Vertical(id="dialog", classes="comment-dialog"):
            yield Label(Text(printable(f"Comment on {self.file.path}:{number}  ({self.patch.label})"),
                             style="bold"))
            yield Static(Text(printable(sign + self.line.text), no_wrap=True, overflow="ellipsis"),
                         classes="quoted-line")
            yield TextArea(self.initial, id="comment-text", soft_wrap=True, show_line_numbers=False,
                           tab_behavior="indent")
            yield Label(Text("saved as you type · Esc/Ctrl+S done · empty text drops the comment",
                             style="dim"))

    def on_mount(self) -> None:
        ta = self.query_one(TextArea)
        ta.focus()
        ta.move_cursor(ta.document.end)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self.state.set_comment(self.patch, self.file, self.hunk, self.line, event.text_area.text)

    def action_close(self) -> None:
        text = self.query_one(TextArea).text
        self.state.set_comment(self.patch, self.file, self.hunk, self.line, text)
        self.dismiss(text)
