"""The fuzz status line: what is being fuzzed, progress, findings so far, how to stop."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import ProgressBar, Static

from tui.literal import printable


class FuzzBar(Horizontal):
    DEFAULT_CLASSES = "idle"

    def compose(self) -> ComposeResult:
        yield Static(id="fuzz-label")
        yield ProgressBar(total=100, show_eta=False, id="fuzz-progress")

    def on_mount(self) -> None:
        self.idle("f fuzz the patch · F the series · ? help")

    def idle(self, text: str) -> None:
        self.set_class(True, "idle")
        self.query_one("#fuzz-label", Static).update(Text(printable(text), style="dim"))

    def running(self, label: str, done: float, total: float, findings: int, notes: int = 0) -> None:
        """`findings`: errors and warnings so far; `notes` apart."""
        self.set_class(False, "idle")
        t = Text(end="")
        t.append("fuzzing ", style="bold")
        t.append(printable(label))
        t.append(f"  {findings} finding{'s' if findings != 1 else ''}",
                 style="bold red" if findings else "dim")
        if notes:
            t.append(f" + {notes} note{'s' if notes != 1 else ''}", style="dim")
        t.append("  x stops", style="dim")
        self.query_one("#fuzz-label", Static).update(t)
        bar = self.query_one("#fuzz-progress", ProgressBar)
        bar.update(total=max(total, 1), progress=min(done, total))
