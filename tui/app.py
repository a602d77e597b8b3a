"""mmreview's review TUI: thread, patch and spec side by side.

    MMReviewApp(collection, state, tree=None, repo=None, budget=None)

The app holds the session (tui.session) and the global keys; the review screen is
tui.screens.main. Styles live in tui/mmreview.tcss, the command palette's provider in
tui/commands.py, the help in tui/help.py.
"""
from __future__ import annotations

import rich
from rich.segment import Segments
from rich.traceback import Traceback
from textual.app import App
from textual.binding import Binding
from textual.notifications import SeverityLevel

from review.model import Collection
from review.reviewer.state import ReviewState
from tui.commands import ReviewCommands
from tui.help import HelpScreen
from tui.literal import printable
from tui.screens.main import MainScreen
from tui.session import ReviewSession


class MMReviewApp(App):
    CSS_PATH = "mmreview.tcss"
    TITLE = "mmreview"
    COMMANDS = App.COMMANDS | {ReviewCommands}
    BINDINGS = [
        Binding("Q", "quit", "Quit", priority=False),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False),
    ]

    def __init__(self, collection: Collection, state: ReviewState, *, tree: str | None = None,
                 repo: str | None = None, budget: float | None = None, theme: str | None = None) -> None:
        super().__init__()
        # No smooth scrolling: a reviewer moving line by line wants the line now,
        # not 200 ms of animation per key.
        self.animation_level = "none"
        self.session = ReviewSession(collection, state, tree=tree)
        self.kernel_tree = tree
        self.repo = repo
        self.budget = budget
        if theme:
            self.theme = theme
        self.sub_title = printable(collection.source)

    def on_mount(self) -> None:
        self.push_screen(MainScreen(self.session))

    def _fatal_error(self) -> None:
        # Textual renders a crash with every frame's locals; our locals reach the whole
        # thread's object graph (back references), which takes minutes to pretty-print.
        # Same report without locals. (Drafts are on disk already.)
        self.bell()
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(Segments(self.console.render(traceback, self.console.options)))
        self._close_messages_no_wait()

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every notification (screens' and widgets' too end here) is plain text:
        they quote labels, subjects and search words from mail, which must neither
        be parsed as markup nor reach the terminal raw. `markup` is ignored."""
        super().notify(printable(message), title=printable(title), severity=severity,
                       timeout=timeout, markup=False)

    @property
    def main(self) -> MainScreen:
        for s in self.screen_stack:
            if isinstance(s, MainScreen):
                return s
        raise LookupError("no review screen")

    def on_resize(self, event) -> None:
        # 28 columns of thread leave a 72-column mail its width at 100 columns; from
        # 150 on, the thread pane has room for lore's overview with dates (mmreview.tcss)
        self.set_class(event.size.width >= 150, "-wide")
        self.set_class(event.size.width < 100, "-narrow")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def watch_theme(self, _theme: str) -> None:
        # diff colours depend on light/dark: redraw the message
        try:
            self.main.redraw()
        except LookupError:
            pass
