"""A Finding: one finding id shown by one trace, with what was seen and where.

Every search builds these: the fuzzer (review/fuzz/search.py: one clause broken by one
shrunk trace, or one difference between two rule sets), the exhaustive search
(review/verify/search.py: the shortest trace breaking a clause) and the check's
shortest-trace pass (review/check/explore.py). `mmreview check` decorates them with
what a reviewer needs (review/report/types.py: severity, file and line, replay
command). The trace is in the replay format (spec/trace.py), so every finding can be
saved, replayed with `mmreview replay`, edited and kept as a regression test.

Modes:
    invariants    one rule set; `id` is a contract clause or internal invariant id
                  (kind "contract" or "invariant", review/finding_ids.py)
    differential  two rule sets on the same trace (reference first); `id` is
                  "observable-difference" (a read/dma_read value or a step status
                  differs: `difference` says where) or "outcome-difference" (only the
                  decisions taken inside differ: `outcome_differences`); kind
                  "differential"
    introduced    two rule sets on the same trace (reference first); `id` is a clause
                  the patched rule set breaks and the reference, stepped on the same
                  trace, does not (kind "contract" or "invariant")
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from spec.trace import format_step, parse_trace

from review.finding_ids import kind_of


@dataclass
class Finding:
    id: str                           # a finding id of review/finding_ids.py
    message: str                      # what was seen, one line
    trace: dict | None = None         # replay JSON: {"ruleset", ["free"], "steps"}
    step: int = 0                     # index of the step at which it was seen
    rulesets: tuple[str, ...] = ()    # (ruleset,) or (reference, patched)
    mode: str = "invariants"          # "invariants" | "differential" | "introduced"
    kind: str = ""                    # "contract" | "invariant" | "differential" | ...
    # differential only: the first observable difference, e.g.
    # {"step": 5, "op": "dma_read id=p0", "reference": {"status": "ok", "value": 1},
    #  "patched": {"status": "ok", "value": 2}}
    difference: dict | None = None
    # differential only: decisions that differ, per step, e.g.
    # [{"step": 2, "op": "fork mm=0 child=1", "reference": [["fork.anon_pte", "share"]],
    #   "patched": [["fork.anon_pte", "copy"]]}]
    outcome_differences: list = field(default_factory=list)
    seed: int | None = None           # the seed of the run that found it
    # how the clause was broken, when one clause covers different bugs: e.g. for
    # pin-coherence "R/O pin" vs "R/O longterm pin of never-written memory", for
    # no-foreign-data "process write" vs "device write" (spec.contract.Contract.variant)
    variant: str = ""

    def __post_init__(self) -> None:
        if not self.kind:
            self.kind = kind_of(self.id)

    def to_json(self) -> dict[str, Any]:
        """As `mmreview fuzz --json` prints it."""
        out: dict[str, Any] = {
            "clause": self.id,
            "kind": self.kind,
            "message": self.message,
            "step": self.step,
            "rulesets": list(self.rulesets),
            "mode": self.mode,
            "trace": self.trace,
        }
        if self.variant:
            out["variant"] = self.variant
        if self.mode == "differential":
            out["difference"] = self.difference
            out["outcome_differences"] = self.outcome_differences
        if self.seed is not None:
            out["seed"] = self.seed
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> "Finding":
        return cls(
            id=obj["clause"], message=obj["message"], trace=obj["trace"],
            step=obj["step"], rulesets=tuple(obj["rulesets"]), mode=obj.get("mode", "invariants"),
            kind=obj.get("kind", ""), difference=obj.get("difference"),
            outcome_differences=list(obj.get("outcome_differences", [])), seed=obj.get("seed"),
            variant=obj.get("variant", ""),
        )

    def text(self) -> str:
        """Readable block: the id, the message, the numbered steps (the failing one
        marked)."""
        how = f" [{self.variant}]" if self.variant else ""
        head = f"{self.id}{how} ({self.kind}) on {' vs '.join(self.rulesets)}: {self.message}"
        lines = [head]
        for i, s in enumerate(_readable_steps(self.trace)):
            mark = "  <-" if i == self.step else ""
            lines.append(f"  {i:2d}  {s}{mark}")
        if self.outcome_differences:
            lines.append("  decisions that differ:")
            for d in self.outcome_differences:
                lines.append(f"    step {d['step']} {d['op']}: {_outcomes(d['reference'])} "
                             f"vs {_outcomes(d['patched'])}")
        return "\n".join(lines)


def _readable_steps(trace: dict | None) -> list[str]:
    """A replay trace's steps as readable lines (`write mm=0 vpn=0 value=1`)."""
    return [format_step(s) for s in parse_trace(trace).steps] if trace else []


def _outcomes(pairs: list) -> str:
    return ", ".join(f"{p}={o}" for p, o in pairs) or "-"
