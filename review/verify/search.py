"""Bounded exhaustive exploration of the spec: every operation sequence up to a depth.

Random search (review/fuzz) finds bugs but cannot say that none exist. This module
explores, breadth first, every sequence of concrete operations within small bounds
(processes, pages, reference ids) from a fixed setup (process 0 maps the pages), and
checks the contract and the invariants after every step, as `spec.run.Session` does
for a replayed trace. Breadth first means the first violating sequence found is a
shortest one: every sequence one step shorter was explored before it.

States are deduplicated by a canonical key (review/verify/canon.py) that abstracts the
names nothing depends on: folio ids, swap slots, reference ids, written values and
(optionally, by trying every order) process ids. Two states with the same key behave
the same under every continuation, so exploring one of them is enough. The key
covers the kernel state, the contract model's state (the same kernel state with
different logical expectations is a different state) and the explorer's own
bookkeeping (which processes and reference ids the alphabet may still use).

The engine is a library function, `verify(rules, bounds)`, so that the pre-submit
check can run it on a rule set with a patch's extracted overlay. The bounds, the
operation alphabet and the spec adapter (SpecModel) live in review/verify/model.py;
this module is the search.
"""
from __future__ import annotations

import time
from array import array
from dataclasses import dataclass, field
from typing import Callable, Iterable

from spec.clauses import Violation
from spec.decisions import RuleSet

from review.findings import Finding
from review.verify.model import SAME, Bounds, SpecModel


@dataclass(kw_only=True)
class ShortestFinding(Finding):
    """The shortest trace found for one clause id: a Finding whose trace is the setup
    and then the steps the search chose, with every violation of that id its last step
    showed (one clause can break on several pages at once)."""
    violations: list[Violation] = field(default_factory=list)
    setup: int = 1  # steps of the trace that are the setup (or the --from trace)

    @property
    def length(self) -> int:
        return len(self.trace["steps"]) - self.setup


@dataclass
class Progress:
    depth: int            # the level being expanded (sequences of this length -> +1)
    frontier: int         # states at that level
    expanded: int         # of which expanded so far
    states: int           # distinct states stored
    transitions: int      # steps applied
    elapsed: float


@dataclass
class VerifyResult:
    """status: "verified" (every sequence up to bounds.depth is clean), "violation"
    (trace is a shortest violating sequence), "exhausted" (no new state: every
    reachable state within the process/page/pin bounds was seen, so any depth
    verifies), "max_states" or "stopped" (incomplete: verified up to
    `depth_verified` only)."""
    status: str
    rules: str
    bounds: Bounds
    depth_verified: int
    states: int
    transitions: int
    states_per_depth: list[int]
    elapsed: float
    trace: list[dict] | None = None       # setup + steps, replay format steps
    violations: list[Violation] = field(default_factory=list)
    free: dict = field(default_factory=dict)  # the rule set's valuation of unmodelled atoms
    findings: list[ShortestFinding] = field(default_factory=list)  # all_clauses: one per clause id
    reduced: bool = False  # steps were skipped by sleep sets (review/verify/por.py)

    @property
    def ok(self) -> bool:
        return self.status in ("verified", "exhausted")

    @property
    def complete(self) -> bool:
        return self.status != "max_states" and self.status != "stopped"

    def replay_trace(self) -> dict | None:
        if self.trace is None:
            return None
        return replay_json(self.rules, self.trace, self.free)

    def summary(self) -> str:
        s = f"{self.states} distinct states"
        if self.status == "verified":
            return f"verified up to depth {self.depth_verified} ({s})"
        if self.status == "exhausted":
            return (f"verified up to depth {self.bounds.depth}: state space exhausted at "
                    f"depth {self.depth_verified} ({s}, every reachable state seen)")
        if self.status == "violation":
            if len(self.findings) > 1:
                each = ", ".join(f"{f.id} ({f.length} steps)" for f in self.findings)
                return (f"violations, each by a shortest trace: {each} "
                        f"({s} explored up to depth {self.bounds.depth})")
            ids = ", ".join(sorted({v.id for v in self.violations}))
            n = len(self.trace) - len(self.bounds.setup())
            return f"violation of {ids} by a shortest trace of {n} steps ({s} explored)"
        why = ("state budget of %d reached" % self.bounds.max_states
               if self.status == "max_states" else "interrupted")
        found = "".join(f"; found {f.id} ({f.length} steps)" for f in self.findings)
        return (f"{why}: verified up to depth {self.depth_verified} only "
                f"(requested {self.bounds.depth}; {s}){found}")

    def to_json(self) -> dict:
        return {"status": self.status, "ruleset": self.rules, "bounds": self.bounds.to_json(),
                "depth_verified": self.depth_verified, "states": self.states,
                "transitions": self.transitions, "reduction": self.reduced,
                "states_per_depth": self.states_per_depth,
                "elapsed": round(self.elapsed, 3), "summary": self.summary(),
                "trace": self.replay_trace(),
                "violations": [v.to_json() for v in self.violations],
                "findings": [{"id": f.id, "steps": f.length, "trace": f.trace,
                              "violations": [v.to_json() for v in f.violations]}
                             for f in self.findings]}


def replay_json(rules_name: str, steps: list[dict], free: dict) -> dict:
    """Steps (setup first) as a replay trace of the rule set `rules_name`."""
    out = {"ruleset": rules_name, "steps": steps}
    if free:
        out["free"] = dict(free)  # so that a replay takes the same choices
    return out


# --- the search --------------------------------------------------------------------------

def verify(
    rules: RuleSet,
    bounds: Bounds,
    *,
    clauses: Iterable[str] | None = None,
    all_clauses: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    progress_every: float = 1.0,
    reduce: bool = True,
) -> VerifyResult:
    """Breadth-first exploration of every step sequence within `bounds` under `rules`.

    Returns the first (hence shortest) violating sequence, or the verdict that none
    exists up to bounds.depth. With `clauses`, only violations of those ids count
    (the search goes on through states that break others): the shortest trace for
    one clause. With `all_clauses`, the search goes on past violations and keeps the
    shortest trace of every clause id it breaks (`result.findings`). `should_stop` is polled between expansions; when it says yes the
    result is "stopped" with the depth completed so far (Ctrl-C in the CLI).
    `on_progress` is called about every `progress_every` seconds."""
    result = explore(SpecModel(rules, bounds), rules.name, bounds, clauses=clauses,
                     all_clauses=all_clauses, on_progress=on_progress, should_stop=should_stop,
                     progress_every=progress_every, reduce=reduce, free=rules.free)
    result.free = dict(rules.free)
    return result


def explore(model, rules_name: str, bounds: Bounds, *, clauses=None, all_clauses: bool = False,
            on_progress=None, should_stop=None, progress_every: float = 1.0,
            compact_after: int = 20_000, reduce: bool = True,
            free: dict | None = None) -> VerifyResult:
    """The search itself, over any model with initial(), successors(state), key(state)
    and optionally state_violations(state) (predicates of the state alone, checked
    once per distinct state) and pack(state)/unpack(packed) (a compact form: frontier
    states past the first `compact_after` of a level are stored packed).

    With `all_clauses`, a violation does not end the search: the first (shortest)
    trace of each clause id is kept in `findings` and the search goes on to the
    depth bound, so that one bug does not hide another. `free`, the rule set's
    valuation of unmodelled atoms, goes into the findings' replay traces.

    With `reduce` and a model that offers reduced_successors(state, sleep,
    children_expanded) (review/verify/model.py's SpecModel does), steps are skipped by sleep
    sets (review/verify/por.py): the same states at every depth and the same shortest
    violation per clause, for fewer steps."""
    t0 = time.monotonic()
    root, setup, bad = model.initial()
    if root is None:
        return VerifyResult("violation", rules_name, bounds, 0, 0, len(setup), [0],
                            time.monotonic() - t0, list(setup), bad)
    search = _Search(model, rules_name, bounds, setup, t0, clauses=clauses,
                     all_clauses=all_clauses, reduce=reduce, compact_after=compact_after,
                     on_progress=on_progress, should_stop=should_stop,
                     progress_every=progress_every, free=free or {})
    search.seen.add(model.key(root))
    frontier: list = [(0, root, 0)]  # (node, state or packed state, sleep set: a bit set)
    for depth in range(bounds.depth):
        frontier = search.expand(frontier, depth)
        if type(frontier) is VerifyResult:
            return frontier
        if not search.per_depth[-1]:
            return search.result("exhausted", depth + 1)
    return search.result("verified", bounds.depth)


class _Search:
    """The bookkeeping of one breadth-first search (see `explore`): the keys seen, the
    parent links that rebuild a trace, the steps applied and the findings so far."""

    def __init__(self, model, rules_name: str, bounds: Bounds, setup: list, t0: float, *,
                 clauses, all_clauses: bool, reduce: bool, compact_after: int,
                 on_progress, should_stop, progress_every: float, free: dict):
        self.model = model
        self.rules_name = rules_name
        self.bounds = bounds
        self.setup = setup
        self.free = free   # the rule set's valuation of unmodelled atoms, for the traces
        self.t0 = t0
        self.wanted = None if clauses is None else frozenset(clauses)
        self.all_clauses = all_clauses
        self.reduced = getattr(model, "reduced_successors", None) if reduce else None
        self.pack = getattr(model, "pack", None)
        self.unpack = getattr(model, "unpack", None)
        self.compact_after = compact_after if self.pack and self.unpack else None
        self.check_state = getattr(model, "state_violations", None)
        self.on_progress = on_progress
        self.should_stop = should_stop
        self.progress_every = progress_every
        self.last_report = t0
        self.findings: dict[str, ShortestFinding] = {}
        self.transitions = len(setup)
        self.seen: set = set()
        # Parent links for trace reconstruction: node i was reached from parent[i] by
        # steps[i]; node 0 is the root. Only the frontier keeps its states alive.
        self.parent = array("q", [-1])  # 8 bytes a state (a list of ints would take ~36)
        self.steps: list[dict | None] = [None]
        self.per_depth = [1]

    def relevant(self, vs):
        """The violations that count: of the clauses asked for, not found before."""
        if self.wanted is not None:
            vs = [v for v in vs if v.id in self.wanted]
        if self.findings:
            vs = [v for v in vs if v.id not in self.findings]
        return vs

    def violated(self, depth: int, node: int, step: dict, vs) -> VerifyResult | None:
        """Violations `vs` by `step` from `node`: the result that ends the search, or
        None when the search goes on (all_clauses: they are recorded)."""
        trace = self.trace_of(node, step)
        if not self.all_clauses:
            return self.result("violation", depth, trace, vs)
        for v in vs:
            if v.id not in self.findings:
                self.findings[v.id] = ShortestFinding(
                    id=v.id, message=v.message, trace=replay_json(self.rules_name, trace, self.free),
                    step=v.step, rulesets=(self.rules_name,),
                    violations=[x for x in vs if x.id == v.id], setup=len(self.setup))
        return None

    def trace_of(self, node: int, last: dict) -> list[dict]:
        out = [last]
        while node > 0:
            out.append(self.steps[node])
            node = self.parent[node]
        return list(self.setup) + out[::-1]

    def result(self, status: str, depth_done: int, trace=None, violations=()) -> VerifyResult:
        found = list(self.findings.values())
        if found and status in ("verified", "exhausted"):
            first = found[0]
            status, trace, violations = "violation", first.trace["steps"], first.violations
            depth_done = first.length - 1
        return VerifyResult(status, self.rules_name, self.bounds, depth_done, len(self.seen),
                            self.transitions, list(self.per_depth), time.monotonic() - self.t0,
                            trace, list(violations), findings=found,
                            reduced=self.reduced is not None)

    def expand(self, frontier: list, depth: int):
        """Every successor of every state of `frontier` (the level at `depth`): the next
        level's frontier, or the VerifyResult that ends the search."""
        model, seen, reduced = self.model, self.seen, self.reduced
        unpack, pack, compact_after = self.unpack, self.pack, self.compact_after
        check_state, parent, steps = self.check_state, self.parent, self.steps
        nxt: list = []
        # The states of the last level are never expanded: they are keyed, checked and
        # counted, but neither kept (the largest level, about nine tenths of every
        # state) nor given a node (a violation found there is traced from its parent).
        last = depth == self.bounds.depth - 1
        # sleep sets of the next level, by key: a state reached again on the same
        # level keeps only what every path to it may skip (intersection)
        level: dict | None = {} if reduced is not None and not last else None
        new_states = 0
        for expanded, (node, state, sleep) in enumerate(frontier):
            if type(state) is bytes:
                state = unpack(state)
            if reduced is None:
                succ = ((a, b, c, None) for a, b, c in model.successors(state))
            else:
                succ = reduced(state, sleep, not last)
            for step, child, violations, child_sleep in succ:
                self.transitions += 1
                if child is None:
                    continue
                if violations:
                    violations = self.relevant(violations)
                    if violations:
                        stop = self.violated(depth, node, step, violations)
                        if stop is not None:
                            return stop
                if child is SAME:
                    continue  # the parent's own state: already seen and checked
                key = model.key(child)
                if key in seen:
                    if level is not None:
                        at = level.get(key)
                        if at is not None:
                            n, c, z = nxt[at]
                            if z:
                                nxt[at] = (n, c, z & child_sleep)
                    continue
                if len(seen) >= self.bounds.max_states:
                    return self.result("max_states", depth)
                seen.add(key)
                if check_state is not None:
                    bad = self.relevant(check_state(child))
                    if bad:
                        stop = self.violated(depth, node, step, bad)
                        if stop is not None:
                            return stop
                new_states += 1
                if last:
                    continue
                parent.append(node)
                steps.append(step)
                if compact_after is not None and len(nxt) >= compact_after:
                    child = pack(child)
                if level is not None:
                    level[key] = len(nxt)
                nxt.append((len(parent) - 1, child, child_sleep))
            frontier[expanded] = None  # let the expanded state go
            stop = self.report(depth, len(frontier), expanded + 1)
            if stop is not None:
                return stop
        self.per_depth.append(new_states)
        return nxt

    def report(self, depth: int, frontier: int, expanded: int) -> VerifyResult | None:
        """Between expansions: progress about every progress_every seconds, and the
        "stopped" result when should_stop says so."""
        if self.on_progress is not None:
            now = time.monotonic()
            if now - self.last_report >= self.progress_every:
                self.last_report = now
                self.on_progress(Progress(depth, frontier, expanded, len(self.seen),
                                          self.transitions, now - self.t0))
        if self.should_stop is not None and self.should_stop():
            return self.result("stopped", depth)
        return None


# --- checking the reduction itself ----------------------------------------------------------

def audit(rules: RuleSet, bounds: Bounds, *, samples: int = 200) -> tuple[int, list[str]]:
    """Check empirically that the canonical key only merges states that behave the
    same: explore as `verify` does, and for up to `samples` states that hit an
    already-seen key, compare the one-step behaviour of both representatives (the
    multiset of (status, violated clause ids, key of the successor) over their whole
    alphabets). Returns (comparisons made, mismatches described)."""
    model = SpecModel(rules, bounds, digest=False, fast_same=False)
    root, _, _ = model.initial()
    reps = {model.key(root): root}
    frontier = [root]
    compared = 0
    problems: list[str] = []

    def signature(state) -> list:
        out = []
        for _, status, child, violations in model.transitions(state):
            if child is None:
                out.append(("n/a",))
            else:
                found = list(violations) + model.state_violations(child)
                out.append((status, tuple(sorted(v.id for v in found)), model.key(child)))
        return sorted(out, key=repr)

    for _ in range(bounds.depth):
        nxt = []
        for state in frontier:
            for obj, child, _v in model.successors(state):
                if child is None:
                    continue
                key = model.key(child)
                rep = reps.get(key)
                if rep is None:
                    reps[key] = child
                    nxt.append(child)
                elif compared < samples and rep is not child:
                    compared += 1
                    if signature(rep) != signature(child):
                        problems.append(f"after {obj}: two states with one key behave differently")
            if compared >= samples:
                return compared, problems
        frontier = nxt
    return compared, problems
