"""Running traces: the kernel model, the contract and the internal invariants side by
side.

    Session(rules)              one run in progress: step(step) -> (Result, violations)
    run_trace(trace, rules)     a whole trace -> Report (results per step, violations
                                deduplicated per clause, decision outcomes per step)
    rules_for(trace, name)      the preset a trace (or an override) names, with the
                                trace's valuation of free atoms applied

A step the kernel cannot apply at all (StepError: an unknown pin id, an exited
process) becomes a TraceError naming the step index. Everything else, including a
refused or failing operation, is a Result.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from spec import invariants
from spec.clauses import Violation
from spec.contract import Contract
from spec.decisions import RuleSet
from spec.errors import StepError, TraceError
from spec.kernel import Kernel
from spec.presets import PRESETS
from spec.result import Result
from spec.trace import Step, Trace


def rules_for(trace: Trace, name: str | None = None,
              presets: dict[str, RuleSet] | None = None) -> RuleSet:
    """The rule set `name` (default: the trace's own) with the trace's free-atom
    valuation. Unknown names are a TraceError."""
    presets = PRESETS if presets is None else presets
    name = name or trace.ruleset
    rules = presets.get(name)
    if rules is None:
        raise TraceError(f"unknown ruleset {name!r} (known: {', '.join(presets)})")
    if trace.free:
        rules = rules.with_overlay(free=trace.free, name=rules.name)
    return rules


class Session:
    """One run: the kernel model under `rules`, the contract, the invariants."""

    def __init__(self, rules: RuleSet, *, check_invariants: bool = True):
        self.rules = rules
        self.kernel = Kernel(rules)
        self.contract = Contract()
        self.check_invariants = check_invariants
        self.index = 0

    def clone(self) -> "Session":
        s = Session.__new__(Session)
        s.rules = self.rules
        s.kernel = self.kernel.clone()
        s.contract = self.contract.clone()
        s.check_invariants = self.check_invariants
        s.index = self.index
        return s

    @property
    def outcomes(self) -> list:
        """The decisions the kernel took during the last step: [(point, outcome), ...]."""
        return list(self.kernel.outcomes)

    def step(self, step: Step) -> tuple[Result, list[Violation]]:
        index = self.index
        kernel = self.kernel
        contract = self.contract
        contract.before(step, kernel)
        try:
            result = kernel.apply(step.op, step.args)
        except StepError as exc:
            raise TraceError(str(exc), index) from None
        self.index = index + 1
        found = contract.observe(index, step, result, kernel)
        # the fused pass first: it nearly always holds; the predicates say what failed
        if self.check_invariants and not invariants.all_hold(kernel):
            found.extend(invariants.failed(kernel, index))
        failed = kernel.assertion_failures
        if failed:
            found.extend(_assertion_violations(failed, index))
        if kernel.stalled:
            found.append(Violation("gup-progress", index, kernel.stalled))
        return result, (found if len(found) < 2 else _first_per_clause(found))


def _assertion_violations(failed: Iterable[tuple[Any, str]], index: int) -> list[Violation]:
    """Kernel.assertion_failures ((AssertionRule, message) pairs) as patch-assertion
    violations, worded from the rule's C text where it has one: `VM_BUG_ON_PAGE(
    PageTail(page)) at free_folio (mm/page_alloc.c:1302 free_pages_prepare)`."""
    out = []
    for rule, message in failed:
        prov = rule.provenance
        if prov is None:
            out.append(Violation("patch-assertion", index, message))
            continue
        text = " ".join(prov.text.split()) if prov.text else str(rule.condition)
        out.append(Violation("patch-assertion", index,
                             f"{rule.macro}({text}) at {rule.primitive} "
                             f"({prov.file}:{prov.line} {prov.function})"))
    return out


def _first_per_clause(vs: list[Violation]) -> list[Violation]:
    """A clause reported several times (once per subpage, say) counts once."""
    if len(vs) < 2:
        return vs
    seen: set[str] = set()
    out = []
    for v in vs:
        if v.id not in seen:
            seen.add(v.id)
            out.append(v)
    return out


@dataclass
class Report:
    ruleset: str
    steps: tuple[Step, ...]
    results: list[Result] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)   # first per clause
    outcomes: list[list] = field(default_factory=list)          # per step: [(point, outcome)]

    @property
    def clean(self) -> bool:
        return not self.violations

    @property
    def clauses(self) -> set[str]:
        return {v.id for v in self.violations}

    def to_json(self) -> dict:
        return {
            "ruleset": self.ruleset,
            "results": [
                {"step": i, "op": s.op, "status": r.status,
                 **({"value": r.value} if r.value is not None else {})}
                for i, (s, r) in enumerate(zip(self.steps, self.results))
            ],
            "violations": [v.to_json() for v in self.violations],
        }


def run_trace(trace: Trace, rules: RuleSet | None = None, *, stop_at: int | None = None) -> Report:
    """Replay `trace` under `rules` (default: the rule set the trace names). Violations
    are deduplicated per clause across the trace: the first occurrence is kept."""
    rules = rules if rules is not None else rules_for(trace)
    session = Session(rules)
    report = Report(rules.name, trace.steps)
    seen: set[str] = set()
    for i, s in enumerate(trace.steps):
        if stop_at is not None and i >= stop_at:
            break
        result, found = session.step(s)
        report.results.append(result)
        report.outcomes.append(session.outcomes)
        for v in found:
            if v.id not in seen:
                seen.add(v.id)
                report.violations.append(v)
    return report
