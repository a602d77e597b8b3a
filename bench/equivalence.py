"""Is a mutant of a decision point observably the same as the original, within bounds?
And, for a mutant the fuzzer let live, is there a short trace that kills it? For
bench/mutants.py. Not a benchmark itself.

Breadth-first over every trace up to a depth, the original rule set and the mutant run
side by side (review/check/explore.py's differential JointModel): a step whose result
differs between them is an observable difference, and the shortest trace showing one
proves the mutant different. No difference up to the depth: equivalent within it. The
state budget hit first: undecided. The same exploration in the "introduced" mode (a
clause the mutant breaks at a step where the original does not) gives the shortest
trace that kills a mutant, if one exists within a depth.

One exploration per start, each over the point's alphabet (review/check/explore.py
alphabet: the operations that reach the point and those that observe it) plus the
operations that make the context fields the point's functions read vary (a KSM test
needs ksm_merge, a soft-dirty test clear_softdirty): from small anonymous pages, and
from the mappings those fields need (a THP for large-folio tests, hugetlb, a R/O
private file, a shared file, shmem).
"""
from __future__ import annotations

import ast
import inspect
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from review.check.explore import JointModel, alphabet, later_bounds  # noqa: E402
from review.verify.model import DEFAULT_PIN_KINDS, Bounds  # noqa: E402
from review.verify.search import explore  # noqa: E402
from spec.clauses import CLAUSES  # noqa: E402
from spec.decisions import CONTEXT_FIELDS, RuleSet  # noqa: E402

DIFFERENCE = "observable-difference"
# name -> the steps before the exploration (None: the default setup mmap, "thp": the
# setup mmap of one THP)
STARTS: dict[str, object] = {
    "anon": None,
    "thp": "thp",
    "hugetlb": ({"op": "mmap", "mm": 0, "vpn": 0, "npages": 4, "hugetlb": True},),
    "ro-file": ({"op": "mmap", "mm": 0, "vpn": 0, "npages": 1, "backing": "file",
                 "prot": "r"},),
    "shared-file": ({"op": "mmap", "mm": 0, "vpn": 0, "npages": 1, "backing": "file",
                     "shared": True},),
    "shmem": ({"op": "mmap", "mm": 0, "vpn": 0, "npages": 1, "shared": True},),
    # a KSM page mapped by two processes: mergeable memory, equal contents, one ksmd
    # pass (a merged page is five steps deep, too deep for the bound to reach alone)
    "ksm": ({"op": "mmap", "mm": 0, "vpn": 0, "npages": 1},
            {"op": "madvise", "mm": 0, "vpn": 0, "npages": 1, "advice": "mergeable"},
            {"op": "write", "mm": 0, "vpn": 0, "value": 1},
            {"op": "fork", "mm": 0, "child": 1},
            {"op": "write", "mm": 1, "vpn": 0, "value": 1},
            {"op": "ksm_merge", "mm": 0, "vpn": 0, "mm2": 1, "vpn2": 0}),
}
# context field -> the operations that make it vary
FIELD_OPS = {
    "ksm": ("ksm_merge",), "reason": ("ksm_merge", "migrate", "swapout"),
    "swapcache": ("swapout", "swapin"), "swapcount": ("swapout", "swapin"),
    "from_swapcache": ("swapout", "swapin"), "swp_exclusive": ("swapout", "swapin"),
    "writeback": ("swapout", "writeback"), "pte_write": ("mprotect",),
    "vm_write": ("mprotect",), "pte_dirty": ("mprotect", "poke"),
    "pte_soft_dirty": ("clear_softdirty", "softdirty"),
    "vm_softdirty": ("clear_softdirty", "softdirty"), "writenotify": ("mprotect", "poke"),
}
# context field -> the starts from which it varies
FIELD_STARTS = {
    "large": ("thp",), "pmd_mapped": ("thp",), "thp_mapcount": ("thp",), "head": ("thp",),
    "folio_mapcount": ("thp",), "pincount": ("thp",), "hugetlb": ("hugetlb",),
    "anon": ("ro-file", "shared-file"), "cow_mapping": ("shared-file", "shmem"),
    "writenotify": ("shared-file",), "shmem": ("shmem",), "foll_force": ("ro-file",),
    "ksm": ("ksm",),
}
# the points whose operations reach them from one start only (review/check/explore.py START)
ONLY_FROM = {"hugetlb.fork": "hugetlb", "hugetlb.reuse": "hugetlb",
             "gup.follow_write": "ro-file", "wp.pagecache": "ro-file"}


@dataclass(frozen=True)
class Verdict:
    status: str              # "different" | "equivalent" | "undecided"
    depth: int
    trace: list | None = None   # the shortest difference (setup steps first)
    steps: int = 0              # its length, setup not counted
    start: str = ""             # the start it was found from
    states: int = 0             # distinct states explored over every start


def fields_read(functions) -> set[str]:
    """The context fields (c.<field>) the functions' source reads."""
    out = set()
    for fn in functions:
        for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(fn)))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.attr in CONTEXT_FIELDS:
                out.add(node.attr)
    return out


def starts_for(point: str, fields: set[str]) -> list[str]:
    first = ONLY_FROM.get(point, "anon")
    more = [s for f in sorted(fields) for s in FIELD_STARTS.get(f, ())]
    return list(dict.fromkeys([first] + more))


def bounds_for(point: str, fields: set[str], start: str, depth: int,
               max_states: int) -> Bounds:
    ops = alphabet([point])
    more = [op for f in sorted(fields) for op in FIELD_OPS.get(f, ())]
    ops += tuple(op for op in dict.fromkeys(more) if op not in ops)
    where = STARTS[start]
    kinds = later_bounds([point]).get("pin_kinds", DEFAULT_PIN_KINDS)
    if "foll_force" in fields:
        kinds += ("rw-force",)
    gets = ("get", "get-rw-force") if "foll_force" in fields else ("get",)
    return Bounds(depth=depth, ops=ops, thp=where == "thp", max_states=max_states,
                  start=where if isinstance(where, tuple) else (), pin_kinds=kinds,
                  get_kinds=gets)


def equivalence(mutant: RuleSet, original: RuleSet, point: str, fields: set[str], *,
                depth: int, max_states: int = 100_000) -> Verdict:
    """The shortest observable difference between `mutant` and `original` over the
    starts `fields` (what the point's functions read) asks for, or the verdict that
    none exists within `depth` steps."""
    undecided = False
    states = 0
    for start in starts_for(point, fields):
        bounds = bounds_for(point, fields, start, depth, max_states)
        model = JointModel(mutant, original, bounds, "differential")
        res = explore(model, mutant.name, bounds, clauses={DIFFERENCE})
        states += res.states
        if res.status == "violation" and res.trace:
            return Verdict("different", depth, res.trace,
                           len(res.trace) - len(bounds.setup()), start, states)
        undecided = undecided or not res.complete
    return Verdict("undecided" if undecided else "equivalent", depth, states=states)


def shortest_kill(mutant: RuleSet, original: RuleSet, point: str, fields: set[str], *,
                  depth: int, max_states: int = 300_000) -> tuple[str, list | None, str]:
    """(clause, the shortest trace on which `mutant` breaks it and `original` does not,
    the start) over the starts, or ("", None, why not: none within the depth, or the
    state budget spent)."""
    incomplete = False
    for start in starts_for(point, fields):
        bounds = bounds_for(point, fields, start, depth, max_states)
        model = JointModel(mutant, original, bounds, "introduced")
        res = explore(model, mutant.name, bounds, clauses=set(CLAUSES))
        if res.status == "violation" and res.trace:
            return res.violations[0].id, res.trace, start
        incomplete = incomplete or not res.complete
    return "", None, ("state budget spent" if incomplete else f"none within depth {depth}")
