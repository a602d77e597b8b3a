"""A trace written by `mmreview check`, run again under the rules of the patch it
names: the post-image rules, the pre-image rules and the reference preset, so that a
differential finding shows both sides. `mmreview check --replay` prints a Replay as
JSON; the TUI draws it as a timeline."""
from __future__ import annotations

from dataclasses import dataclass

from spec.presets import PRESETS
from spec.run import Report, rules_for, run_trace
from spec.trace import Trace

from review.check.overlay import overlays, split_overlay_name
from review.errors import InputError
from review.extract.rules import PatchRules
from review.finding_ids import FINDING_IDS
from review.model import diff_digest

# What a difference the check reports compares the trace's own run with (the
# differential searches of review/check/patch.py), as the registry says: the
# pre-image rules ("pre") or the reference preset ("reference").
COMPARED_WITH = {f.id: f.compared_with for f in FINDING_IDS.values() if f.compared_with}


def ruleset_parts(trace: Trace) -> tuple[str, str, str]:
    """(reference preset, image, patch key) of the rule set a trace names: `current`,
    or `current+post@KEY` / `current+pre@KEY` as check writes them (KEY may be absent)."""
    ref, image, key = split_overlay_name(trace.ruleset)
    if ref not in PRESETS or ("+" in trace.ruleset and image not in ("pre", "post")):
        raise InputError(f"trace: unknown ruleset {trace.ruleset!r} (expected a preset or "
                         "PRESET+post@KEY / PRESET+pre@KEY as check writes them)")
    return ref, image, key


@dataclass
class Replay:
    trace: Trace
    reference: str               # the reference preset, e.g. "current"
    runs: dict[str, Report]      # "<ref>+post", "<ref>+pre", "<ref>" -> the run under it
    own: str                     # the one of them the trace was written for

    @property
    def violated(self) -> bool:
        return bool(self.runs[self.own].violations)

    def to_json(self) -> dict:
        return {"trace": self.trace.ruleset, "runs": {k: r.to_json() for k, r in self.runs.items()},
                "violated": self.violated}

    def results(self, run: str | None = None) -> list[tuple[str, object]]:
        """(status, value) per step of `run` (default: the trace's own)."""
        return [(r.status, r.value) for r in self.runs[run or self.own].results]

    def violation_step(self, clause: str) -> int | None:
        """The step at which the trace's own run broke `clause`, if it did."""
        return next((v.step for v in self.runs[self.own].violations if v.id == clause), None)

    def compared_run(self, finding_id: str) -> str | None:
        """The run a differential finding compares the own run with; None for others."""
        side = COMPARED_WITH.get(finding_id)
        if side is None:
            return None
        return self.reference if side == "reference" else f"{self.reference}+pre"

    def first_difference(self, run: str) -> int | None:
        """The first step whose result differs between the own run and `run`."""
        return next((i for i, (a, b) in enumerate(zip(self.results(), self.results(run))) if a != b), None)


def replay_trace(trace: Trace, patch, rules: PatchRules) -> Replay:
    """Run `trace` under `patch`'s post- and pre-image rules (`rules`, its extraction)
    overlaid on the reference preset the trace names, and under that preset alone."""
    ref, _, _ = ruleset_parts(trace)
    base, pre, post = overlays(PRESETS[ref], rules, diff_digest(patch), {})
    sets = {rs.name: rs for rs in (base, pre, post)}
    runs = {}
    for name, label in ((post.name, f"{ref}+post"), (pre.name, f"{ref}+pre"), (ref, ref)):
        runs[label] = run_trace(trace, rules_for(trace, name, presets=sets))
    return Replay(trace, ref, runs, own=trace.ruleset.split("@")[0])
