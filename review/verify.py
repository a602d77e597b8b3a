"""Bounded exhaustive exploration of the spec: every operation sequence up to a depth.

Random search (review/fuzz) finds bugs but cannot say that none exist. This module
explores, breadth first, every sequence of concrete operations within small bounds
(processes, pages, reference ids) from a fixed setup (process 0 maps the pages), and
checks the contract and the invariants after every step, as `spec.run.Session` does
for a replayed trace. Breadth first means the first violating sequence found is a
shortest one: every sequence one step shorter was explored before it.

States are deduplicated by a canonical key (review/canon.py) that abstracts the
names nothing depends on: folio ids, swap slots, reference ids, written values and
(optionally, by trying every order) process ids. Two states with the same key behave
the same under every continuation, so exploring one of them is enough. The key
covers the kernel state, the contract model's state (the same kernel state with
different logical expectations is a different state) and the explorer's own
bookkeeping (which processes and reference ids the alphabet may still use).

The engine is a library function, `verify(rules, bounds)`, so that the pre-submit
check can run it on a rule set with a patch's extracted overlay.
"""
from __future__ import annotations

import pickle
import time
from array import array
from dataclasses import dataclass, field
from typing import Callable, Iterable

from spec.clauses import Violation
from spec.decisions import RuleSet

from review import canon

# Operations the alphabet knows, in the replay format's names. Their concrete
# instances are generated per state by `_alphabet`.
ALL_OPS = (
    "read", "write", "fork", "exit", "pin", "get", "unpin", "put", "dma_read",
    "dma_write", "swapout", "swapin", "migrate", "ksm_merge", "split_pmd",
    "split_folio", "madvise", "mprotect", "munmap", "mmap",
)
# mmap re-maps a page over itself (MAP_FIXED): off by default, it mostly repeats
# what munmap and MADV_DONTNEED already reach.
DEFAULT_OPS = tuple(op for op in ALL_OPS if op != "mmap")
ADVICES = ("dontneed", "dontfork", "dofork", "wipeonfork", "pageout", "mergeable",
           "unmergeable", "hugepage", "nohugepage", "collapse")
# FOLL_PIN flavours: (write, longterm) by name
PIN_KINDS = {"ro": (False, False), "rw": (True, False),
             "ro-longterm": (False, True), "rw-longterm": (True, True)}
THP_PAGES = 4  # a THP is a folio of 4 pages in the model (DESIGN.md replay semantics)


class StartError(ValueError):
    """The start trace (Bounds.start) cannot be replayed: a step makes no sense."""


@dataclass(frozen=True)
class Bounds:
    """What `verify` explores.

    depth       longest operation sequence explored (the setup mmap not counted)
    processes   process ids that may exist over a trace (fork creates the next id;
                ids are never reused, so exited processes count)
    pages       pages addressed by the operations (vpn 0..pages-1)
    thp         map one THP (4 pages) instead of `pages` small pages; operations
                still address vpn 0..pages-1 of it
    pins        reference ids (FOLL_PIN pins and FOLL_GET references share them)
    ops         the operation names of the alphabet
    advices     the madvise advices of the alphabet
    pin_kinds   the FOLL_PIN flavours of the alphabet (names of PIN_KINDS)
    max_states  stop (incomplete) once this many distinct states are stored
    symmetry    full process-id symmetry: the least key over every order of the
                live processes (default: order-preserving renaming only; see
                review/canon.py for when each is sound)
    start       a trace prefix to explore from instead of the setup mmap (its
                process ids count against `processes`; its references against
                `pins`)
    """
    depth: int
    processes: int = 2
    pages: int = 1
    thp: bool = False
    pins: int = 1
    ops: tuple[str, ...] = DEFAULT_OPS
    advices: tuple[str, ...] = ADVICES
    pin_kinds: tuple[str, ...] = tuple(PIN_KINDS)
    max_states: int = 2_000_000
    symmetry: bool = False
    start: tuple = ()  # steps (replay JSON objects) to start from instead of the mmap

    def __post_init__(self) -> None:
        if self.depth < 0:
            raise ValueError("depth must be >= 0")
        if self.processes < 1:
            raise ValueError("at least one process")
        if self.pages < 1 or (self.thp and self.pages > THP_PAGES):
            raise ValueError(f"pages must be 1..{THP_PAGES} with a THP, >= 1 otherwise")
        if self.pins < 0:
            raise ValueError("pins must be >= 0")
        unknown = set(self.ops) - set(ALL_OPS)
        if unknown:
            raise ValueError(f"unknown operation(s): {', '.join(sorted(unknown))}")
        bad = set(self.advices) - set(ADVICES)
        if bad:
            raise ValueError(f"unknown madvise advice(s): {', '.join(sorted(bad))}")
        bad = set(self.pin_kinds) - set(PIN_KINDS)
        if bad:
            raise ValueError(f"unknown pin kind(s): {', '.join(sorted(bad))}")
        if self.max_states < 1:
            raise ValueError("max_states must be >= 1")

    def setup(self) -> list[dict]:
        """The fixed prefix every explored sequence starts with."""
        if self.start:
            return [dict(s) for s in self.start]
        npages = THP_PAGES if self.thp else self.pages
        return [{"op": "mmap", "mm": 0, "vpn": 0, "npages": npages, "thp": self.thp}]

    def to_json(self) -> dict:
        return {"depth": self.depth, "processes": self.processes, "pages": self.pages,
                "thp": self.thp, "pins": self.pins, "ops": list(self.ops),
                "advices": list(self.advices), "pin_kinds": list(self.pin_kinds),
                "max_states": self.max_states,
                "symmetry": self.symmetry, "start": len(self.start)}


@dataclass
class Finding:
    """The shortest trace found for one clause id (setup + steps, replay format)."""
    id: str
    trace: list[dict]
    violations: list[Violation]
    setup: int = 1  # steps of the trace that are the setup (or the --from trace)

    @property
    def length(self) -> int:
        return len(self.trace) - self.setup


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
    findings: list["Finding"] = field(default_factory=list)  # all_clauses: one per clause id

    @property
    def ok(self) -> bool:
        return self.status in ("verified", "exhausted")

    @property
    def complete(self) -> bool:
        return self.status != "max_states" and self.status != "stopped"

    def replay_trace(self, trace: list[dict] | None = None) -> dict | None:
        trace = self.trace if trace is None else trace
        if trace is None:
            return None
        out = {"ruleset": self.rules, "steps": trace}
        if self.free:
            out["free"] = dict(self.free)  # so that a replay takes the same choices
        return out

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
                "transitions": self.transitions, "states_per_depth": self.states_per_depth,
                "elapsed": round(self.elapsed, 3), "summary": self.summary(),
                "trace": self.replay_trace(),
                "violations": [v.to_json() for v in self.violations],
                "findings": [{"id": f.id, "steps": f.length,
                              "trace": self.replay_trace(f.trace),
                              "violations": [v.to_json() for v in f.violations]}
                             for f in self.findings]}


# --- the explorer's bookkeeping beside each session ---------------------------------
#
# Driver: (next_pid, alive pids, refs, next_value). refs is a tuple of
# (slot, kind) with kind "pin_rw", "pin_ro" or "get"; slot i is named f"r{i}".
# next_value is a per-path counter so that every write writes a value never seen
# on that path; it is left out of the key (values are renamed canonically).

def _alphabet(b: Bounds, driver, ops: frozenset) -> Iterable[tuple[dict, tuple]]:
    """Every concrete step enabled by the bookkeeping, with the driver after it
    (assuming the step succeeds; `_after` corrects for refused steps)."""
    next_pid, alive, refs, value = driver
    vpns = range(b.pages)
    used = {rid for rid, _ in refs}
    # a new reference takes the lowest free name r0, r1, ... while fewer than
    # b.pins are held (references taken in a --from setup count too)
    free_id = None
    if len(refs) < b.pins:
        free_id = next(f"r{i}" for i in range(len(used) + 1) if f"r{i}" not in used)
    for mm in alive:
        for vpn in vpns:
            if "read" in ops:
                yield {"op": "read", "mm": mm, "vpn": vpn}, driver
            if "write" in ops:
                yield ({"op": "write", "mm": mm, "vpn": vpn, "value": value},
                       (next_pid, alive, refs, value + 1))
            if free_id is not None:
                rid = free_id
                if "pin" in ops:
                    for name in b.pin_kinds:
                        write, longterm = PIN_KINDS[name]
                        kind = "pin_rw" if write else "pin_ro"
                        yield ({"op": "pin", "mm": mm, "vpn": vpn, "write": write,
                                "longterm": longterm, "id": rid},
                               (next_pid, alive, _add_ref(refs, rid, kind), value))
                if "get" in ops:
                    yield ({"op": "get", "mm": mm, "vpn": vpn, "id": rid},
                           (next_pid, alive, _add_ref(refs, rid, "get"), value))
            for op in ("swapout", "swapin", "migrate"):
                if op in ops:
                    yield {"op": op, "mm": mm, "vpn": vpn}, driver
            if b.thp:
                for op in ("split_pmd", "split_folio"):
                    if op in ops:
                        yield {"op": op, "mm": mm, "vpn": vpn}, driver
            if "mprotect" in ops:
                for write in (False, True):
                    yield {"op": "mprotect", "mm": mm, "vpn": vpn, "npages": 1,
                           "write": write}, driver
            if "madvise" in ops:
                for advice in b.advices:
                    yield {"op": "madvise", "mm": mm, "vpn": vpn, "npages": 1,
                           "advice": advice}, driver
            if "munmap" in ops:
                yield {"op": "munmap", "mm": mm, "vpn": vpn, "npages": 1}, driver
            if "mmap" in ops and not b.thp:
                yield {"op": "mmap", "mm": mm, "vpn": vpn, "npages": 1, "thp": False}, driver
        if "mmap" in ops and b.thp:
            yield {"op": "mmap", "mm": mm, "vpn": 0, "npages": THP_PAGES, "thp": True}, driver
        if "fork" in ops and next_pid < b.processes:
            yield ({"op": "fork", "mm": mm, "child": next_pid},
                   (next_pid + 1, alive + (next_pid,), refs, value))
        if "exit" in ops:
            yield ({"op": "exit", "mm": mm},
                   (next_pid, tuple(p for p in alive if p != mm), refs, value))
        if "ksm_merge" in ops:
            for vpn in vpns:
                for mm2 in alive:
                    for vpn2 in vpns:
                        if (mm2, vpn2) > (mm, vpn):
                            yield {"op": "ksm_merge", "mm": mm, "vpn": vpn, "mm2": mm2,
                                   "vpn2": vpn2}, driver
    for rid, kind in refs:
        release = "put" if kind == "get" else "unpin"
        if release in ops:
            yield ({"op": release, "id": rid},
                   (next_pid, alive, tuple(r for r in refs if r[0] != rid), value))
        if "dma_read" in ops:
            yield {"op": "dma_read", "id": rid}, driver
        if "dma_write" in ops and kind == "pin_rw":
            yield ({"op": "dma_write", "id": rid, "value": value},
                   (next_pid, alive, refs, value + 1))


def _add_ref(refs: tuple, rid: str, kind: str) -> tuple:
    return tuple(sorted(refs + ((rid, kind),)))


# A successor that is its parent's state again (a step that changed nothing).
SAME = object()


def _sync(session, driver) -> tuple:
    """The driver with the live processes and held references read from the kernel
    state, so that the alphabet never trusts bookkeeping the key does not cover (the
    key covers the kernel state; of the driver, only the forks left)."""
    st = session.kernel.state
    alive = tuple(sorted(pid for pid, m in st.mms.items() if m.alive))
    refs = tuple(sorted((rid, "get" if not r.pin else ("pin_rw" if r.write else "pin_ro"))
                        for rid, r in st.refs.items()))
    if alive == driver[1] and refs == driver[2]:
        return driver
    return (driver[0], alive, refs, driver[3])


def _reusable(parent, child) -> bool:
    """True when `child` (a clone of `parent` one step on) holds the parent's state, and
    then makes it a stand-in for a fresh clone of `parent`. canon.unchanged compares
    every keyed field by raw value (ids included, not merely up to renaming). Of the
    rest, the step counters and allocation counters are put back; the process ids
    used so far (fork refuses a used id) must be equal; the contract's log of
    logical updates (messages only) is cut back to the parent's length (a no-op step
    may log the value an address already held); its value origins are recorded only
    by writes, which change what canon.unchanged compares; the per-step decision log
    is reset by the next step."""
    if not canon.unchanged(parent, child):
        return False
    pk, ck = parent.kernel, child.kernel
    ps, cs = pk.state, ck.state
    if ps.used_mm_ids != cs.used_mm_ids:
        return False
    cs.next_folio = ps.next_folio
    cs.next_slot = ps.next_slot
    ck.step_count = pk.step_count
    child.index = parent.index
    cc, pc = child.contract, parent.contract
    cc._snapshot = None
    if type(cc.history) is list and len(cc.history) != len(pc.history):
        del cc.history[len(pc.history):]
    return True


def _after(step: dict, status: str, before, after):
    """The driver after `step` returned `status`: a refused pin/get/fork binds nothing."""
    if status == "ok":
        return after
    op = step["op"]
    if op in ("pin", "get", "fork"):
        return before
    return after


# --- the model the search runs on -------------------------------------------------------

class SpecModel:
    """The spec (spec.run.Session: kernel + contract + invariants) with the explorer's
    bookkeeping, as the search sees it: a state is (session, driver)."""

    def __init__(self, rules: RuleSet, bounds: Bounds, *, digest: bool = True,
                 fast_same: bool = True):
        from spec.run import Session  # imported on use: the CLI starts faster
        from spec.trace import Step

        from spec import invariants

        self._session_class = Session
        self._invariants = invariants
        self._step_class = Step
        self.rules = rules
        self.bounds = bounds
        self.ops = frozenset(bounds.ops)
        self.keyer = canon.Keyer(bounds.processes, full_symmetry=bounds.symmetry, digest=digest)
        self._alphabets: dict[tuple, list] = {}
        self._template = None
        self.fast_same = fast_same  # report unchanged successors as SAME (no key needed)

    def initial(self):
        """(state or None, setup steps as JSON, violations of the setup)."""
        # Invariants are predicates over the kernel state alone, so the search checks
        # them once per distinct state (state_violations) rather than after every step;
        # the contract is checked after every step (its clauses are about the step).
        session = self._session_class(self.rules, check_invariants=False)
        canon.check_schema(session)
        from spec.errors import TraceError
        from spec.trace import parse_step

        setup = []
        for i, obj in enumerate(self.bounds.setup()):
            try:
                step = parse_step(obj, i)  # checked, defaults filled in
            except TraceError as exc:
                raise StartError(str(exc)) from None
            setup.append(step.to_json())
            status, violations = canon.apply(session, step)
            if status is None:
                raise StartError(f"start step {i} ({obj.get('op')}) cannot be applied in this state")
            violations = list(violations) + self._invariants.check(session.kernel, i)
            if violations:
                return None, setup, violations
            if status != "ok" and not self.bounds.start:
                raise StartError(f"setup step {obj} returned {status}")
        # fresh process ids and values: past every one the setup used
        pids = [obj[k] for obj in setup for k in ("mm", "child", "mm2") if k in obj]
        values = [obj["value"] for obj in setup if "value" in obj]
        driver = (max(pids, default=0) + 1, (), (), max(values, default=0) + 1)
        return (session, _sync(session, driver)), setup, []

    def state_violations(self, state) -> list:
        """The invariants (spec/invariants.py) that fail in `state`."""
        session = state[0]
        return self._invariants.check(session.kernel, session.index - 1)

    def _step(self, obj: dict):
        args = dict(obj)
        op = args.pop("op")
        return self._step_class(op, args)

    def alphabet(self, driver) -> list:
        """[(Step, step as JSON, driver after it succeeds)], cached per driver."""
        found = self._alphabets.get(driver)
        if found is None:
            found = [(self._step(obj), obj, after)
                     for obj, after in _alphabet(self.bounds, driver, self.ops)]
            self._alphabets[driver] = found
        return found

    def enabled(self, state) -> list:
        """[(Step, step as JSON, driver after it succeeds)]: the alphabet at `state`,
        with live processes and held references read from the kernel state (for
        models built on this one, such as review/check_explore.py)."""
        session, driver = state
        return self.alphabet(_sync(session, driver))

    def transitions(self, state):
        """(step as JSON, status or None when the step does not apply at all, child
        state or None, violations) for every step of the alphabet."""
        session, driver = state
        driver = _sync(session, driver)
        fast_same = self.fast_same
        scratch = None  # a clone of `session` that a step left as it was: reused
        for step, obj, driver_ok in self.alphabet(driver):
            child = scratch if scratch is not None else session.clone()
            scratch = None
            status, violations = canon.apply(child, step)
            if status is None:
                # the model could not apply it (perhaps half-way through): reuse the
                # clone only when it holds exactly the parent's state
                if fast_same and _reusable(session, child):
                    scratch = child
                yield obj, None, None, ()
                continue
            driver_after = driver_ok if status == "ok" else _after(obj, status, driver, driver_ok)
            if fast_same and driver_after[0] == driver[0] and _reusable(session, child):
                # the very state we came from: already seen, nothing to key; and the
                # clone is as good as a fresh one for the next step
                scratch = child
                yield obj, status, SAME, violations
                continue
            yield obj, status, (child, driver_after), violations

    def successors(self, state):
        """(step as JSON, child state or None when the step does not apply, violations)."""
        for obj, _status, child, violations in self.transitions(state):
            yield obj, child, violations

    def key(self, state):
        session, driver = state
        return self.keyer.key(session, driver)

    # Frontier compaction: a live Session takes about 5 KB, its pickled kernel state
    # and contract well under 1 KB. Large frontiers are kept pickled (a few tens of
    # microseconds per state each way) so that memory goes to more states.
    def pack(self, state) -> bytes:
        session, driver = state
        return pickle.dumps((session.kernel.state, session.contract, session.index,
                             session.kernel.step_count, driver), protocol=5)

    def unpack(self, packed: bytes):
        kstate, contract, index, step_count, driver = pickle.loads(packed)
        if self._template is None:
            self._template = self._session_class(self.rules, check_invariants=False)
        session = self._template.clone()
        session.kernel.state = kstate
        session.kernel.step_count = step_count
        session.contract = contract
        session.index = index
        return session, driver


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
                     progress_every=progress_every)
    result.free = dict(rules.free)
    return result


def explore(model, rules_name: str, bounds: Bounds, *, clauses=None, all_clauses: bool = False,
            on_progress=None, should_stop=None, progress_every: float = 1.0,
            compact_after: int = 20_000) -> VerifyResult:
    """The search itself, over any model with initial(), successors(state), key(state)
    and optionally state_violations(state) (predicates of the state alone, checked
    once per distinct state) and pack(state)/unpack(packed) (a compact form: frontier
    states past the first `compact_after` of a level are stored packed).

    With `all_clauses`, a violation does not end the search: the first (shortest)
    trace of each clause id is kept in `findings` and the search goes on to the
    depth bound, so that one bug does not hide another."""
    pack = getattr(model, "pack", None)
    unpack = getattr(model, "unpack", None)
    if pack is None or unpack is None:
        compact_after = None
    wanted = None if clauses is None else frozenset(clauses)

    findings: dict[str, Finding] = {}

    def relevant(vs):
        if not vs:
            return vs
        if wanted is not None:
            vs = [v for v in vs if v.id in wanted]
        if findings:
            vs = [v for v in vs if v.id not in findings]
        return vs

    def record(trace, vs) -> None:
        for v in vs:
            findings.setdefault(v.id, Finding(v.id, trace, [x for x in vs if x.id == v.id],
                                              len(setup)))

    t0 = time.monotonic()
    root, setup, bad = model.initial()
    transitions = len(setup)
    if root is None:
        return VerifyResult("violation", rules_name, bounds, 0, 0, transitions, [0],
                            time.monotonic() - t0, list(setup), bad)
    check_state = getattr(model, "state_violations", None)
    seen: set = {model.key(root)}
    # Parent links for trace reconstruction: node i was reached from parent[i] by
    # steps[i]; node 0 is the root. Only the frontier keeps its states alive.
    parent = array("q", [-1])  # 8 bytes a state (a list of ints would take ~36)
    steps: list[dict | None] = [None]
    frontier: list[tuple[int, object]] = [(0, root)]
    per_depth = [1]
    last_report = t0

    def trace_of(node: int, last: dict) -> list[dict]:
        out = [last]
        while node > 0:
            out.append(steps[node])
            node = parent[node]
        return list(setup) + out[::-1]

    def result(status: str, depth_done: int, trace=None, violations=()) -> VerifyResult:
        found = list(findings.values())
        if found and status in ("verified", "exhausted"):
            first = found[0]
            status, trace, violations = "violation", first.trace, first.violations
            depth_done = len(first.trace) - len(setup) - 1
        return VerifyResult(status, rules_name, bounds, depth_done, len(seen), transitions,
                            list(per_depth), time.monotonic() - t0, trace, list(violations),
                            findings=found)

    for depth in range(bounds.depth):
        nxt: list[tuple[int, object]] = []
        # The states of the last level are never expanded: they are keyed, checked and
        # counted, but neither kept (the largest level, about nine tenths of every
        # state) nor given a node (a violation found there is traced from its parent).
        last = depth == bounds.depth - 1
        new_states = 0
        for expanded, (node, state) in enumerate(frontier):
            if type(state) is bytes:
                state = unpack(state)
            for step, child, violations in model.successors(state):
                transitions += 1
                if child is None:
                    continue
                if violations:
                    violations = relevant(violations)
                if child is SAME:
                    # the parent's own state: already seen and checked
                    if violations:
                        if not all_clauses:
                            return result("violation", depth, trace_of(node, step), violations)
                        record(trace_of(node, step), violations)
                    continue
                if violations:
                    if not all_clauses:
                        return result("violation", depth, trace_of(node, step), violations)
                    record(trace_of(node, step), violations)
                key = model.key(child)
                if key in seen:
                    continue
                if len(seen) >= bounds.max_states:
                    return result("max_states", depth)
                seen.add(key)
                if check_state is not None:
                    bad = relevant(check_state(child))
                    if bad:
                        if not all_clauses:
                            return result("violation", depth, trace_of(node, step), bad)
                        record(trace_of(node, step), bad)
                new_states += 1
                if last:
                    continue
                parent.append(node)
                steps.append(step)
                if compact_after is not None and len(nxt) >= compact_after:
                    child = pack(child)
                nxt.append((len(parent) - 1, child))
            frontier[expanded] = None  # let the expanded state go
            if on_progress is not None:
                now = time.monotonic()
                if now - last_report >= progress_every:
                    last_report = now
                    on_progress(Progress(depth, len(frontier), expanded + 1, len(seen),
                                         transitions, now - t0))
            if should_stop is not None and should_stop():
                return result("stopped", depth)
        frontier = nxt
        per_depth.append(new_states)
        if not new_states:
            return result("exhausted", depth + 1)
    return result("verified", bounds.depth)


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
