"""Lines that wrap under their own text, not under their gutter.

`Hanging(gutter, body)` shows `gutter` (line numbers, a date and a tree, a comment's
bar) once and `body` wrapped in the columns right of it; each continuation line
starts with `mark` ("↪") where the gutter was, so that a wrapped line never reads
as a line of its own. Several pairs make one entry (`Hanging.lines_of`: a comment
of many lines, each under its bar).

It is a Textual Visual: the lines for a width are computed once and kept, so the
panes of a long patch do not wrap every line again on each repaint or key.
"""
from __future__ import annotations

from typing import Callable

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.text import Text
from textual._context import active_app
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual

CONTINUATION = "↪"


class Hanging(Visual):
    """One or more (gutter, body) pairs; `gutter_for(width)` replaces the gutter of
    the first pair by one that depends on the width (the thread pane's date column);
    below `min_wrap` columns a pair is one line cut with "…" (wrapping into a few
    columns would turn one line into many)."""

    def __init__(self, gutter: Text, body: Text, mark: str = CONTINUATION, mark_style: str = "dim",
                 gutter_for: Callable[[int], Text] | None = None, min_wrap: int = 0,
                 more: list[tuple[Text, Text]] = ()) -> None:
        self.pairs = [(gutter, body)] + list(more)
        self.mark = mark
        self.mark_style = mark_style
        self.gutter_for = gutter_for
        self.min_wrap = min_wrap
        self._cache: dict[int, list[Text]] = {}
        self._strips: dict[tuple, list[Strip]] = {}

    @property
    def plain(self) -> str:
        return "\n".join(g.plain + b.plain for g, b in self.pairs)

    # ------------------------------------------------------------------ layout
    def _continuation(self, gutter: Text) -> str:
        if gutter.cell_len:
            return self.mark.rjust(gutter.cell_len) if cell_len(self.mark) <= gutter.cell_len \
                else self.mark
        return self.mark + " " if self.mark else ""

    def _pair_lines(self, console: Console, gutter: Text, body: Text, width: int) -> list[Text]:
        if width < self.min_wrap:
            line = Text(no_wrap=True, overflow="ellipsis", end="")
            line.append_text(gutter)
            line.append_text(body)
            line.truncate(width, overflow="ellipsis")
            return [line]
        if gutter.cell_len + body.cell_len <= width and "\n" not in body.plain:
            line = Text(no_wrap=True, overflow="crop", end="")     # fits: most lines
            line.append_text(gutter)
            line.append_text(body)
            return [line]
        cont = self._continuation(gutter)
        room = max(8, width - max(gutter.cell_len, cell_len(cont)))
        out: list[Text] = []
        for i, part in enumerate(body.wrap(console, room, overflow="fold", no_wrap=False)):
            line = Text(no_wrap=True, overflow="crop", end="")
            if i == 0:
                line.append_text(gutter)
            else:
                line.append(cont, style=self.mark_style)
            line.append_text(part)
            out.append(line)
        return out or [gutter.copy()]

    def lines(self, console: Console, width: int) -> list[Text]:
        if width not in self._cache:
            out: list[Text] = []
            for n, (gutter, body) in enumerate(self.pairs):
                if n == 0 and self.gutter_for is not None:
                    gutter = self.gutter_for(width)
                out += self._pair_lines(console, gutter, body, width)
            self._cache[width] = out
        return self._cache[width]

    # ------------------------------------------------------------------ Visual
    def render_strips(self, width: int, height: int | None, style: Style,
                      options: RenderOptions) -> list[Strip]:
        key = (width, height, style)
        if key not in self._strips:
            console = active_app.get().console
            base = style.rich_style
            strips = []
            for line in self.lines(console, width)[:height]:
                segments = Segment.apply_style(line.render(console, end=""), base)
                strips.append(Strip(list(segments)).crop(0, width))
            if len(self._strips) > 8:       # a few widths and styles (cursor, plain)
                self._strips.clear()
            self._strips[key] = strips
        return self._strips[key]

    def get_optimal_width(self, rules, container_width: int) -> int:
        return container_width

    def get_height(self, rules, width: int) -> int:
        return len(self.lines(active_app.get().console, width))
