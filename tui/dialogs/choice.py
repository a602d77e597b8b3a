"""Small choice dialogs: which trailer to add, where to export. q or Escape closes."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList
from textual.widgets.option_list import Option

from tui.literal import printable


class ChoiceDialog(ModalScreen[str | None]):
    """Pick one of a few labelled choices (Enter, a digit, or the mouse)."""
    BINDINGS = [Binding("escape", "cancel", "Close"), Binding("q", "cancel", "Close")]

    def __init__(self, title: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text, self.choices = title, choices

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="choice-dialog"):
            yield Label(Text(printable(self.title_text), style="bold"))
            yield OptionList(*[Option(Text(f"{i + 1}  {printable(label)}"), id=key)
                               for i, (key, label) in enumerate(self.choices)], id="choices")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_key(self, event) -> None:
        if event.character and event.character.isdigit():
            i = int(event.character) - 1
            if 0 <= i < len(self.choices):
                event.stop()
                self.dismiss(self.choices[i][0])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ExportDialog(ModalScreen[tuple[str, str] | None]):
    """Export the review: as a reply mbox (path), or as b4 external comments (repo)."""
    BINDINGS = [Binding("escape", "cancel", "Close")]

    def __init__(self, mbox_path: str, repo: str, summary: str) -> None:
        super().__init__()
        self.mbox_path, self.repo, self.summary = mbox_path, repo, summary

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="export-dialog"):
            yield Label(Text("Export the review", style="bold"))
            yield Label(Text(printable(self.summary), style="dim"))
            yield Label("Replies: an mbox for a mail client, and beside it a directory of one "
                        ".eml per reply for git send-email:")
            yield Input(self.mbox_path, id="mbox-path")
            yield Label("b4 review repository (writes .git/b4-review/<tip>/):")
            yield Input(self.repo, id="b4-repo", placeholder="path of a repository enrolled in b4 review")
            with Horizontal(classes="buttons"):
                yield Button("Write mbox", id="do-mbox", variant="primary")
                yield Button("Write b4 comments", id="do-b4")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#mbox-path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "mbox-path":
            self.dismiss(("mbox", event.value))
        else:
            self.dismiss(("b4", event.value))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "do-mbox":
            self.dismiss(("mbox", self.query_one("#mbox-path", Input).value))
        elif event.button.id == "do-b4":
            self.dismiss(("b4", self.query_one("#b4-repo", Input).value))
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SearchDialog(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Close")]

    def __init__(self, last: str = "") -> None:
        super().__init__()
        self.last = last

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="search-dialog"):
            yield Label(Text("Search the thread (from the current line on; n / N repeat)", style="bold"))
            yield Input(self.last, id="search-input", placeholder="text, e.g. SetPageAnonExclusive")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
