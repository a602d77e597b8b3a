"""Mail and C text shown literally.

Everything a message, patch or trace says is untrusted: it must never style the
screen (Rich markup such as "[bold]" or "[link=...]"), drive the terminal (ANSI
escape sequences, other control characters) or reorder what the reader sees (bidi
overrides, the "Trojan Source" trick). Widgets therefore build rich.text.Text objects
from mail text (Text() never parses markup) after `printable()` has turned every
control character into a visible symbol.
"""
from __future__ import annotations

import re

from rich.text import Text

TAB = 8
# C0 and C1 controls except \t and \n, DEL, and the bidi embedding/override/isolate marks.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)          # ␛ for ESC, ␍ for CR, ...
    if code == 0x7F:
        return "\u2421"                    # ␡
    return f"<U+{code:04X}>"


def printable(text: str) -> str:
    """One or more lines with every unsafe character made visible; tabs expanded."""
    return _UNSAFE.sub(lambda m: _visible(m.group()), text).expandtabs(TAB)


def line(text: str, style: str = "") -> Text:
    """A Text of one line of untrusted text (newlines shown as ␊)."""
    return Text(printable(text.replace("\n", "\u240a")), style=style, end="")


def block(text: str, style: str = "") -> Text:
    return Text(printable(text), style=style, end="")
