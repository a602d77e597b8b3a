"""How `mmreview check` and `mmreview extract` print what they found.

The report's types are in review/report/types.py, its formats in the modules beside
this one (review/report/formats.py renders a report in any of them). This module
makes text from mail or C safe to print, for all of them.
"""
from __future__ import annotations

from review import terminal


def safe(text: object) -> str:
    """Text from mail or C made printable (review.terminal): control characters,
    terminal escapes, bidi and zero-width characters become visible escapes, so nothing
    a patch says can drive the reader's terminal or forge report lines. Newlines are
    kept only where the format allows them (callers pass single-line text)."""
    return terminal.escape(str(text), keep="\t\n")


def one_line(text: object) -> str:
    return safe(" ".join(str(text).split()))
