"""Untrusted text made safe to print on a terminal: the one definition of what never
reaches it raw, for every printer (text reports, `mmreview show`, `mmreview extract`,
JSON on stdout, the TUI).

Mail, patches and C are untrusted. Made visible, never passed through:
- C0 controls (tab and newline only where a printer allows them), DEL and C1
  controls. ESC never passes, so no escape sequence survives: CSI colours and cursor
  moves, OSC window titles and hyperlinks (their 8-bit forms are C1 controls);
- bidi controls, which reorder the text around them so that what the reader sees is
  not what the code says (CVE-2021-42574, "Trojan Source"): U+061C, U+200E, U+200F,
  U+202A..U+202E, U+2066..U+2069;
- zero-width characters, which hide text or make equal-looking names differ:
  U+200B..U+200D, U+2060..U+2064, U+FEFF.

Two spellings of the same set. Text printers write escapes: `\\x1b` for a C0, DEL or
C1 control, `<U+202E>` for the others. Screens (the TUI) write a control as its
Unicode control picture (ESC as U+241B, one cell wide) and the others as `<U+202E>`.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

# Every unsafe character except tab and newline, as a regex character class body.
_ALWAYS = ("\x00-\x08\x0b-\x1f\x7f-\x9f"
           "\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff")
ALLOWED = "\t\n"   # the only unsafe characters a printer may keep (`keep=`)


@lru_cache(maxsize=None)
def _unsafe(keep: str) -> re.Pattern[str]:
    if set(keep) - set(ALLOWED):
        raise ValueError(f"only tab and newline can be kept, not {keep!r}")
    extra = "".join(re.escape(c) for c in ALLOWED if c not in keep)
    return re.compile(f"[{_ALWAYS}{extra}]")


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0x9F else f"<U+{code:04X}>"


def _picture(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)          # ␛ for ESC, ␍ for CR, ...
    if code == 0x7F:
        return "\u2421"                    # ␡
    return f"<U+{code:04X}>"


def escape(text: str, keep: str = "") -> str:
    """`text` for a text printer: every unsafe character (but those in `keep`, a
    subset of tab and newline) written as `\\xNN` or `<U+XXXX>`."""
    return _unsafe(keep).sub(lambda m: _escape(m.group()), text)


def pictures(text: str, keep: str = "") -> str:
    """`text` for a screen: every unsafe character (but those in `keep`) shown as a
    control picture (`␛`) or `<U+XXXX>`."""
    return _unsafe(keep).sub(lambda m: _picture(m.group()), text)


def json_dumps(obj: Any, **kwargs: Any) -> str:
    """json.dumps whose text carries no unsafe character raw. json escapes C0 controls
    in strings but leaves DEL as it is, and C1, bidi and zero-width characters too
    unless ensure_ascii. JSON outside strings is ASCII, so whatever is left is a string
    character, and `\\uXXXX` there decodes to the same value."""
    return _unsafe(ALLOWED).sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(obj, **kwargs))
