"""The result of `mmreview check`: one PatchResult per patch, each with its findings
and a plain account of what was checked.

review/check/run.py builds a CheckReport; the format modules beside this one
(review/report/formats.py names them) turn it into text, JSON, SARIF, JUnit,
checkpatch lines or b4's check-command JSON. They read only these objects, so every
format says the same thing. Severities and what they mean: review/finding_ids.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from review.finding_ids import SEVERITIES

FAILING = frozenset({"error", "warning"})


@dataclass
class PatchRef:
    """Which patch a result is about, as the user knows it."""
    index: int                 # 1-based position in the checked input
    total: int
    subject: str
    source: str = ""           # the input it came from (path, msgid, range)
    msgid: str = ""
    commit: str = ""           # git commit sha for git input
    label: str = ""            # how the series names it: "v1 10/15", a short commit


@dataclass
class Finding:
    """One thing the check reports about one patch."""
    severity: str              # error | warning | note
    id: str                    # a finding id of review/finding_ids.py
    message: str               # one line: what happened
    file: str = ""             # the patch's file (path in the tree)
    line: int = 0              # line in that file's image (post, or pre for removed code)
    image: str = "post"
    mail_line: int = 0         # line in the patch mail as given (checkpatch's -:N:)
    function: str = ""
    rule: str = ""             # the implicated rule: point/primitive, guard -> outcome
    mode: str = ""             # invariants | reference | differential | nfc | extract
    trace: dict | None = None  # the shrunk replay trace (replay format)
    trace_file: str = ""       # where it was written
    replay: str = ""           # the command that replays it
    steps: list[str] = field(default_factory=list)  # readable step list, with results
    detail: str = ""           # more lines (differences, valuations)
    # other places that matter: [{"file", "line", "image", "message"}], e.g. the
    # post-image rule that decided when the finding points at a removed line
    related: list[dict] = field(default_factory=list)

    @property
    def fails(self) -> bool:
        return self.severity in FAILING

    def where(self) -> str:
        if self.file and self.line:
            return f"{self.file}:{self.line}"
        return self.file or ""

    def to_json(self) -> dict:
        return {
            "severity": self.severity, "id": self.id, "message": self.message,
            "file": self.file, "line": self.line, "image": self.image,
            "mail_line": self.mail_line, "function": self.function, "rule": self.rule,
            "mode": self.mode, "trace": self.trace, "trace_file": self.trace_file,
            "replay": self.replay, "steps": list(self.steps), "detail": self.detail,
            "related": list(self.related),
        }


@dataclass
class PatchResult:
    patch: PatchRef
    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # what was checked, one line each
    modes: list[str] = field(default_factory=list)    # fuzz modes that ran (invariants, reference, differential, nfc)
    nfc_claim: str = ""        # the sentence claiming no functional change, if any
    examples: int = 0          # traces run for this patch (all modes)
    seconds: float = 0.0
    skipped: str = ""          # why nothing could be checked (no bound function...)
    warnings: list[str] = field(default_factory=list)  # about the input: damaged mail, lying hunks
    error: str = ""            # the check itself failed on this patch (a bug of ours)

    @property
    def fails(self) -> bool:
        return any(f.fails for f in self.findings)

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}


@dataclass
class CheckReport:
    patches: list[PatchResult]
    seed: int = 0
    budget: float = 0.0
    max_examples: int = 0
    reference: str = "current"
    inputs: list[str] = field(default_factory=list)
    tool_version: str = ""

    @property
    def findings(self) -> list[Finding]:
        return [f for p in self.patches for f in p.findings]

    @property
    def exit_code(self) -> int:
        """1 findings; else 2 when the check could not finish a patch; else 0."""
        if any(p.fails for p in self.patches):
            return 1
        return 2 if any(p.error for p in self.patches) else 0

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}
