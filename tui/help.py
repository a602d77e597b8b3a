"""The help screen (?): every key, grouped as a reviewer uses them."""
from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: list[tuple[str, list[tuple[str, str]]]] = [
    ("Reading", [
        ("j / k", "next / previous message (thread order)"),
        ("] / [", "next / previous patch"),
        ("u / !", "next unreviewed patch / next error or warning found"),
        ("tab / shift+tab", "next / previous pane: thread, message, spec"),
        ("↑ ↓ PgUp PgDn space b", "move the line cursor, page"),
        ("enter", "quoted line: the patch there; rule, finding: its line; notes: unfold"),
        ("/  n  N", "search the thread, counted (3/7); next / previous, wrapping"),
        ("v / D", "raw message / range-diff against the patch's other version"),
        ("z / w", "zoom the pane / only the comments of the reviewer under the cursor"),
    ]),
    ("Reviewing", [
        ("c", "comment on the diff line under the cursor (saved as you type)"),
        ("o / E", "reply to this message (a patch: its note), in a dialog / in $EDITOR"),
        ("r / s", "mark the patch reviewed / skipped (again: clear)"),
        ("t", "add Reviewed-by, Acked-by or Tested-by (on a cover letter: for the series)"),
        ("e", "export: mbox and .eml files (git send-email DIR), or b4 comments"),
    ]),
    ("Checking", [
        ("f / F", "fuzz the patch / every patch of its series, in the background"),
        ("x", "stop fuzzing (findings so far stay)"),
        ("1 2 3", "spec pane: rules / findings / trace"),
    ]),
    ("Everything else", [
        ("ctrl+p", "command palette"),
        ("ctrl+t", "light / dark theme"),
        ("?", "this help"),
        ("q / escape", "close a dialog or view"),
        ("Q", "quit (drafts are already saved)"),
    ]),
]


def help_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for section, keys in KEYS:
        table.add_row(Text(section, style="bold underline"), "")
        for key, what in keys:
            table.add_row(key, what)
        table.add_row("", "")
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close"), Binding("q", "close", "Close"),
                Binding("question_mark", "close", "Close", show=False)]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog", classes="help-dialog"):
            yield Static(help_table())

    def action_close(self) -> None:
        self.dismiss(None)
