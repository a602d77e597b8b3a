"""checkpatch-style terse lines, for b4's `prep-perpatch-check-cmd` and
`am-perpatch-check-cmd` (b4 feeds one patch mail on stdin and reads stdout).

    -:57: ERROR: mmreview: pin-coherence: ... (mm/memory.c:42) replay: ...

Like `checkpatch.pl --terse --mailback`: `-:N:` is the line in the mail as given on
stdin (b4 strips the `-:`); for input without a mail (a git range) the file and line
of the tree are given instead. b4 flags a line as failing when it contains
`ERROR:`, any other line as a warning; an empty output means "passed all checks",
so notes (which do not fail the check) are not printed here.
"""
from __future__ import annotations

from review.report import one_line
from review.report.types import CheckFinding, CheckReport

LABEL = {"error": "ERROR", "warning": "WARNING"}


def line_for(f: CheckFinding) -> str:
    where = f" ({f.where()})" if f.where() else ""
    rule = f" [{one_line(f.rule)}]" if f.rule else ""
    replay = f" replay: {one_line(f.replay)}" if f.replay else ""
    text = f"{LABEL[f.severity]}: mmreview: {f.id}: {one_line(f.message)}{rule}{where}{replay}"
    if f.mail_line:
        return f"-:{f.mail_line}: {text}"
    if f.file and f.line:
        return f"{one_line(f.file)}:{f.line}: {text}"
    return f"-:1: {text}"


def render(report: CheckReport, verbose: bool = False) -> str:
    """Errors and warnings only, whatever `verbose` (b4 counts every line)."""
    lines = [line_for(f) for f in report.findings if f.fails]
    lines += [f"-:1: ERROR: mmreview: check failed on [{p.patch.index}/{p.patch.total}]: "
              f"{one_line(p.error)}" for p in report.patches if p.error]
    return "".join(line + "\n" for line in lines)
