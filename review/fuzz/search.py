"""hypothesis drives the spec: search for traces that break a contract clause or an
invariant (mode "invariants"), that two rule sets answer differently (mode
"differential"), or that break a clause under one rule set which the reference rule set
does not break on the same trace (mode "introduced": what a change of rules brings in,
the reference's own bugs aside).

    search(rules, *, reference=None, mode="invariants", max_examples=None, budget=None,
           seed=None, database=None, exclude=(), on_progress=None, should_stop=None)
        -> list[Finding]

How a trace is drawn (review/fuzz/strategies.py): swarm testing (each example disables a
random quarter of the operation kinds), a small world (up to 4 processes, 8 pages, THP
mappings, pins and FOLL_GET references), kinds and arguments drawn from what exists
now (review/fuzz/strategies.py: enabled, hot_pages), GUP-fast and FOLL_FORCE pins
in every example, writes of fresh values or of values other pages hold (so KSM finds
pages to merge); in half the examples, the later vocabulary too (files, hugetlb,
protections, soft-dirty, mremap, swapoff, writeback).
Probes: after each step the fuzzer peeks (without side effects) what each read and
each dma_read would return, and the soft-dirty bit of each page a process wrote since
clear_softdirty; when a peek disagrees with the contract (or, in differential mode,
with the other rule set), it appends the real `read`, `dma_read` or `softdirty` step
that shows it. file-integrity needs no probe: the contract reads the files after
every step. The trace stays an ordinary replayable
trace; the probe only saves hypothesis from guessing when to look.

Every clause found is reported, each shrunk on its own (review/fuzz/shrink.py, on the
trace; hypothesis's shrink phase is off, so a round ends at its first failing
example): a trace runs to its end after what it breaks first, and everything it
breaks is reported with it; each (clause, variant) raises its own exception type
(the variant, spec.contract.Contract.variant, tells apart different bugs behind one
clause), and after a round that found something, the search goes on with what was
found excluded until the budget is spent. Findings are stored in
hypothesis's example database under a key per (mode, rule sets, excluded clauses), so
a later run replays them first.
"""
from __future__ import annotations

import hashlib
import random
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from hypothesis import HealthCheck, Phase, Verbosity, given, reject, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase
from hypothesis.errors import HypothesisException

from review.fuzz.determinism import local_constants_frozen
from review.finding_ids import DIFFERENCE_IDS
from review.findings import Finding
from review.fuzz.shrink import shrink_steps
from review.fuzz.strategies import MAX_STEPS, P_CONTINUE, Choices, World, draw_menu, draw_seed, \
    draw_step, enabled, first_mmap
from spec.decisions import RuleSet
from spec.errors import StepError, TraceError
from spec.run import Session
from spec.trace import Step, Trace

MODES = ("invariants", "differential", "introduced")
ROUND = 200            # traces per hypothesis run between checks of budget/stop
# Traces per hypothesis example, each from its own seed derived from the one
# hypothesis drew: hypothesis's own work per example (its data, its PRNG state saved
# and restored, its engine's bookkeeping) cost a quarter of the fuzzer's time, one
# example per trace.
TRACES_PER_EXAMPLE = 4
DEFAULT_MAX_EXAMPLES = 2000
DEFAULT_DB = ".hypothesis/mmreview"


# ---------------------------------------------------------------- failures
class ClauseViolated(Exception):
    """Base of the per-clause exception types hypothesis tells apart. `also`: what the
    same trace broke after it, other clauses or variants."""
    clause = ""

    def __init__(self, finding: Finding):
        super().__init__(f"{finding.id}: {finding.message}")
        self.finding = finding
        self.also: list[Finding] = []


_EXCEPTIONS: dict[tuple[str, str], type[ClauseViolated]] = {}


def _exception(clause: str, variant: str) -> type[ClauseViolated]:
    """One exception type per (clause, variant), made once per process: hypothesis
    shrinks failures of different types separately."""
    key = (clause, variant)
    exc = _EXCEPTIONS.get(key)
    if exc is None:
        name = "Violated_" + "_".join(
            "".join(ch if ch.isalnum() else "_" for ch in part) for part in key if part)
        exc = _EXCEPTIONS[key] = type(name, (ClauseViolated,), {"clause": clause})
    return exc


class _Invalid(Exception):
    """A drawn (or shrunk) step the kernel model cannot apply at all (StepError)."""


# ---------------------------------------------------------------- running a trace
class _Runner:
    """Runs drawn steps on one session (invariants) or two (differential), records the
    trace, probes, and raises the clause exception when something is seen."""

    def __init__(self, rules: RuleSet, reference: RuleSet | None, mode: str,
                 exclude: frozenset[str], found: frozenset[tuple[str, str]],
                 free: dict[str, bool], seed: int | None,
                 target: tuple[str, str] | None = None):
        self.rules = rules
        self.reference = reference
        self.mode = mode
        self.exclude = exclude    # clause ids the caller does not want
        self.found = found        # (clause, variant) pairs earlier rounds reported
        self.target = target      # only this (clause, variant) counts (re-checking a finding)
        self.free = free
        self.seed = seed
        self.main = Session(rules)
        self.other = None
        if mode == "differential":
            self.other = Session(reference, check_invariants=False)
            self.main.check_invariants = False
        elif mode == "introduced":
            # stepped lazily (_reference_broke): most traces break nothing, and then
            # the reference need not run at all
            self.other = Session(reference)
        self.reference_done = 0           # introduced: steps the reference has run
        self.reference_broke: set[str] = set()
        self.reference_lost = False       # introduced: the reference cannot apply a step
        self.steps: list[Step] = []
        self.first: ClauseViolated | None = None        # the first thing the trace broke
        self.seen_here: set[tuple[str, str]] = set()    # (clause, variant) it broke so far
        self.outcome_diffs: list[dict] = []
        self.results: list = []

    # -- the trace so far as replay JSON
    def trace_json(self) -> dict:
        return Trace(tuple(self.steps), self.rules.name, self.free).to_json()

    def rulesets(self) -> tuple[str, ...]:
        if self.other is not None:
            return (self.reference.name, self.rules.name)
        return (self.rules.name,)

    def wanted(self, clause: str, variant: str = "") -> bool:
        # introduced: a clause the reference broke earlier on this trace can no longer
        # be the rules' own on it (what it broke only grows), so probes stop asking
        if clause in self.reference_broke and not self.reference_lost:
            return False
        if self.target is not None:
            return (clause, variant) == self.target
        return clause not in self.exclude and (clause, variant) not in self.found \
            and (clause, variant) not in self.seen_here

    def fail(self, clause: str, message: str, index: int, difference: dict | None = None,
             variant: str = "") -> None:
        """Record what the trace broke, with the trace up to here. Re-checking one
        finding (`target`), raise at once; searching, run the trace on: a later step
        may break another clause, which would otherwise wait for a round of its own
        (v5.9 has a dozen bugs, and a round ends at its first failure). `raise_first`
        raises the first at the end of the trace, the others riding along."""
        f = Finding(id=clause, message=message, trace=self.trace_json(), step=index,
                    rulesets=self.rulesets(), mode=self.mode, difference=difference,
                    outcome_differences=list(self.outcome_diffs), seed=self.seed,
                    variant=variant)
        exc = _exception(clause, variant)(f)
        if self.target is not None:
            raise exc
        self.seen_here.add((clause, variant))
        if self.first is None:
            self.first = exc
        else:
            self.first.also.append(f)

    def raise_first(self) -> None:
        if self.first is not None:
            raise self.first

    def _variant(self, clause: str, s: Step, value: Any) -> str:
        if s.op in ("read", "dma_read") or clause in _ANY_STEP_VARIANTS:
            return self.main.contract.variant(clause, s, value)
        return ""

    def run(self, s: Step) -> Any:
        """Apply one step; raise if it shows a (not excluded) violation or difference."""
        index = len(self.steps)
        self.steps.append(s)
        try:
            result, found = self.main.step(s)
        except TraceError:
            raise _Invalid from None   # the kernel cannot apply what was drawn
        if self.mode != "differential":
            for v in found:
                variant = self._variant(v.id, s, result.value)
                if self.wanted(v.id, variant) and v.id not in self._reference_broke():
                    self.fail(v.id, v.message, index, variant=variant)
            return result
        try:
            ref_result, _ = self.other.step(s)
        except TraceError:
            raise _Invalid from None
        if (ref_result.status, ref_result.value) != (result.status, result.value) and not (
                s.op in _STATUS_ONLY and ref_result.status == result.status):
            if self.wanted("observable-difference"):
                diff = {"step": index, "op": str(s),
                        "reference": _result_json(ref_result), "patched": _result_json(result)}
                self.fail("observable-difference",
                          f"step {index} {s}: {self.reference.name} gives "
                          f"{_result_text(ref_result)}, {self.rules.name} gives "
                          f"{_result_text(result)}", index, diff)
        a, b = self.other.outcomes, self.main.outcomes
        if a != b:
            self.outcome_diffs.append({"step": index, "op": str(s),
                                       "reference": [list(x) for x in a],
                                       "patched": [list(x) for x in b]})
        return result

    def _reference_broke(self) -> set[str]:
        """Mode introduced: the clauses the reference breaks on the trace so far (it
        catches up here, only when the rules break something). A trace the reference
        cannot apply, where the rules can, is the rules' own from there on: nothing is
        excluded (as a replay under the reference would refuse it). Other modes: none."""
        if self.mode != "introduced":
            return set()
        while not self.reference_lost and self.reference_done < len(self.steps):
            try:
                _, found = self.other.step(self.steps[self.reference_done])
            except TraceError:
                self.reference_lost = True
                break
            self.reference_broke.update(v.id for v in found)
            self.reference_done += 1
        return set() if self.reference_lost else self.reference_broke

    def finish(self) -> None:
        if self.outcome_diffs and self.wanted("outcome-difference"):
            d = self.outcome_diffs[0]
            self.fail("outcome-difference",
                      f"step {d['step']} {d['op']}: {self.reference.name} decides "
                      f"{_pairs(d['reference'])}, {self.rules.name} decides {_pairs(d['patched'])}",
                      d["step"])

    # -- probes: the read or dma_read that would show a problem, if any
    def probe(self) -> Step | None:
        k = self.main.kernel
        c = self.main.contract
        if self.mode != "differential":
            for id in list(c.refs):
                try:
                    v = k.dma_peek(id)
                except StepError:
                    continue
                clauses = c.dma_violations(id, v)
                if clauses:
                    s = Step("dma_read", {"id": id})
                    if any(self.wanted(cl, c.variant(cl, s, v)) for cl in clauses):
                        return s
            # every mapped page, a process at a time (peek_many looks the process up
            # once); a page that reads its logical value breaks nothing
            for mm, p in list(c.procs.items()):
                mem = p.mem
                if not mem:
                    continue
                vpns = list(mem)
                for vpn, v in zip(vpns, k.peek_many(mm, vpns)):
                    if v is None or v == mem[vpn]:
                        continue
                    cl = c.read_violation(mm, vpn, v)
                    if cl:
                        s = Step("read", {"mm": mm, "vpn": vpn})
                        if self.wanted(cl, c.variant(cl, s, v)):
                            return s
            for mm, vpn in c.softdirty_due():
                if not k.soft_dirty(mm, vpn):
                    s = Step("softdirty", {"mm": mm, "vpn": vpn})
                    if self.wanted("softdirty", c.variant("softdirty", s, 0)):
                        return s
            return None
        if not self.wanted("observable-difference"):
            return None
        o = self.other.kernel
        for id in list(c.refs):
            try:
                if k.dma_peek(id) != o.dma_peek(id):
                    return Step("dma_read", {"id": id})
            except StepError:
                continue
        for mm, vpn in list(c.mapped()):
            if k.peek(mm, vpn) != o.peek(mm, vpn):
                return Step("read", {"mm": mm, "vpn": vpn})
        for mm, vpn in c.softdirty_tracked():
            if k.soft_dirty(mm, vpn) != o.soft_dirty(mm, vpn):
                return Step("softdirty", {"mm": mm, "vpn": vpn})
        return None


# Clauses whose variant any step can show (the others: read and dma_read only).
_ANY_STEP_VARIANTS = frozenset({"softdirty", "file-integrity"})
# Queries of kernel internals (the entry's bits, the page's identity): two rule sets
# may answer them differently without any process seeing a difference, so
# differential mode compares only their status. (softdirty is the pagemap bit a
# process reads: compared in full.)
_STATUS_ONLY = frozenset({"pte", "pfn"})


def _result_json(r: Any) -> dict:
    return {"status": r.status, **({"value": r.value} if r.value is not None else {})}


def _result_text(r: Any) -> str:
    return r.status if r.value is None else f"{r.status} {r.value}"


def _pairs(pairs: list) -> str:
    return ", ".join(f"{p}={o}" for p, o in pairs) or "nothing"


def _example(data: Choices, rules: RuleSet, reference: RuleSet | None, mode: str,
             exclude: frozenset[str], found: frozenset[tuple[str, str]], seed: int | None,
             counters: dict) -> None:
    """Draw and run one trace."""
    # The valuation of unmodelled atoms is the caller's choice (review/check/run.py
    # enumerates valuations, one search each); the trace records it for replay.
    free = dict(rules.free)
    w = World()
    menu = draw_menu(data, w)
    r = _Runner(rules, reference, mode, exclude, found, free, seed)
    counters["examples"] += 1
    try:
        _draw_and_run(data, r, menu, w)
    except _Invalid:
        r.raise_first()     # what the trace broke before the step it could not apply
        raise
    counters["steps"] += len(r.steps)
    record = counters.get("record")
    if record is not None:
        record.append(r.trace_json())
    r.finish()
    r.raise_first()


def _draw_and_run(data: Choices, r: _Runner, menu: list[str], w: World) -> None:
    r.run(first_mmap(data, w))
    contract = r.main.contract
    for _ in range(MAX_STEPS):
        if not contract.procs or not data.flag(P_CONTINUE):
            break
        kinds = enabled(menu, contract, w)
        if not kinds:
            break
        drawn = draw_step(data, kinds[data.index(len(kinds))], contract, w)
        if drawn is None:
            continue
        for s in (drawn if isinstance(drawn, list) else (drawn,)):
            r.run(s)
            p = r.probe()
            if p is not None:
                r.run(p)


def _polish(f: Finding, rules: RuleSet, reference: RuleSet | None, mode: str) -> Finding:
    """The trace-level shrink of review/fuzz/shrink.py (hypothesis's is off): the same
    (clause, variant), from the fewest steps, with names and values renumbered."""
    target = (f.id, f.variant)
    free = dict(f.trace.get("free", {}))
    last: dict = {}

    def reproduces(steps):
        r = _Runner(rules, reference, mode, frozenset(), frozenset(), free, f.seed, target)
        try:
            for s in steps:
                r.run(s)
            r.finish()
        except ClauseViolated as exc:
            last[len(exc.finding.trace["steps"])] = exc.finding
            return [Step(x["op"], {k: v for k, v in x.items() if k != "op"})
                    for x in exc.finding.trace["steps"]]
        except _Invalid:
            return None
        return None

    steps = [Step(x["op"], {k: v for k, v in x.items() if k != "op"}) for x in f.trace["steps"]]
    if reproduces(steps) is None:
        return f      # cannot happen for a deterministic spec; keep hypothesis's trace
    best = shrink_steps(steps, reproduces)
    final = reproduces(best)
    return last.get(len(final), f) if final is not None else f


# ---------------------------------------------------------------- the search
def default_database(path: str | Path = DEFAULT_DB) -> ExampleDatabase:
    return DirectoryBasedExampleDatabase(str(path))


def _db_key(mode: str, rules: RuleSet, reference: RuleSet | None, exclude: Iterable[str],
            found: Iterable[tuple[str, str]]) -> bytes:
    """Per (mode, rule sets, what is excluded): a later round, which excludes what an
    earlier one found, must not replay (and so delete) the earlier round's findings."""
    names = rules.name if reference is None else f"{reference.name}..{rules.name}"
    text = (f"mmreview-fuzz:{mode}:{names}:{','.join(sorted(exclude))}:"
            f"{','.join(sorted(f'{c}/{v}' for c, v in found))}")
    return hashlib.sha256(text.encode()).digest()


def search(
    rules: RuleSet,
    *,
    reference: RuleSet | None = None,
    mode: str = "invariants",
    max_examples: int | None = None,
    budget: float | None = None,
    seed: int | None = None,
    database: ExampleDatabase | str | Path | None = None,
    exclude: Iterable[str] = (),
    on_progress: Callable[[dict], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    _record: list | None = None,
) -> list[Finding]:
    """Every distinct clause (or difference) found within the budget, each shrunk on
    its own; a clause broken in distinguishably different ways (Finding.variant: e.g.
    a stale R/O pin of the zero page vs of a page shared after fork) is reported once
    per way. `max_examples` bounds the examples tried (default 2000 when no `budget`
    is given); `budget` bounds wall-clock seconds; whichever ends first. `database`: a
    hypothesis ExampleDatabase, a directory, or None for no storage. `exclude`: clause
    ids (or "clause:variant") not to report. Reproducible from `seed`."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    if mode != "invariants" and reference is None:
        raise ValueError(f"{mode} mode needs a reference rule set")
    if max_examples is None and budget is None:
        max_examples = DEFAULT_MAX_EXAMPLES
    if seed is None:
        seed = random.SystemRandom().randrange(1 << 32)
    if isinstance(database, (str, Path)):
        database = default_database(database)
    # "clause" excludes every variant; "clause:variant" only that one (a known bug of
    # the rule set, e.g. "pin-coherence:R/O longterm pin of never-written memory" on
    # v5.19), which then counts as found from the start but is not reported.
    excluded = frozenset(e for e in exclude if ":" not in e)
    known = {tuple(e.split(":", 1)) for e in exclude if ":" in e}
    found: set[tuple[str, str]] = set(known)
    findings: list[Finding] = []
    # examples: hypothesis calls; budgeted: what --max-examples bounds: the examples
    # handed to hypothesis as max_examples, less those a round that ended at a failure
    # did not run (a round stops at its first failure), and nothing for a round that
    # found what the example database held for it (each round stores its finding under
    # its own key: a later run replays them all, one round each, before it draws).
    counters: dict[str, Any] = {"examples": 0, "steps": 0, "budgeted": 0}
    if _record is not None:   # bench/spec_bench.py: every trace the search ran
        counters["record"] = _record
    start = time.monotonic()
    deadline = None if budget is None else start + budget
    round_no = 0

    def out_of_budget() -> bool:
        if should_stop is not None and should_stop():
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return True
        return max_examples is not None and counters["budgeted"] >= max_examples

    while not out_of_budget():
        n = ROUND if max_examples is None else max(1, min(ROUND, max_examples - counters["budgeted"]))
        before = counters["examples"]
        stored = database is not None and any(
            True for _ in database.fetch(_db_key(mode, rules, reference, excluded, found)))
        found_now = _round(rules, reference, mode, excluded, frozenset(found), seed, round_no,
                           n, database, counters, deadline, should_stop)
        if not found_now:
            counters["budgeted"] += n
        elif not stored:
            counters["budgeted"] += min(n, max(1, counters["examples"] - before))
        round_no += 1
        for f in found_now:
            key = (f.id, f.variant)
            if f.id not in excluded and key not in found:
                found.add(key)
                findings.append(_polish(f, rules, reference, mode))
        if on_progress is not None:
            on_progress({"examples": counters["examples"], "steps": counters["steps"],
                         "elapsed": time.monotonic() - start, "round": round_no,
                         "findings": list(findings), "seed": seed})
        if mode == "differential" and excluded | {c for c, _ in found} >= set(DIFFERENCE_IDS):
            break
    return findings


def _round(rules, reference, mode, exclude, found, seed, round_no, n, database, counters,
           deadline, should_stop) -> list[Finding]:
    state = {"failed": False}

    def spent() -> bool:
        return (should_stop is not None and should_stop()) or \
            (deadline is not None and time.monotonic() >= deadline)

    def test(data):
        # Once this round has failed, let hypothesis replay the failure whatever the
        # clock says; before that, a spent budget or a stop request turns the example
        # away before it draws anything (an example that draws nothing is one
        # hypothesis soon knows it has tried, and it ends the round), or ends the
        # batch. A whole batch runs otherwise, so a stored example replays to its
        # failure.
        if not state["failed"] and spent():
            reject()
        base = draw_seed(data)
        for j in range(TRACES_PER_EXAMPLE):
            if j and not state["failed"] and spent():
                return
            try:
                _example(Choices(base * TRACES_PER_EXAMPLE + j), rules, reference, mode,
                         exclude, found, seed, counters)
            except _Invalid:
                continue     # a trace the kernel cannot apply: the batch goes on
            except ClauseViolated:
                state["failed"] = True
                raise

    wrapped = settings(
        max_examples=-(-n // TRACES_PER_EXAMPLE),
        database=database,
        deadline=None,
        derandomize=False,
        verbosity=Verbosity.quiet,
        report_multiple_bugs=True,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
        # no Phase.shrink: _polish shrinks the trace itself, in a few hundred replays of
        # the spec instead of thousands of runs of the generator (most of the time to
        # a first finding went there); without it hypothesis also ends the round at
        # the first failure instead of generating on
        phases=(Phase.explicit, Phase.reuse, Phase.generate),
    )(given(st.data())(test))
    # The seed of this round. Not through @hypothesis.seed, which also turns the example
    # database off: the same attribute, set directly, keeps it.
    wrapped._hypothesis_internal_use_seed = (seed * 0x9E3779B1 + round_no) % (1 << 64)
    wrapped._hypothesis_internal_database_key = _db_key(mode, rules, reference, exclude, found)
    try:
        with local_constants_frozen():
            wrapped()
    except ClauseViolated as exc:
        return [exc.finding, *exc.also]
    except BaseExceptionGroup as group:
        out = []
        for exc in _leaves(group):
            if isinstance(exc, ClauseViolated):
                out += [exc.finding, *exc.also]
            else:
                raise
        return out
    except HypothesisException:
        # Unsatisfiable (every example turned away: budget spent or stop requested)
        return []
    return []


def _leaves(group: BaseExceptionGroup) -> Iterable[BaseException]:
    for e in group.exceptions:
        if isinstance(e, BaseExceptionGroup):
            yield from _leaves(e)
        else:
            yield e
