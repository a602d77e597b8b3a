"""A CheckReport in any of the output formats `mmreview check --format` offers."""
from __future__ import annotations

from typing import Callable

from review.report import b4, checkpatch, json_report, junit, sarif, text
from review.report.types import CheckReport

# every format takes `verbose`: list every note rather than one line per kind per
# patch (the machine formats, JSON and SARIF, always keep every note)
FORMATS: dict[str, Callable[..., str]] = {
    "text": text.render,
    "json": json_report.render,
    "sarif": sarif.render,
    "junit": junit.render,
    "checkpatch": checkpatch.render,
    "b4": b4.render,
}
FORMAT_NAMES = tuple(FORMATS)


def render(report: CheckReport, fmt: str, verbose: bool = False) -> str:
    return FORMATS[fmt](report, verbose=verbose)
