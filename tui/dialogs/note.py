"""A reply to a message, or the note of a patch's reply (above its quoted hunks), saved as typed."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, TextArea

from tui.literal import printable


class NoteDialog(ModalScreen[str]):
    BINDINGS = [Binding("escape", "close", "Done", priority=True),
                Binding("ctrl+s", "close", "Save", priority=True)]

    def __init__(self, title: str, initial: str, on_change) -> None:
        super().__init__()
        self.title_text, self.initial, self.on_change = title, initial, on_change

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="comment-dialog"):
            yield Label(Text(printable(self.title_text), style="bold"))
            yield TextArea(self.initial, id="note-text", soft_wrap=True)
            yield Label(Text("saved as you type · Esc/Ctrl+S done", style="dim"))

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self.on_change(event.text_area.text)

    def action_close(self) -> None:
        self.dismiss(self.query_one(TextArea).text)
