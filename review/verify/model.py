"""The spec as `mmreview verify` explores it: the bounds, the operation alphabet
(every concrete step enabled in a state) and `SpecModel`, which pairs a
spec.run.Session with the explorer's bookkeeping and gives a search its initial
state, successors, keys and per-state violations.
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass
from typing import Iterable

from spec import invariants
from spec.decisions import RuleSet
from spec.errors import TraceError
from spec.run import Session
from spec.state import HPAGE_NR
from spec.trace import Step, parse_step

from review.verify import canon
from review.verify.por import Footprints, children_sleep, footprint_masks, ident

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
                review/verify/canon.py for when each is sound)
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
        if self.pages < 1 or (self.thp and self.pages > HPAGE_NR):
            raise ValueError(f"pages must be 1..{HPAGE_NR} with a THP, >= 1 otherwise")
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
        npages = HPAGE_NR if self.thp else self.pages
        return [{"op": "mmap", "mm": 0, "vpn": 0, "npages": npages, "thp": self.thp}]

    def to_json(self) -> dict:
        return {"depth": self.depth, "processes": self.processes, "pages": self.pages,
                "thp": self.thp, "pins": self.pins, "ops": list(self.ops),
                "advices": list(self.advices), "pin_kinds": list(self.pin_kinds),
                "max_states": self.max_states,
                "symmetry": self.symmetry, "start": len(self.start)}


# --- the explorer's bookkeeping beside each session ---------------------------------
#
# Driver: (next_pid, alive pids, refs, next_value). refs is a tuple of
# (slot, kind) with kind "pin_rw", "pin_ro" or "get"; slot i is named f"r{i}".
# next_value is a per-path counter so that every write writes a value never seen
# on that path; it is left out of the key (values are renamed canonically).

def _alphabet(b: Bounds, driver, ops: frozenset) -> Iterable[tuple[dict, tuple]]:
    """Every concrete step enabled by the bookkeeping, with the driver after it
    (assuming the step succeeds; `driver_after` corrects for refused steps)."""
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
            yield {"op": "mmap", "mm": mm, "vpn": 0, "npages": HPAGE_NR, "thp": True}, driver
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
                        if (mm2, vpn2) != (mm, vpn):
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


# A successor that is its parent's state again (a step that changed nothing), or
# differs from it only in VMA flags the key leaves out (canon.Keyer.unread_vma_flags):
# either way its key is the parent's.
SAME = object()


def sync_driver(session, driver) -> tuple:
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


def _reusable(parent, child, unread_vma_flags: int = 0) -> int:
    """canon.IDENTICAL when `child` (a clone of `parent` one step on) holds the parent's
    state, and then makes it a stand-in for a fresh clone of `parent`;
    canon.UP_TO_UNREAD_FLAGS when it differs from the parent only in VMA flag bits the
    key leaves out (the same key, but no stand-in: a clone of the parent must be the
    parent's state); 0 otherwise. canon.unchanged compares every keyed field by raw
    value (ids included, not merely up to renaming). Of the rest, the step counters
    and allocation counters are put back; the process ids used so far (fork refuses
    a used id) must be equal; the contract's log of logical updates (messages only)
    is cut back to the parent's length (a no-op step may log the value an address
    already held); its value origins are recorded only by writes, which change what
    canon.unchanged compares; the per-step decision log is reset by the next step."""
    same = canon.unchanged(parent, child, unread_vma_flags)
    if same != canon.IDENTICAL:
        return same
    pk, ck = parent.kernel, child.kernel
    ps, cs = pk.state, ck.state
    if ps.used_mm_ids != cs.used_mm_ids:
        return 0
    cs.next_folio = ps.next_folio
    cs.next_slot = ps.next_slot
    ck.step_count = pk.step_count
    child.index = parent.index
    cc, pc = child.contract, parent.contract
    cc._snapshot = None
    if type(cc.history) is list and len(cc.history) != len(pc.history):
        del cc.history[len(pc.history):]
    return canon.IDENTICAL


def driver_after(step: dict, status: str, before, after):
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
        self.rules = rules
        self.bounds = bounds
        self.ops = frozenset(bounds.ops)
        self._alphabets: dict[tuple, list] = {}
        self._idents: dict[tuple, list] = {}
        self._bits: dict[tuple, list] = {}
        self._bit_of: dict[tuple, int] = {}  # step identity -> its bit in sleep sets
        self.footprints = Footprints(bounds.pages, bounds.thp, bool(bounds.start))
        # footprints.fine: no block can ever hold a THP in these bounds (one definition
        # for the per-page footprints and the key's unread VMA flags)
        self.keyer = canon.Keyer(bounds.processes, full_symmetry=bounds.symmetry, digest=digest,
                                 thp_impossible=self.footprints.fine)
        self._template = None
        self.fast_same = fast_same  # report unchanged successors as SAME (no key needed)

    def initial(self):
        """(state or None, setup steps as JSON, violations of the setup)."""
        # Invariants are predicates over the kernel state alone, so the search checks
        # them once per distinct state (state_violations) rather than after every step;
        # the contract is checked after every step (its clauses are about the step).
        session = Session(self.rules, check_invariants=False)
        canon.check_schema(session)
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
            violations = list(violations) + invariants.check(session.kernel, i)
            if violations:
                return None, setup, violations
            if status != "ok" and not self.bounds.start:
                raise StartError(f"setup step {obj} returned {status}")
        # fresh process ids and values: past every one the setup used
        pids = [obj[k] for obj in setup for k in ("mm", "child", "mm2") if k in obj]
        values = [obj["value"] for obj in setup if "value" in obj]
        driver = (max(pids, default=0) + 1, (), (), max(values, default=0) + 1)
        return (session, sync_driver(session, driver)), setup, []

    def state_violations(self, state) -> list:
        """The invariants (spec/invariants.py) that fail in `state`."""
        session = state[0]
        return invariants.check(session.kernel, session.index - 1)

    def _step(self, obj: dict):
        args = dict(obj)
        op = args.pop("op")
        return Step(op, args)

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
        models built on this one, such as review/check/explore.py)."""
        session, driver = state
        return self.alphabet(sync_driver(session, driver))

    def transitions(self, state, sleep: int = 0):
        """(step as JSON, status or None when the step does not apply at all, child
        state or None, violations) for every step of the alphabet but those in the
        sleep set `sleep` (a bit set over step identities: see `bits`)."""
        session, driver = state
        driver = sync_driver(session, driver)
        entries = self.alphabet(driver)
        if sleep:
            entries = [e for e, b in zip(entries, self.bits(driver)) if not b & sleep]
        return self._run(session, driver, entries)

    def _run(self, session, driver, entries):
        fast_same = self.fast_same
        unread = self.keyer.unread_vma_flags
        scratch = None  # a clone of `session` that a step left as it was: reused
        for step, obj, driver_ok in entries:
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
            child_driver = driver_ok if status == "ok" else driver_after(obj, status, driver, driver_ok)
            if fast_same and child_driver[0] == driver[0]:
                same = _reusable(session, child, unread)
                if same:
                    # the very state we came from, or one with its key: already seen,
                    # nothing to key; and if it is the very state, the clone is as good
                    # as a fresh one for the next step
                    if same == canon.IDENTICAL:
                        scratch = child
                    yield obj, status, SAME, violations
                    continue
            yield obj, status, (child, child_driver), violations

    def successors(self, state):
        """(step as JSON, child state or None when the step does not apply, violations)."""
        for obj, _status, child, violations in self.transitions(state):
            yield obj, child, violations

    # --- partial-order reduction (review/verify/por.py) -------------------------------
    def idents(self, driver) -> list:
        """The sleep-set identity of each alphabet entry of `driver`, in order."""
        found = self._idents.get(driver)
        if found is None:
            found = [ident(obj) for _step, obj, _after in self.alphabet(driver)]
            self._idents[driver] = found
        return found

    def bits(self, driver) -> list[int]:
        """Each alphabet entry's bit in sleep sets: one bit per step identity, numbered
        in order of first use over the search (a few hundred identities at most)."""
        found = self._bits.get(driver)
        if found is None:
            registry = self._bit_of
            found = []
            for i in self.idents(driver):
                bit = registry.get(i)
                if bit is None:
                    bit = registry[i] = 1 << len(registry)
                found.append(bit)
            self._bits[driver] = found
        return found

    def reduced_successors(self, state, sleep: int, children_expanded: bool):
        """successors() under the sleep set `sleep` (a bit set, 0 for none): (step as
        JSON, child or None, violations, the child's sleep set or None). The children's
        sleep sets are computed only when `children_expanded` (their level will be
        expanded)."""
        if not children_expanded:
            for obj, _status, child, violations in self.transitions(state, sleep):
                yield obj, child, violations, None
            return
        session, driver = state
        driver = sync_driver(session, driver)
        entries = self.alphabet(driver)
        bits = self.bits(driver)
        keep = [i for i, b in enumerate(bits) if not b & sleep]
        masks = footprint_masks(self.footprints, session, [obj for _s, obj, _a in entries])
        done = list(self._run(session, driver, [entries[i] for i in keep]))
        sleeps = children_sleep(bits, masks, sleep,
                                [(i, child is not None and child is not SAME)
                                 for i, (_o, _s, child, _v) in zip(keep, done)])
        for (obj, _status, child, violations), child_sleep in zip(done, sleeps):
            yield obj, child, violations, child_sleep

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
            self._template = Session(self.rules, check_invariants=False)
        session = self._template.clone()
        session.kernel.state = kstate
        session.kernel.step_count = step_count
        session.contract = contract
        session.index = index
        return session, driver

