"""How `mmreview check` and `mmreview extract` print what they found.

The report's types are in review/report/types.py, its formats in the modules beside
this one (review/report/formats.py renders a report in any of them). This module
makes text from mail or C safe to print, for all of them.
"""
from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def safe(text: object) -> str:
    """Text from mail or C made printable: control characters, terminal escapes and
    bidi overrides become visible escapes, so nothing a patch says can drive the
    reader's terminal or forge report lines. Newlines are kept only where the
    format allows them (callers pass single-line text)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def one_line(text: object) -> str:
    return safe(" ".join(str(text).split()))
