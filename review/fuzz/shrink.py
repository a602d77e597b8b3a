"""The shrink of a found trace, on the trace itself.

The search (review/fuzz/search.py) runs hypothesis without its shrink phase: shrinking
the choice sequence replayed the whole generator thousands of times per finding and
took most of the time to a first finding, while a simplification that needs two
choices to change at once (a THP mapping that becomes a small page *and* the
MADV_DONTNEED that split it disappears) was out of its reach anyway. This pass works
on the replay steps: it deletes steps one at a time, folds a forked process into its
parent or into another process made before it (the fork goes, the child's later
steps act on that process) and an mremap into the range it moved (the later steps
act on the old addresses), contracts two adjacent steps into one that prepares the
page as they did together (`contract`), simplifies steps (a pin or reference whose
handle nothing uses becomes the access it made, a page moves to a lower address
the trace uses, arguments go), deletes pairs of steps when nothing else helps, and
renames processes, references and values in order of appearance, keeping each
change only if the trace still shows the same (clause, variant). The result is
1-minimal and more: no single step can be removed, no fork or mremap folded, no two
adjacent steps contracted, and (up to MAX_PAIR_LENGTH steps) no pair of steps
removed; unless the MAX_TRIES replays ran out first.

    shrink_steps(steps, reproduces) -> steps

`reproduces(steps)` replays a candidate and returns the (possibly shorter) steps up
to the failure when it still fails the same way, else None.
"""
from __future__ import annotations

from typing import Callable, Sequence

from spec.trace import Step

Check = Callable[[Sequence[Step]], "Sequence[Step] | None"]
MAX_TRIES = 1000  # replays per finding: a trace is at most a few dozen steps
MAX_PAIR_LENGTH = 16  # deleting pairs of steps: at most 120 replays a pass


def shrink_steps(steps: Sequence[Step], reproduces: Check) -> list[Step]:
    best = list(steps)
    tries = 0

    def attempt(candidate: list[Step]) -> bool:
        nonlocal best, tries
        if tries >= MAX_TRIES:
            return False
        tries += 1
        got = reproduces(candidate)
        if got is None or len(got) > len(best):
            return False
        best = list(got)
        return True

    changed = True
    while changed and tries < MAX_TRIES:
        changed = False
        i = len(best) - 1
        while i >= 0:
            if attempt(best[:i] + best[i + 1:]):
                changed = True
            i = min(i, len(best)) - 1
        i = 0
        while i < len(best):
            for folded in _folds(best, i):
                if attempt(folded):
                    changed = True
                    break
            i += 1
        i = 0
        while i < len(best) - 1:
            for one in contract(best, i):
                if attempt(best[:i] + [one] + best[i + 2:]):
                    changed = True
                    break
            i += 1
        for i in range(len(best)):
            for simpler in _simpler(best[i]) + _as_access(best, i) + _lower(best, i):
                if attempt(best[:i] + [simpler] + best[i + 1:]):
                    changed = True
                    break
        if not changed and len(best) <= MAX_PAIR_LENGTH:
            changed = any(attempt(c) for c in _two_changes(best))
    renamed = rename(best)
    if renamed != best and reproduces(renamed) is not None:
        best = renamed
    return best


# Optional arguments of the later vocabulary a step reads as well without: each is
# tried away on its own (mmap's prot, backing and shared; pin's and get's GUP flags).
_DROPPABLE = {"mmap": ("hugetlb", "thp_order", "shared", "backing", "prot"),
              "pin": ("fast", "force"), "get": ("fast", "force", "write")}


def _without(s: Step, key: str) -> Step:
    return Step(s.op, {k: v for k, v in s.args.items() if k != key})


def _simpler(s: Step) -> list[Step]:
    """Arguments a reader would rather see: small mappings, no THP, short-term R/O pins,
    plain anonymous mappings and pins (the later vocabulary's arguments left out)."""
    a = s.args
    out = [_without(s, key) for key in _DROPPABLE.get(s.op, ()) if key in a]
    if s.op == "mmap":
        if a["thp"]:
            out.append(Step("mmap", {k: v for k, v in a.items() if k != "thp_order"}
                            | {"thp": False}))
        elif a["npages"] > 1 and not a.get("hugetlb"):
            out.append(Step("mmap", {**a, "npages": 1}))
    elif s.op in ("munmap", "madvise", "mprotect", "mremap") and a["npages"] > 1:
        out.append(Step(s.op, {**a, "npages": 1}))
    elif s.op == "pin":
        if a["longterm"]:
            out.append(Step("pin", {**a, "longterm": False}))
        if a["write"]:
            out.append(Step("pin", {**a, "write": False}))
    return out


def _fresh_value(steps: Sequence[Step]) -> int:
    """A value no step writes (a store of a fresh value keeps foreign data
    recognisable by its origin; rename() renumbers values in order anyway)."""
    return 1 + max((s.args["value"] for s in steps if "value" in s.args), default=0)


def _as_access(steps: Sequence[Step], i: int) -> list[Step]:
    """A pin or reference whose handle nothing later uses served only to fault the
    page in: the access it made says the same (a replay refuses the candidate if the
    handle is used after all)."""
    s = steps[i]
    if s.op not in ("pin", "get"):
        return []
    where = {"mm": s.args["mm"], "vpn": s.args["vpn"]}
    if s.args.get("write"):
        return [Step("write", where | {"value": _fresh_value(steps)})]
    return [Step("read", where)]


# Ops on one page whose page may move to another the trace uses.
_ONE_PAGE = frozenset({"read", "write", "pin", "get", "swapout", "swapin", "migrate",
                       "split_pmd", "split_folio", "poke", "softdirty", "pte", "pfn",
                       "writeback"})


def _lower(steps: Sequence[Step], i: int) -> list[Step]:
    """Step i on a lower page that another step of the same process touches: traces
    that act on one page read more easily than traces spread over a mapping (a write
    to the middle of a THP that populated the page a reference then took)."""
    s = steps[i]
    if s.op not in _ONE_PAGE:
        return []
    mm, vpn = s.args["mm"], s.args["vpn"]
    used = sorted({t.args["vpn"] for t in steps if t.op in _ONE_PAGE and t.args["mm"] == mm
                   and t.args["vpn"] < vpn})
    return [Step(s.op, {**s.args, "vpn": v}) for v in used]


def _pages(steps: Sequence[Step]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s in steps:
        if "vpn" in s.args and "mm" in s.args and (s.args["mm"], s.args["vpn"]) not in out:
            out.append((s.args["mm"], s.args["vpn"]))
    return out


def contract(steps: Sequence[Step], i: int, j: int | None = None) -> list[Step]:
    """Single steps that may do what steps i and j (default i+1) did together to a
    page they act on: fault it in (a write or a read), write-protect its entry (a
    fork, an mprotect to R/O, clear_softdirty, a swap-out), or share it (a fork). Two
    steps that reach a state one step reaches are a detour the deletions cannot
    remove: each of the two is needed while the other is there (a swap-out and a
    second pin that together left the entry R/O, where clearing the soft-dirty bits
    does it at once). The fork keeps the child id the window forked, if it forked
    one, so later steps of the child still find it."""
    window = [steps[i], steps[i + 1 if j is None else j]]
    children = [s.args["child"] for s in window if s.op == "fork"]
    child = children[0] if children else 1 + max(
        (s.args[k] for s in steps for k in ("mm", "child", "mm2") if k in s.args), default=0)
    out: list[Step] = []
    for mm, vpn in _pages(window):
        out += [Step("write", {"mm": mm, "vpn": vpn, "value": _fresh_value(steps)}),
                Step("read", {"mm": mm, "vpn": vpn}),
                Step("mprotect", {"mm": mm, "vpn": vpn, "npages": 1, "write": False}),
                Step("swapout", {"mm": mm, "vpn": vpn})]
    for mm in dict.fromkeys(s.args["mm"] for s in window if "mm" in s.args):
        out += [Step("fork", {"mm": mm, "child": child}), Step("clear_softdirty", {"mm": mm})]
    return [c for c in out if c not in window]


def fold_fork(steps: Sequence[Step], i: int) -> list[Step]:
    """`steps` without the fork at `i`, the child's later steps done by its parent: a
    bug a grandchild shows often shows in the child, and one a child shows in the
    parent (a pin and a write in one process where the drawn trace forked first)."""
    return merge_process(steps, i, steps[i].args["mm"])


def fold_mremap(steps: Sequence[Step], i: int) -> list[Step]:
    """`steps` without the mremap at `i`, the later steps of its process (and of
    children it forks afterwards, which inherit the layout) on the moved range back on
    the old one."""
    a = steps[i].args
    old, new, n = a["vpn"], a["new_vpn"], a["npages"]
    family = {a["mm"]}
    out = list(steps[:i])
    for s in steps[i + 1:]:
        if s.op == "fork" and s.args["mm"] in family:
            family.add(s.args["child"])
        if s.args.get("mm") in family and "vpn" in s.args and new <= s.args["vpn"] < new + n:
            s = Step(s.op, {**s.args, "vpn": s.args["vpn"] - new + old})
        out.append(s)
    return out


def _two_changes(steps: list[Step]):
    """Candidates that change two things at once, for when no single change helps:
    - a pair of steps deleted (each needed while the other is there: a process's
      write that made it COW away, and the fork that made the process);
    - a fork folded and one more step deleted (a grandchild's part suits the first
      process once that process's own earlier write is gone);
    - two steps one apart contracted into one, at either's place (an mprotect to R/O
      and back around a pin, where a fork after the pin write-protects at once)."""
    n = len(steps)
    for i in range(n):
        for j in range(i + 1, n):
            yield steps[:i] + steps[i + 1:j] + steps[j + 1:]
    for i in range(n):
        for folded in _folds(steps, i):
            for k in range(len(folded)):
                yield folded[:k] + folded[k + 1:]
    for i in range(n - 2):
        j = i + 2
        for one in contract(steps, i, j):
            yield steps[:i] + [one] + steps[i + 1:j] + steps[j + 1:]
            yield steps[:i] + steps[i + 1:j] + [one] + steps[j + 1:]


def merge_process(steps: Sequence[Step], i: int, into: int) -> list[Step]:
    """`steps` without the fork at `i`, its child's later steps done by process
    `into` (fold_fork is the case of the parent)."""
    child = steps[i].args["child"]
    out = list(steps[:i])
    for s in steps[i + 1:]:
        if any(s.args.get(key) == child for key in ("mm", "child", "mm2")):
            s = Step(s.op, {k: (into if k in ("mm", "child", "mm2") and v == child else v)
                            for k, v in s.args.items()})
        out.append(s)
    return out


def _folds(steps: Sequence[Step], i: int) -> list[list[Step]]:
    """Step i folded away: a fork into its parent, then into each other process the
    trace made before it (a grandchild's part often suits the first process); an
    mremap back onto its old range."""
    s = steps[i]
    if s.op == "mremap":
        return [fold_mremap(steps, i)]
    if s.op != "fork":
        return []
    others = dict.fromkeys(t.args[k] for t in steps[:i] for k in ("mm", "child")
                           if k in t.args and t.args[k] not in (s.args["mm"], s.args["child"]))
    return [fold_fork(steps, i)] + [merge_process(steps, i, mm) for mm in others]


def rename(steps: Sequence[Step]) -> list[Step]:
    """Processes 0, 1, 2...; references p0/g1... and values 1, 2, 3... in order of
    first appearance. A bijection, so every equality (and every 'never reused') the
    trace had, it keeps."""
    mms: dict[int, int] = {}
    refs: dict[str, str] = {}
    values: dict[int, int] = {0: 0}

    def mm(x: int) -> int:
        return mms.setdefault(x, len(mms))

    def value(x: int) -> int:
        return values.setdefault(x, len(values))

    out = []
    for s in steps:
        a = dict(s.args)
        for key in ("mm", "child", "mm2"):
            if key in a:
                a[key] = mm(a[key])
        if "id" in a:
            kind = "g" if s.op in ("get", "put") else "p"
            if a["id"] not in refs:
                refs[a["id"]] = f"{kind}{len(refs)}" if s.op in ("pin", "get") else a["id"]
            a["id"] = refs[a["id"]]
        if "value" in a:
            a["value"] = value(a["value"])
        out.append(Step(s.op, a))
    return out
