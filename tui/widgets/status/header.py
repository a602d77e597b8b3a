"""The title line: the app's name and the subject of the message in view.

Set through `show()`, not by watching the screen's sub_title: Textual repaints the
whole screen when a screen's sub_title changes, and its header lays the screen out
again when its title does; both on every j and k here. A one-line title as wide as the
screen never changes size: it is only repainted."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Header
from textual.widgets._header import HeaderTitle


class _Title(HeaderTitle):
    def update(self, content="", *, layout: bool = True) -> None:
        super().update(content, layout=False)


class ReviewHeader(Header):
    def compose(self) -> ComposeResult:
        for widget in super().compose():
            yield _Title() if type(widget) is HeaderTitle else widget

    def show(self, subtitle: str) -> None:
        """`subtitle` (already made printable) beside the app's title."""
        self.query_one(_Title).update(self.app.format_title(self.app.title, subtitle))
