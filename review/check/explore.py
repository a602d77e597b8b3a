"""The check's quick exhaustive pass: every short trace over the operations that reach
the patch's decision points, with the pre-image rules run beside the post-image ones.

Random search finds the deep bugs; a dropped check at fork or a skipped unshare
shows in four or five steps, and for those a breadth-first pass over a small alphabet
is faster than hypothesis and deterministic: the shortest trace, every time. It runs
on review/verify's engine (`explore` over `SpecModel`), with one twist of ours: the
model carries the pre-image session beside the post-image one and applies each step
to both, so that
  - "introduced": a violation counts only when the pre-image rules do not show the
    same clause at the same step (a clause the patch did not break is not its fault,
    and would otherwise hide the one it did break), unless one of the patch's own
    cases (review/check/overlay.py owned_cases) decided a step of the trace so far:
    then the patch's rule still breaks a case it decides, whatever the pre-image did;
  - "differential": a violation is a step whose result (status or value) differs
    between pre- and post-image rules.
Findings come back as review.findings.Finding, like the fuzzer's.
"""
from __future__ import annotations

import time

from spec.clauses import Violation
from spec.decisions import RuleSet
from spec.errors import StepError, TraceError
from spec.run import Session
from spec.trace import parse_trace

from review.findings import Finding
from review.verify.model import DEFAULT_PIN_KINDS, Bounds, SpecModel, driver_after
from review.verify.search import explore
from review.verify.por import children_sleep, footprint_masks

# Operations that reach each decision point or primitive (spec/ops): the alphabet of
# the pass is the union over what the patch touches, plus what observes the result.
OBSERVE = ("read", "write", "fork", "pin", "unpin", "dma_read", "dma_write")
REACHES = {
    "fork.anon_pte": ("get", "put"),
    "wp.reuse": ("get", "put", "swapout", "swapin"),
    "gup.unshare": ("get", "put"),
    "gup.cow_break": ("get", "put"),
    "rmap.try_share": ("swapout", "swapin", "migrate", "ksm_merge"),
    "swap.entry_exclusive": ("swapout", "swapin"),
    "swap.in_exclusive": ("swapout", "swapin"),
    "migrate.entry": ("migrate",),
    "thp.split": ("split_pmd", "split_folio"),
    "mprotect.writable": ("mprotect",),
    "pinned.maybe": ("get", "put"),
    # primitives (assertion rules)
    "set_anon_exclusive": ("swapout", "swapin"),
    "clear_anon_exclusive": ("swapout", "swapin", "ksm_merge"),
    "try_dup_anon_rmap": (),
    "try_share_anon_rmap": ("swapout", "migrate", "ksm_merge"),
    "add_anon_rmap": ("swapout", "swapin", "migrate"),
    "add_new_anon_rmap": (),
    "remove_rmap": ("munmap",),
    "move_anon_rmap": (),
    "pin_page": (),
    "unpin_page": (),
    "free_folio": ("munmap", "exit"),
}
THP_POINTS = frozenset({"thp.split"})
# The later vocabulary's points: the operations that reach them, and what the pass
# starts from instead of an anonymous page (a hugetlb mapping, a R/O private file
# mapping) or the pin flavours it adds (GUP-fast).
REACHES.update({
    "gup.fast": ("get", "put"),
    "gup.follow_write": ("poke",),
    "wp.pagecache": ("poke",),
    "hugetlb.reuse": ("get", "put"),
    "hugetlb.fork": ("get", "put"),
    "swap.unuse": ("swapout", "swapoff", "clear_softdirty", "softdirty"),
    "mremap.soft_dirty": ("mremap", "clear_softdirty", "softdirty"),
})
_HUGETLB = ({"op": "mmap", "mm": 0, "vpn": 0, "npages": 4, "hugetlb": True},)
_RO_FILE = ({"op": "mmap", "mm": 0, "vpn": 0, "npages": 1, "backing": "file", "prot": "r"},)
START = {"hugetlb.fork": _HUGETLB, "hugetlb.reuse": _HUGETLB, "gup.follow_write": _RO_FILE,
         "wp.pagecache": _RO_FILE}
# GUP-fast pins for gup.fast itself, and for the slow path's R/O decisions that the
# gup-fast-as-slow invariant asks whether GUP-fast agreed with (spec/ops/gup.py
# _slow_would_take): a patch that changes gup_must_unshare or should_force_cow_break
# without GUP-fast breaks it in three steps.
PIN_KINDS_OF = {"gup.fast": ("ro-fast", "ro-longterm-fast", "rw-longterm-fast"),
                "gup.unshare": ("ro-fast", "ro-longterm-fast"),
                "gup.cow_break": ("ro-fast",)}


def later_bounds(points: list[str]) -> dict:
    """Bounds arguments the later points want: a start trace (the first point's that
    has one) and extra pin flavours."""
    out: dict = {}
    for p in points:
        if p in START and "start" not in out:
            out["start"] = START[p]
        if p in PIN_KINDS_OF:
            kinds = out.get("pin_kinds", DEFAULT_PIN_KINDS)
            out["pin_kinds"] = kinds + tuple(k for k in PIN_KINDS_OF[p] if k not in kinds)
    return out


def alphabet(points: list[str]) -> tuple[str, ...]:
    ops = list(OBSERVE)
    for p in points:
        for op in REACHES.get(p, ()):
            if op not in ops:
                ops.append(op)
    return tuple(ops)


class JointModel:
    """Post- and pre-image sessions side by side, as one state of the search, with one
    bit: did one of the patch's own cases decide a step so far (`watch`:
    review/check/overlay.py OwnedWatch, whose rules are the post-image's)."""

    def __init__(self, post: RuleSet, pre: RuleSet, bounds: Bounds, mode: str, watch=None):
        self.watch = watch
        self.post = SpecModel(watch.rules if watch is not None else post, bounds)
        self.pre = SpecModel(pre, bounds)
        self.mode = mode  # "introduced" | "differential"

    def initial(self):
        root, setup, bad = self.post.initial()
        proot, _, _ = self.pre.initial()
        if root is None or proot is None:
            return None, setup, bad if self.mode == "introduced" else []
        return (root, proot[0], False), setup, []

    def _step_owned(self, session, step) -> tuple:
        """session.step(step), and whether one of the patch's own cases decided in it."""
        if self.watch is None:
            return session.step(step), False
        self.watch.reset()
        out = session.step(step)
        return out, self.watch.hit()

    def _excused(self, violations, pre_violations, owned: bool) -> list:
        if owned:
            return list(violations)
        seen = {v.id for v in pre_violations}
        return [v for v in violations if v.id not in seen]

    def successors(self, state, sleep: int = 0):
        """(step as JSON, child or None, violations) for every step of the alphabet but
        those in the sleep set `sleep` (a bit set: SpecModel.bits)."""
        (session, driver), pre_session, owned = state
        entries = self.post.alphabet(driver)
        if sleep:
            entries = [e for e, b in zip(entries, self.post.bits(driver)) if not b & sleep]
        for step, obj, driver_ok in entries:
            child = session.clone()
            try:
                (result, violations), hit = self._step_owned(child, step)
            except (StepError, TraceError):
                yield obj, None, ()
                continue
            pre_child = pre_session.clone()
            try:
                pre_result, pre_violations = pre_child.step(step)
            except (StepError, TraceError):
                pre_result, pre_violations = None, []
            nxt = ((child, driver_after(obj, result.status, driver, driver_ok)), pre_child, owned or hit)
            if self.mode == "introduced":
                yield obj, nxt, self._excused(violations, pre_violations, owned or hit)
            else:
                yield obj, nxt, _differs(obj, child.index - 1, pre_result, result)

    def reduced_successors(self, state, sleep, children_expanded: bool):
        """successors() under a sleep set, for review.verify.search.explore (see
        SpecModel.reduced_successors). Footprints are the union of the step's footprints
        in the post- and the pre-image session: two steps are independent only if they
        are in both rule sets' models."""
        if not children_expanded:
            for obj, child, violations in self.successors(state, sleep):
                yield obj, child, violations, None
            return
        (session, driver), pre_session, _ = state
        objs = [obj for _s, obj, _a in self.post.alphabet(driver)]
        masks = footprint_masks(self.post.footprints, session, objs, pre_session)
        bits = self.post.bits(driver)
        keep = [i for i, b in enumerate(bits) if not b & sleep]
        done = list(self.successors(state, sleep))
        # a joint child is never its parent's state object: compare keys to find
        # the steps that changed nothing in either session
        here = self.key(state)
        changed = [child is not None and self.key(child) != here for _o, child, _v in done]
        sleeps = children_sleep(bits, masks, sleep, list(zip(keep, changed)))
        for (obj, child, violations), child_sleep in zip(done, sleeps):
            yield obj, child, violations, child_sleep

    def state_violations(self, state):
        if self.mode != "introduced":
            return []
        post_state, pre_session, owned = state
        found = self.post.state_violations(post_state)
        if not found:
            return []
        return self._excused(found, self.pre.state_violations((pre_session, post_state[1])), owned)

    def key(self, state):
        post_state, pre_session, owned = state
        return (self.post.key(post_state), self.pre.keyer.key(pre_session, post_state[1]), owned)


def _text(r) -> str:
    if r is None:
        return "cannot apply"
    return r.status if r.status != "ok" else (f"{r.value}" if r.value is not None else "ok")


def _differs(obj: dict, index: int, pre, post) -> list[Violation]:
    if pre is not None and pre.status == post.status and pre.value == post.value:
        return []
    op = " ".join([obj["op"]] + [f"{k}={v}" for k, v in obj.items() if k != "op"])
    return [Violation("observable-difference", index,
                      f"{op}: pre-image {_text(pre)}, post-image {_text(post)}")]


def _result_json(r) -> dict:
    if r is None:
        return {"status": "cannot apply"}
    out = {"status": r.status}
    if r.value is not None:
        out["value"] = r.value
    return out


def _bounds(points: list[str], depth: int, deadline: float | None, max_states: int,
            full_alphabet: bool = False) -> Bounds:
    ops = Bounds(depth=0).ops if full_alphabet else alphabet(points)
    return Bounds(depth=depth, ops=ops, thp=bool(THP_POINTS & set(points)),
                  max_states=max_states if deadline is not None else 2_000_000,
                  **later_bounds(points))


def quick(post: RuleSet, pre: RuleSet, points: list[str], *, depth: int, clauses,
          mode: str, deadline: float | None, max_findings: int = 3,
          full_alphabet: bool = False, max_states: int = 200_000,
          watch=None) -> tuple[list[Finding], str]:
    """Shortest traces, one per clause, up to `max_findings`, until `deadline` (None:
    no time limit, the definite verdict of --exhaustive). `watch` (OwnedWatch) marks the
    traces the patch's own cases decide, whose violations the pre-image cannot excuse.
    Returns (findings, one line on what was explored)."""
    bounds = _bounds(points, depth, deadline, max_states, full_alphabet)
    stop = None if deadline is None else (lambda: time.monotonic() >= deadline)
    wanted = set(clauses)
    found: list[Finding] = []
    parts: list[str] = []
    while wanted and len(found) < max_findings:
        model = JointModel(post, pre, bounds, mode, watch)
        res = explore(model, post.name, bounds, clauses=wanted, should_stop=stop)
        parts.append(res.summary() if not found else f"then, for the other clauses: {res.summary()}")
        if res.status != "violation" or not res.trace:
            break
        v = res.violations[0]
        trace = {"ruleset": post.name, "steps": res.trace}
        if mode == "differential":
            diff = {"step": v.step, "op": v.message.split(":")[0]}
            diff.update(_pre_post(post, pre, res.trace))
            found.append(Finding("observable-difference", v.message, trace, v.step,
                                 (pre.name, post.name), mode="differential", difference=diff))
            break  # one shortest difference tells the story
        found.append(Finding(v.id, v.message, trace, v.step, (post.name,)))
        wanted.discard(v.id)
    summary = f"{'; '.join(parts)}, {len(bounds.ops)} operations ({', '.join(bounds.ops)})"
    return found, summary


def _pre_post(post: RuleSet, pre: RuleSet, steps: list[dict]) -> dict:
    """The results of the last step under both rule sets, for the report."""
    out = {}
    for name, rules in (("reference", pre), ("patched", post)):
        s = Session(rules)
        r = None
        for st in parse_trace({"steps": steps}).steps:
            try:
                r, _ = s.step(st)
            except (StepError, TraceError):
                r = None
        out[name] = _result_json(r)
    return out


def quick_groups(post: RuleSet, pre: RuleSet, points: list[str], *, depth: int,
                 groups: dict[str, tuple[str, ...]], deadline: float | None, max_states: int,
                 watch=None) -> tuple[list[Finding], dict[str, str], str]:
    """One "introduced" pass for several groups of clauses (the contract's, the
    invariants'): the shortest trace of each clause, from one breadth-first search
    that goes on past violations, so that the states are expanded once, not once per
    group. Each group's first finding is the shortest trace a separate pass with
    `quick` would give it; the group's other clauses follow, each at its shortest (a
    clause that breaks first does not hide another: an era's gap that stalls GUP in two
    steps does not hide a stale pin in three). Returns (at most one finding per clause,
    each group's verdict, the alphabet's description)."""
    bounds = _bounds(points, depth, deadline, max_states)
    stop = None if deadline is None else (lambda: time.monotonic() >= deadline)
    wanted = frozenset(c for clauses in groups.values() for c in clauses)
    res = explore(JointModel(post, pre, bounds, "introduced", watch), post.name, bounds,
                  clauses=wanted, all_clauses=True, should_stop=stop)
    # with all_clauses, a search that reached its depth bound (or ran out of states)
    # says "violation" when it found something, "verified"/"exhausted" when not
    complete = res.status in ("verified", "exhausted", "violation")
    found: list[Finding] = []
    verdicts: dict[str, str] = {}
    for name, clauses in groups.items():
        # findings come in the order the search met them: shortest first
        hits = [f for f in res.findings if f.id in clauses]
        for f in hits:
            trace = {"ruleset": post.name, "steps": f.trace["steps"]}
            found.append(Finding(f.id, f.message, trace, f.step, (post.name,)))
        if hits:
            first, more = hits[0], hits[1:]
            verdicts[name] = (f"violation of {first.id} by a shortest trace of {first.length} "
                              f"steps" + "".join(f", of {f.id} by one of {f.length}" for f in more))
        elif res.status == "exhausted" or not complete:
            verdicts[name] = res.summary().split(" (", 1)[0]
        else:
            verdicts[name] = f"verified up to depth {depth}"
    return found, verdicts, f"{len(bounds.ops)} operations ({', '.join(bounds.ops)})"
