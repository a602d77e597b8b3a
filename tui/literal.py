"""Mail and C text shown literally on the TUI's screen.

Everything a message, patch or trace says is untrusted: it must never style the
screen (Rich or Textual markup such as "[bold]" or "[link=...]"), drive the terminal
or reorder what the reader sees. review.terminal decides which characters are made
visible and how; this module adds what is Textual's: widgets build rich.text.Text
(or textual Content) objects from mail text, which never parse markup, after
`printable()` has made every unsafe character a visible symbol. Where Textual would
parse a plain string as markup (notifications, border titles, DataTable column
labels, the command palette), these helpers give it a Text or Content instead.
"""
from __future__ import annotations

from rich.text import Text
from textual.content import Content
from textual.fuzzy import Matcher

from review import terminal

TAB = 8


def printable(text: str) -> str:
    """One or more lines with every unsafe character made visible; tabs expanded."""
    return terminal.pictures(text, keep="\t\n").expandtabs(TAB)


def line(text: str, style: str = "") -> Text:
    """A Text of one line of untrusted text (newlines shown as ␊)."""
    return Text(printable(text.replace("\n", "\u240a")), style=style, end="")


def highlighted(matcher: Matcher, text: str) -> Content:
    """`text` with the command palette's fuzzy match highlighted, as plain content:
    Matcher.highlight() would parse it as markup."""
    shown = printable(text)
    content = Content(shown)
    score, offsets = matcher.fuzzy_search.match(matcher.query, shown)
    if not score:
        return content
    for offset in offsets:
        if not shown[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content
