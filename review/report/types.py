"""The result of `mmreview check`: one PatchResult per patch, each with its findings
and a plain account of what was checked.

review/check/run.py builds a CheckReport; the format modules beside this one
(review/report/formats.py names them) turn it into text, JSON, SARIF, JUnit,
checkpatch lines or b4's check-command JSON. They read only these objects, so every
format says the same thing. Severities and what they mean: review/finding_ids.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from review.extract.coverage import Coverage, Touched
from review.finding_ids import SEVERITIES
from review.findings import Finding

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


@dataclass(kw_only=True)
class CheckFinding(Finding):
    """A Finding as the check reports it about one patch: `id` is a clause id or one
    of the check's own (review/finding_ids.py), `message` one line of what happened,
    `trace` the shrunk replay trace (None for what extraction reports); decorated with
    how bad it is and where in the patch it points."""
    severity: str              # error | warning | note
    mode: str = ""             # invariants | reference | differential | nfc | extract
    file: str = ""             # the patch's file (path in the tree)
    line: int = 0              # line in that file's image (post, or pre for removed code)
    image: str = "post"
    mail_line: int = 0         # line in the patch mail as given (checkpatch's -:N:)
    patch_line: str = ""       # the diff line at file:line as the patch shows it ("+\tif (...)")
    function: str = ""
    rule: str = ""             # the implicated rule: point/primitive, guard -> outcome
    trace_file: str = ""       # where the trace was written
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
        out = {k: getattr(self, k) for k in _JSON_KEYS}
        out["steps"], out["related"] = list(self.steps), list(self.related)
        return out

    @classmethod
    def from_json(cls, obj: dict) -> "CheckFinding":
        """The inverse of to_json (the TUI's fuzz worker sends findings as JSON)."""
        return cls(**{k: obj[k] for k in _JSON_KEYS if k in obj})


_JSON_KEYS = ("severity", "id", "message", "file", "line", "image", "mail_line", "patch_line", "function",
              "rule", "mode", "trace", "trace_file", "replay", "steps", "detail", "related")


@dataclass
class PatchResult:
    patch: PatchRef
    findings: list[CheckFinding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # what was checked, one line each
    modes: list[str] = field(default_factory=list)    # fuzz modes that ran (invariants, reference, differential, nfc)
    nfc_claim: str = ""        # the sentence claiming no functional change, if any
    nfc_verdict: str = ""      # verified | contradicted | not verified (review/check/nfc.py)
    nfc_why: str = ""          # how it was verified, or what it depends on
    era: str = ""              # the preset the patch's rules were laid over
    era_why: str = ""          # how it was chosen (review/check/era.py)
    coverage: str = ""         # the patch's coverage line (review/extract/coverage.py)
    touched: list[dict] = field(default_factory=list)  # Touched as dicts: file, function, cls, reason
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

    def note_kinds(self) -> dict[str, int]:
        """How many notes of each id, in the order they first appear."""
        out: dict[str, int] = {}
        for f in self.findings:
            if f.severity == "note":
                out[f.id] = out.get(f.id, 0) + 1
        return out

    def notes_summary(self) -> str:
        """"12 unmodelled, 3 behaviour-change": one phrase for all of the patch's notes."""
        return ", ".join(f"{n} {kind}" for kind, n in self.note_kinds().items())


@dataclass
class CheckReport:
    patches: list[PatchResult]
    seed: int = 0
    budget: float = 0.0
    max_examples: int = 0
    reference: str = "current"
    inputs: list[str] = field(default_factory=list)
    tool_version: str = ""
    notes: list[str] = field(default_factory=list)   # said once for the run, not per patch

    @property
    def findings(self) -> list[CheckFinding]:
        return [f for p in self.patches for f in p.findings]

    @property
    def exit_code(self) -> int:
        """1 findings; else 2 when the check could not finish a patch; else 0."""
        if any(p.fails for p in self.patches):
            return 1
        return 2 if any(p.error for p in self.patches) else 0

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}

    def coverage(self) -> Coverage:
        """The series' coverage: every patch's touched functions (Coverage.merged)."""
        total = Coverage()
        for p in self.patches:
            total = total.merged(Coverage([Touched(**t) for t in p.touched]))
        return total
