"""Every finding id mmreview reports: its kind, its severity and one line of meaning.

Contract clauses and internal invariants are the spec's (spec/clauses.py): the spec
checks them and names them. On top of those, review reports
    differential  two rule sets on one trace (`mmreview fuzz --against`, and the
                  searches of `mmreview check` before it names what they saw)
    check         what `mmreview check` concludes about a patch

Severity is what a finding means for `mmreview check`: error = a contract clause
broke; warning = an internal invariant broke, or pre- and post-image differ
observably although the commit message claims no functional change; note =
informational (an observable behaviour change the patch does not deny, a difference
from the reference rule set, an unmodelled condition, a function extracted only
partially). Errors and warnings make the check fail (exit 1); notes do not. The
check lowers a violation the pre-image rules show too to a note.

Ids are stable (reports, SARIF rule ids, traces and tests use them): add new ones,
never rename. README.md's table of finding ids is this registry, word for word.
"""
from __future__ import annotations

from dataclasses import dataclass

from spec.clauses import CLAUSES

SEVERITIES = ("error", "warning", "note")
KINDS = ("contract", "invariant", "differential", "check")


@dataclass(frozen=True)
class FindingId:
    id: str
    kind: str            # one of KINDS
    severity: str        # one of SEVERITIES: what `mmreview check` reports it as
    meaning: str         # one line
    source: str          # the kernel source a clause paraphrases, or the command reporting it
    # For a difference the check reports: the rule set the post-image rules are compared
    # with on the trace ("pre": the pre-image rules; "reference": the reference rule set).
    compared_with: str = ""


_SEVERITY_OF_CLAUSE = {"contract": "error", "invariant": "warning"}
_FUZZ = "mmreview fuzz --against (docs/replay.md)"
_CHECK = "mmreview check (docs/check.md)"

_REVIEW_IDS = (
    FindingId("observable-difference", "differential", "note",
              "the two rule sets give a user-visible different result "
              "(a read or dma_read value, or a step's status)", _FUZZ),
    FindingId("outcome-difference", "differential", "note",
              "the two rule sets take different decisions inside the kernel "
              "on the same trace, with no visible difference (yet)", _FUZZ),
    FindingId("nfc-claim", "check", "warning",
              "the commit message claims no functional change, yet pre- and "
              "post-image rules behave observably differently", _CHECK, compared_with="pre"),
    FindingId("behaviour-change", "check", "note",
              "pre- and post-image rules behave observably differently "
              "(the patch does not claim otherwise)", _CHECK, compared_with="pre"),
    FindingId("reference-difference", "check", "note",
              "the post-image rules differ observably from the reference rule set",
              _CHECK, compared_with="reference"),
    FindingId("unmodelled", "check", "note",
              "a condition uses an identifier the vocabulary lacks; it was "
              "explored both ways", _CHECK),
    FindingId("partial", "check", "note",
              "a function was extracted from hunks only, not whole", _CHECK),
    FindingId("flag-alias-use", "check", "note",
              "a page flag now shares its bit with another: this use of the other name "
              "can meet a page of the new meaning", _CHECK),
)

FINDING_IDS: dict[str, FindingId] = {
    **{c.id: FindingId(c.id, c.kind, _SEVERITY_OF_CLAUSE[c.kind], c.meaning, c.source)
       for c in CLAUSES.values()},
    **{f.id: f for f in _REVIEW_IDS},
}


def ids_of_kind(kind: str) -> tuple[str, ...]:
    return tuple(i for i, f in FINDING_IDS.items() if f.kind == kind)


CONTRACT_IDS = ids_of_kind("contract")
INVARIANT_IDS = ids_of_kind("invariant")
DIFFERENCE_IDS = ids_of_kind("differential")
# What one search of the fuzzer can report, and so what `mmreview fuzz --exclude` names.
FUZZ_IDS = CONTRACT_IDS + INVARIANT_IDS + DIFFERENCE_IDS


def kind_of(finding_id: str) -> str:
    f = FINDING_IDS.get(finding_id)
    return f.kind if f else "unknown"
