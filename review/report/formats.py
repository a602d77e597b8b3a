"""A CheckReport in any of the output formats `mmreview check --format` offers."""
from __future__ import annotations

from typing import Callable

from review.report import b4, checkpatch, json_report, junit, sarif, text
from review.report.types import CheckReport

FORMATS: dict[str, Callable[[CheckReport], str]] = {
    "text": text.render,
    "json": json_report.render,
    "sarif": sarif.render,
    "junit": junit.render,
    "checkpatch": checkpatch.render,
    "b4": b4.render,
}
FORMAT_NAMES = tuple(FORMATS)


def render(report: CheckReport, fmt: str) -> str:
    return FORMATS[fmt](report)
