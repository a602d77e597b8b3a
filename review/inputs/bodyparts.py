"""liblore's trailer reader (split_body_parts, find_trailers), safe on hostile mail.

liblore reads a trailer's value with searches (`(.*\\S+)(\\s+#[^#]+)$` among them) whose
time grows with the cube of the value's length: one trailer-shaped line of 2,000
characters in a reply kept `mmreview show` busy for minutes, a line of 500 takes a
second. No real trailer is that long (a name and an address, a URL, a commit id and
its subject), so each trailer-shaped line longer than MAX_TRAILER_LINE is hidden from
liblore behind a placeholder and put back into the text liblore returns: such a line
is text, never a trailer. Many shorter ones add up (hundreds of 150-character lines
kept `show` busy for 17 s), so the lines liblore is handed may cost at most
TRAILER_WORK (the sum of their lengths cubed): beyond it, the longest are hidden
first. A real mail's trailers and prose are far below it, and they are short.
"""
from __future__ import annotations

import re
import secrets

from liblore import utils as lu

MAX_TRAILER_LINE = 160  # characters: at most some 0.02 s of liblore's time per line
TRAILER_WORK = 24 * MAX_TRAILER_LINE ** 3   # some 0.5 s per call in the worst case
_TRAILER_SHAPED = re.compile(r"\s*\w\S*:\s")    # what liblore's trailer line starts with


class _Shield:
    """`text` with each long trailer-shaped line replaced by a placeholder
    (NUL-delimited, never a trailer, unique to this call), and the way back."""

    def __init__(self, text: str):
        nonce = secrets.token_hex(8)
        self.saved: dict[str, str] = {}
        lines = text.split("\n")
        for i in _too_costly(lines):
            key = f"\0{nonce}:{i}\0"
            self.saved[key] = lines[i]
            lines[i] = key
        self.text = "\n".join(lines)
        self._key = re.compile(f"\0{nonce}:\\d+\0")

    def restore(self, text: str) -> str:
        return self._key.sub(lambda m: self.saved[m.group()], text) if self.saved else text


def _too_costly(lines: list[str]) -> list[int]:
    """The indices of the trailer-shaped lines to hide: every one longer than
    MAX_TRAILER_LINE, then the longest of the others until the rest cost at most
    TRAILER_WORK."""
    shaped = sorted(((len(line), i) for i, line in enumerate(lines)
                     if _TRAILER_SHAPED.match(line)), reverse=True)
    hide = [i for n, i in shaped if n > MAX_TRAILER_LINE]
    work = sum(n ** 3 for n, _ in shaped[len(hide):])
    for n, i in shaped[len(hide):]:
        if work <= TRAILER_WORK:
            break
        hide.append(i)
        work -= n ** 3
    return hide


def split_body_parts(body: str) -> lu.BodyParts:
    """liblore's split_body_parts(body), in time linear in the length of its lines."""
    shield = _Shield(body.replace("\r", ""))   # as liblore does first
    p = lu.split_body_parts(shield.text)
    if not shield.saved:
        return p
    r = shield.restore
    return lu.BodyParts([(n, r(v)) for n, v in p.githeaders], r(p.message), p.trailers,
                        r(p.basement), r(p.signature))


def find_trailers(text: str, followup: bool = False) -> tuple[list[tuple[str, str]], list[str]]:
    """liblore's find_trailers(text, followup): (trailers, other lines)."""
    shield = _Shield(text)
    trailers, others = lu.find_trailers(shield.text, followup=followup)
    return trailers, [shield.restore(line) for line in others]
