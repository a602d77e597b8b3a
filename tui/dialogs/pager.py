"""A full-screen view of text lines with a title: the raw message (`v`), the
range-diff of a patch across versions (`D`). Lines wrap with continuation marks;
q or Escape closes. Every line is built by the caller from tui.literal."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from review.inputs.range_diff import RangeLine
from tui.literal import line as lit
from tui.widgets.wrap import Hanging

OUTER = {"-": "red", "+": "green", " ": "", "@": "bold blue"}
INNER = {"+": "green", "-": "red"}


class PagerScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close"),
        Binding("space", "page_down", "Page", show=False),
        Binding("b", "page_up", "Page up", show=False),
        Binding("g", "first", "Top", show=False),
        Binding("G", "last", "Bottom", show=False),
    ]

    def __init__(self, title: Text, lines: list[Hanging]) -> None:
        super().__init__()
        self.title_text = title
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical(id="pager"):
            yield Label(self.title_text, id="pager-title")
            yield OptionList(*[Option(ln) for ln in self.lines], id="pager-lines")
            yield Label(Text("q / Esc closes", style="dim"))

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def _list(self) -> OptionList:
        return self.query_one(OptionList)

    def action_page_down(self) -> None:
        self._list().action_page_down()

    def action_page_up(self) -> None:
        self._list().action_page_up()

    def action_first(self) -> None:
        self._list().action_first()

    def action_last(self) -> None:
        self._list().action_last()

    def action_close(self) -> None:
        self.dismiss(None)


def raw_lines(raw: bytes) -> list[Hanging]:
    """A message as it was sent: headers folded as they came, bodies undecoded."""
    text = raw.decode("utf-8", errors="replace").rstrip("\n")
    return [Hanging(Text(""), lit(ln)) for ln in text.split("\n")]


def range_diff_lines(lines: list[RangeLine]) -> list[Hanging]:
    """Each line under its outer sign (red: only in the old version, green: only in
    the new), the patch's own sign coloured within."""
    out = []
    for rl in lines:
        if rl.outer == "@":
            out.append(Hanging(Text(""), lit(rl.text, style=OUTER["@"])))
            continue
        gutter = Text(rl.outer + " ", style="bold " + OUTER[rl.outer] if OUTER[rl.outer] else "dim")
        body = lit(rl.text, style=OUTER[rl.outer])
        if rl.text[:1] in INNER and rl.outer == " ":
            body.stylize(INNER[rl.text[:1]], 0, 1)
        out.append(Hanging(gutter, body))
    return out
