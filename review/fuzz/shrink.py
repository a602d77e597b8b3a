"""The shrink of a found trace, on the trace itself.

The search (review/fuzz/search.py) runs hypothesis without its shrink phase: shrinking
the choice sequence replayed the whole generator thousands of times per finding and
took most of the time to a first finding, while a simplification that needs two
choices to change at once (a THP mapping that becomes a small page *and* the
MADV_DONTNEED that split it disappears) was out of its reach anyway. This pass works
on the replay steps: it deletes steps one at a time, folds a forked process into its
parent (the fork goes, the child's later steps act on the parent), simplifies
arguments, and renames processes, references and values in order of appearance,
keeping each change only if the trace still shows the same (clause, variant). The
result is 1-minimal: no single step can be removed, no fork folded.

    shrink_steps(steps, reproduces) -> steps

`reproduces(steps)` replays a candidate and returns the (possibly shorter) steps up
to the failure when it still fails the same way, else None.
"""
from __future__ import annotations

from typing import Callable, Sequence

from spec.trace import Step

Check = Callable[[Sequence[Step]], "Sequence[Step] | None"]
MAX_TRIES = 1000  # replays per finding: a trace is at most a few dozen steps


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
            if best[i].op == "fork" and attempt(fold_fork(best, i)):
                changed = True
            i += 1
        for i in range(len(best)):
            for simpler in _simpler(best[i]):
                if attempt(best[:i] + [simpler] + best[i + 1:]):
                    changed = True
                    break
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


def fold_fork(steps: Sequence[Step], i: int) -> list[Step]:
    """`steps` without the fork at `i`, the child's later steps done by its parent: a
    bug a grandchild shows often shows in the child, and one a child shows in the
    parent (a pin and a write in one process where the drawn trace forked first)."""
    parent, child = steps[i].args["mm"], steps[i].args["child"]
    out = list(steps[:i])
    for s in steps[i + 1:]:
        a = s.args
        if any(a.get(key) == child for key in ("mm", "child", "mm2")):
            a = {k: (parent if k in ("mm", "child", "mm2") and v == child else v)
                 for k, v in a.items()}
            s = Step(s.op, a)
        out.append(s)
    return out


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
