"""Drawing traces for the fuzzer (review/fuzz/search.py): what one hypothesis example is made of.

    choices = Choices(seed)            a trace's choices, from a seed (draw_seed: hypothesis draws it)
    world = World()
    menu = draw_menu(choices, world)   swarm testing: the op kinds this example may use
    first_mmap(choices, world)         every trace starts by mapping something in mm 0
    draw_step(choices, kind, contract, world) -> Step | [Step, Step] | None

Two vocabularies: the first (KINDS: anonymous memory, fork, pins and FOLL_GET
references, GUP-fast and FOLL_FORCE among them, swap, migration, KSM, THP, madvise)
and the later one (LATER_KINDS: file, shmem and hugetlb mappings, protections, mTHP,
/proc/pid/mem pokes, soft-dirty, mremap, swapoff, writeback, the pte/pfn queries).
One flag per example (P_LATER) turns the later one on; off, an example draws only the
first vocabulary's ops and mappings, so its bugs are still found quickly. On, the
trace starts with one of the later vocabulary's mappings (`first_mmap`).

Kinds and arguments are drawn from the contract's view of the current state (live
processes, their mapped pages, live pins and references), so almost every step is
meaningful: `enabled` keeps the menu's kinds the state gives something to act on
(swapoff only once something may be in swap) and weights up what the state makes
interesting (forks and writes while pins or references exist; pins and forks while
a file, shared or hugetlb mapping exists; writes and the kinds that rewrite entries
while a process tracks soft-dirty bits); a page is drawn among the mapped ones with
the hot ones (`hot_pages`: held, mapped by more than one process, or written since
clear_softdirty) counted twice, held and shared ones three times; swap-out kinds
draw among the pages reclaim can swap (`_swappable`), and an mprotect to R/W alone
only where the page is not writable;
`World` hands out fresh process ids, reference ids and write values (1, 2, 3, ...);
a store mostly writes a fresh value (so foreign data is recognisable by its origin),
else one a mapped page holds now (`_value`), so that pages end up with equal contents
and KSM has something to merge: a KSM merge pairs such pages (`_twins`), in half the
draws just after advising both mergeable. hypothesis chooses each example's seed
and keeps the seeds of failing examples in its database; the search shrinks the
trace itself (review/fuzz/shrink.py), not the choices.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from spec.contract import Contract
from spec.state import HPAGE_NR
from spec.trace import Step

SEED_MAX = (1 << 64) - 1   # an example's seed (Choices)
MAX_PROCS = 4          # processes ever created in one trace (mm ids 0..3)
NPAGES = 8             # vpns 0..7: two THP blocks
MAX_STEPS = 30         # drawn steps per trace (probes come on top)
P_CONTINUE = 0.94      # ~16 drawn steps on average

# Swarm kinds: an op, or a group of madvise advices that belong together.
KINDS = ("fork", "get", "exit", "dma_read", "read", "pin", "munmap", "dontneed", "put",
         "unpin", "dma_write", "mprotect", "swapout", "swapin", "migrate", "ksm_merge",
         "split_pmd", "split_folio", "mmap", "forkadvice", "pageout", "ksmadvice", "thpadvice")
# The later vocabulary's swarm kinds, on in examples that draw the P_LATER flag.
LATER_KINDS = ("mmapfile", "hugetlb", "mthp", "prot", "poke", "clearsd", "mremap", "swapoff",
               "writeback", "query")
P_LATER = 0.5
P_REUSE = 0.2          # a store reuses a value some page holds (else a fresh one)
P_TWIN = 0.75          # a KSM merge pairs pages of equal contents when there are any
P_ADVISED = 0.5        # ... after MADV_MERGEABLE on both
ALWAYS = ("write",)
# Extra weight: how many times a kind appears in the menu an example draws from.
WEIGHT = {"write": 4, "fork": 2, "pin": 2, "get": 2, "clearsd": 3, "prot": 2}
# A kind that never succeeds without another: ksmd merges only in VM_MERGEABLE areas.
NEEDS = {"ksm_merge": "ksmadvice"}
# Kinds that act on a pin or reference, and kinds that act on a mapped page.
_NEEDS_REF = frozenset({"unpin", "put", "dma_read", "dma_write"})
_NEEDS_PAGE = frozenset({"get", "read", "pin", "munmap", "dontneed", "write", "mprotect",
                         "swapout", "swapin", "migrate", "ksm_merge", "split_pmd",
                         "split_folio", "forkadvice", "pageout", "ksmadvice", "thpadvice",
                         "prot", "poke", "mremap", "writeback", "query"})
# Kinds that rewrite a page's entries, leaving its data as it was.
_REWRITES_ENTRIES = ("prot", "mprotect", "mremap", "swapout", "pageout", "swapoff", "migrate",
                     "split_pmd", "split_folio", "writeback")
# Kinds that leave pages in swap (a swap entry or the swap cache): what swapoff brings back.
_SWAPS = frozenset({"swapout", "pageout", "writeback"})
ADVICE_OF = {"dontneed": ("dontneed",), "forkadvice": ("dontfork", "dofork", "wipeonfork"),
             "pageout": ("pageout",), "ksmadvice": ("mergeable", "unmergeable"),
             "thpadvice": ("hugepage", "nohugepage", "collapse")}


@dataclass
class World:
    """What the generator needs to know to draw meaningful arguments."""
    next_mm: int = 1
    next_ref: int = 0
    next_value: int = 1
    later: bool = False   # the later vocabulary is on: pin/get flags, device writes via FOLL_GET
    swapped: bool = False  # a kind that may put pages in swap (_SWAPS) was drawn


def draw_seed(data: Any) -> int:
    """The one choice hypothesis makes for an example: a 64-bit seed
    (ConjectureData.draw_integer, what st.integers draws through; st.data() if a
    future hypothesis moves it)."""
    cd = getattr(data, "conjecture_data", None)
    if cd is not None and hasattr(cd, "draw_integer"):
        return cd.draw_integer(0, SEED_MAX)
    return data.draw(st.integers(0, SEED_MAX))  # pragma: no cover - other hypothesis internals


class Choices:
    """The few kinds of choice a trace needs: indices and flags, from
    random.Random(seed), where hypothesis chose the seed (draw_seed). Drawing each
    choice from hypothesis cost about 19 us of its bookkeeping per choice, some 50 a
    trace: 40% of the fuzzer's time, for structure nothing uses, since the search
    shrinks the trace itself (review/fuzz/shrink.py) and not the choice sequence. The
    seed is what hypothesis stores in its example database, so a stored example
    replays the same trace."""
    __slots__ = ("_int", "_bool")

    def __init__(self, seed: int):
        rng = random.Random(seed)
        self._int = rng.randrange
        self._bool = lambda p: rng.random() < p

    def index(self, n: int) -> int:
        """0..n-1 (0 when there is one choice or none)."""
        return 0 if n <= 1 else self._int(n)

    def flag(self, p: float = 0.5) -> bool:
        return self._bool(p)


def enabled(menu: list[str], c: Contract, w: World) -> list[str]:
    """The entries of `menu` the current state gives something to act on (a kind with
    nothing to act on would draw a choice and no step), weighted toward what the
    state makes interesting: a fork while pins or references exist (the page they
    hold gets shared), writes while pages are held, writes and pins while more
    than one process lives (what COW, page reuse and unsharing must get right),
    pins and forks while a file, shared or hugetlb mapping exists, and writes and
    the kinds that rewrite entries while a process tracks soft-dirty bits. swapoff
    waits until something may be in swap: before, it has nothing to bring back."""
    refs = c.refs
    off: set[str] = set()
    if w.next_mm >= MAX_PROCS:
        off.add("fork")
    if not refs:
        off.update(_NEEDS_REF)
    else:
        kinds = {r.kind for r in refs.values()}
        if "pin" not in kinds:
            off.add("unpin")
            if not w.later:
                off.add("dma_write")
        if "get" not in kinds:
            off.add("put")
        if not any(r.write for r in refs.values()):
            off.add("dma_write")
    if not w.swapped:
        off.add("swapoff")
    if not any(p.mem for p in c.procs.values()):
        off.update(_NEEDS_PAGE)
    out = [k for k in menu if k not in off] if off else list(menu)
    if refs:
        if "fork" in out:
            out.extend(("fork",) * WEIGHT["fork"])
        if "write" in out:
            out.extend(("write",) * WEIGHT["write"])
    if any(p.sd_tracking for p in c.procs.values()):
        # after clear_softdirty: a write is what the soft-dirty bit must record, and
        # what rewrites entries (protections, swap, migration, remapping, splits)
        # must carry the bit over
        for k in _REWRITES_ENTRIES + ("write",):
            if k in out:
                out.extend((k,) * WEIGHT.get(k, 1))
    if any(p.pages for p in c.procs.values()):
        # a file, shared or hugetlb mapping: GUP (what it may pin, and how), fork
        # (copy_page_range skips or copies it per type) and COW take their own paths
        # for it, which private anonymous memory never shows
        for k in ("pin", "fork"):
            if k in out:
                out.extend((k,) * WEIGHT[k])
    if len(c.procs) > 1:
        # after a fork: a write or a pin by either process on what they may share
        for k in ("write", "pin"):
            if k in out:
                out.extend((k,) * WEIGHT[k])
    return out


def hot_pages(c: Contract) -> list[tuple[int, int]]:
    """Mapped pages where bugs live: held by a pin or reference, mapped at the same
    address by more than one process (shared since fork), or written since the
    process cleared its soft-dirty bits (the bit must survive what happens to the
    page). A held page that is also shared comes twice: after a fork every page is
    shared, and the held ones are still where a pin's promise lives."""
    procs = c.procs
    held = {(r.mm, r.vpn) for r in c.refs.values() if r.bound}
    hot = set(held)
    for mm, p in procs.items():
        if p.sd_written:
            hot.update((mm, vpn) for vpn in p.sd_written)
    shared: set[tuple[int, int]] = set()
    if len(procs) > 1:
        seen: dict[int, int] = {}
        for mm, p in procs.items():
            for vpn in p.mem:
                if vpn in seen:
                    shared.add((mm, vpn))
                    shared.add((seen[vpn], vpn))
                else:
                    seen[vpn] = mm
    if not hot and not shared:
        return []
    out = sorted(x for x in hot | shared if x[1] in procs[x[0]].mem)
    return out + sorted(x for x in held & shared if x[1] in procs[x[0]].mem)


def _pick_page(data: Choices, c: Contract, kind: str = "") -> tuple[int, int] | None:
    """A mapped page: any, or (as likely) one of the hot pages (hot_pages). For a kind
    that reclaims to swap, among the pages it can reclaim when there are any
    (`_swappable`)."""
    pages = [(mm, vpn) for mm, p in sorted(c.procs.items()) for vpn in sorted(p.mem)]
    if not pages:
        return None
    hot = hot_pages(c)
    if kind in _SWAPS:
        can = _swappable(c)
        if any(at in can for at in pages):
            pages = [at for at in pages if at in can]
            hot = [at for at in hot if at in can]
    if hot:
        pages = hot + pages
    return pages[data.index(len(pages))]


def _swappable(c: Contract) -> set[tuple[int, int]]:
    """Pages reclaim can put in swap: private anonymous memory that holds a page of
    its own (written, or faulted in for writing). The model keeps page-cache and
    hugetlb folios out of swap, and a never-written page maps the zero page: reclaim
    refuses them, and a step spent on them shows nothing."""
    out = set()
    for mm, p in c.procs.items():
        pages = p.pages
        for vpn in p.written:
            kind = pages.get(vpn) if pages else None
            if kind is None or not (kind[1] or kind[2]):
                out.add((mm, vpn))
    return out


def draw_step(data: Choices, kind: str, c: Contract, w: World) -> Step | list[Step] | None:
    """Draw the arguments of one step of `kind` from the current state; None when the
    kind has nothing to act on now; a list for a kind that draws a few steps (an
    mprotect round trip, a KSM merge of pages just advised mergeable)."""
    alive = sorted(c.procs)
    if kind == "mmap":
        mm = alive[data.index(len(alive))]
        if data.flag():
            vpn = HPAGE_NR * data.index(NPAGES // HPAGE_NR)
            return Step("mmap", {"mm": mm, "vpn": vpn, "npages": HPAGE_NR, "thp": True})
        vpn = data.index(NPAGES)
        npages = 1 + data.index(min(4, NPAGES - vpn))
        return Step("mmap", {"mm": mm, "vpn": vpn, "npages": npages, "thp": False})
    if kind == "fork":
        if w.next_mm >= MAX_PROCS:
            return None
        mm = alive[data.index(len(alive))]
        child = w.next_mm
        w.next_mm += 1
        return Step("fork", {"mm": mm, "child": child})
    if kind == "exit":
        return Step("exit", {"mm": alive[data.index(len(alive))]})
    if kind in _SWAPS:
        w.swapped = True
    if kind in LATER_DRAW:
        return LATER_DRAW[kind](data, c, w, alive)
    if kind in _NEEDS_REF:
        want = "get" if kind == "put" else "pin"
        # a R/W FOLL_GET reference takes device writes too (an O_DIRECT read into the page)
        ids = [i for i, ref in c.refs.items()
               if (kind == "dma_read" or ref.kind == want or (w.later and kind == "dma_write"))
               and (kind != "dma_write" or ref.write)]
        if not ids:
            return None
        id = ids[data.index(len(ids))]
        if kind == "dma_write":
            ref = c.refs[id]
            return Step("dma_write", {"id": id, "value": _value(data, c, w, ref.mm, ref.vpn)})
        return Step(kind, {"id": id})
    # everything else acts on a mapped page
    at = _pick_page(data, c, kind)
    if at is None:
        return None
    mm, vpn = at
    if kind == "write":
        return Step("write", {"mm": mm, "vpn": vpn, "value": _value(data, c, w, mm, vpn)})
    if kind == "pin":
        id = f"p{w.next_ref}"
        w.next_ref += 1
        args = {"mm": mm, "vpn": vpn, "write": data.flag(), "longterm": data.flag(), "id": id}
        _gup_flags(data, args, vpn in c.procs[mm].readonly)
        return Step("pin", args)
    if kind == "get":
        id = f"g{w.next_ref}"
        w.next_ref += 1
        args = {"mm": mm, "vpn": vpn, "id": id}
        if w.later and data.flag(0.3):
            args["write"] = True
        _gup_flags(data, args, vpn in c.procs[mm].readonly)
        return Step("get", args)
    if kind in ("read", "swapout", "swapin", "migrate", "split_pmd", "split_folio"):
        return Step(kind, {"mm": mm, "vpn": vpn})
    if kind == "ksm_merge":
        twins = _twins(c)
        if twins and data.flag(P_TWIN):
            (mm, vpn), (mm2, vpn2) = twins[data.index(len(twins))]
        else:
            mm2, vpn2 = _pick_page(data, c)
        if (mm2, vpn2) == (mm, vpn):
            return None
        merge = Step("ksm_merge", {"mm": mm, "vpn": vpn, "mm2": mm2, "vpn2": vpn2})
        if not data.flag(P_ADVISED):
            return merge
        # ksmd scans only VM_MERGEABLE areas: advise both pages first (the shrink
        # drops an advice a finding does not need)
        return [Step("madvise", {"mm": m, "vpn": v, "npages": 1, "advice": "mergeable"})
                for m, v in ((mm, vpn), (mm2, vpn2))] + [merge]
    # ranges: munmap, mprotect, madvise
    npages = 1 + data.index(min(HPAGE_NR, NPAGES - vpn))
    if kind == "munmap":
        return Step("munmap", {"mm": mm, "vpn": vpn, "npages": npages})
    if kind == "mprotect":
        return Step("mprotect", {"mm": mm, "vpn": vpn, "npages": npages, "write": data.flag()})
    advices = ADVICE_OF[kind]
    advice = advices[data.index(len(advices))]
    return Step("madvise", {"mm": mm, "vpn": vpn, "npages": npages, "advice": advice})


def _value(data: Choices, c: Contract, w: World, mm: int, vpn: int) -> int:
    """A value to store at (mm, vpn): mostly a fresh one (so what a reference or
    another process sees is recognisable by its origin), else (P_REUSE) the value
    the page holds now or one another page holds, so that pages end up with equal
    contents (what KSM merges) and a store may leave a page as it was. Not a value a
    live reference has seen: what it shows must stay attributable."""
    if data.flag(P_REUSE):
        seen = {v for r in c.refs.values() for v in (*r.held, *r.device)}
        own = c.logical(mm, vpn)
        held = sorted({v for p in c.procs.values() for v in p.mem.values()
                       if v and v not in seen} | ({own} if own else set()))
        if held:
            return held[data.index(len(held))]
    value = w.next_value
    w.next_value += 1
    return value


def _twins(c: Contract) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Pairs of mapped pages that hold the same written value: what ksmd would merge
    (memcmp_pages); pages never written map the zero page, which it does not."""
    by_value: dict[int, list[tuple[int, int]]] = {}
    for mm, p in sorted(c.procs.items()):
        for vpn in sorted(p.mem):
            if p.mem[vpn]:
                by_value.setdefault(p.mem[vpn], []).append((mm, vpn))
    return [(a, b) for pages in by_value.values() for a in pages for b in pages if a != b]


def _gup_flags(data: Choices, args: dict, readonly: bool) -> None:
    """GUP-fast and FOLL_FORCE, in the step only when set (as a hand-written trace
    would), in every example: GUP-fast as often as the slow path (it decides apart
    whether it may pin, and falls back to the slow path when it may not), FOLL_FORCE
    as often as not where the mapping is read-only (where it changes what GUP may do)."""
    if data.flag(0.5):
        args["fast"] = True
    if data.flag(0.5 if readonly else 0.2):
        args["force"] = True


def _mmap_file(data: Choices, c: Contract, w: World, alive: list) -> Step:
    """A file, shmem or MAP_SHARED|MAP_ANONYMOUS mapping, R/W or R/O."""
    mm = alive[data.index(len(alive))]
    vpn = data.index(NPAGES)
    npages = 1 + data.index(min(2, NPAGES - vpn))
    backing = ("file", "shmem", "anon")[data.index(3)]
    args = {"mm": mm, "vpn": vpn, "npages": npages, "thp": False}
    if data.flag():
        # as often R/O as not: a R/O file mapping is where FOLL_FORCE and
        # /proc/pid/mem pokes take their own paths
        args["prot"] = "r"
    if backing != "anon":
        args["backing"] = backing
    if backing == "anon" or data.flag():
        args["shared"] = True
    return Step("mmap", args)


def _mmap_huge(data: Choices, c: Contract, w: World, alive: list, kind: str) -> Step:
    """A hugetlb mapping (private or shared), or a THP mapping of order-1 mTHPs."""
    mm = alive[data.index(len(alive))]
    vpn = HPAGE_NR * data.index(NPAGES // HPAGE_NR)
    if kind == "mthp":
        return Step("mmap", {"mm": mm, "vpn": vpn, "npages": HPAGE_NR, "thp": True,
                             "thp_order": 1})
    args = {"mm": mm, "vpn": vpn, "npages": HPAGE_NR, "thp": False, "hugetlb": True}
    if data.flag():
        args["shared"] = True
    return Step("mmap", args)


def _on_page(data: Choices, c: Contract, w: World, alive: list,
             kind: str) -> Step | list[Step] | None:
    at = _pick_page(data, c, kind)
    if at is None:
        return None
    mm, vpn = at
    if kind == "poke":
        return Step("poke", {"mm": mm, "vpn": vpn, "value": _value(data, c, w, mm, vpn)})
    if kind == "writeback":
        return Step("writeback", {"mm": mm, "vpn": vpn})
    if kind == "query":
        return Step(("softdirty", "pte", "pfn")[data.index(3)], {"mm": mm, "vpn": vpn})
    npages = 1 + data.index(min(HPAGE_NR, NPAGES - vpn))
    if kind == "prot":
        # mostly a round trip, R/O (or PROT_NONE) and back to R/W: what the upgrade
        # paths of mprotect (change_pte_range) see. R/W alone only where the page is
        # not writable now: elsewhere it would change nothing.
        if vpn in c.procs[mm].readonly:
            prot = ("r", "none", "rw")[data.index(3)]
        else:
            prot = ("r", "none")[data.index(2)]
        first = Step("mprotect", {"mm": mm, "vpn": vpn, "npages": npages, "prot": prot})
        if prot == "rw" or not data.flag(0.75):
            return first
        return [first, Step("mprotect", {"mm": mm, "vpn": vpn, "npages": npages, "prot": "rw"})]
    # mremap: to a range that does not overlap the source
    new_vpn = data.index(NPAGES - npages + 1)
    if not (vpn + npages <= new_vpn or new_vpn + npages <= vpn):
        return None
    return Step("mremap", {"mm": mm, "vpn": vpn, "npages": npages, "new_vpn": new_vpn})


LATER_DRAW = {
    "mmapfile": _mmap_file,
    "hugetlb": lambda d, c, w, alive: _mmap_huge(d, c, w, alive, "hugetlb"),
    "mthp": lambda d, c, w, alive: _mmap_huge(d, c, w, alive, "mthp"),
    "clearsd": lambda d, c, w, alive: Step("clear_softdirty", {"mm": alive[d.index(len(alive))]}),
    "swapoff": lambda d, c, w, alive: Step("swapoff", {}),
    **{k: (lambda d, c, w, alive, k=k: _on_page(d, c, w, alive, k))
       for k in ("poke", "writeback", "query", "prot", "mremap")},
}


def draw_menu(data: Choices, w: World | None = None) -> list[str]:
    """Swarm testing (Groce et al., ISSTA 2012): the bits set in both of two random
    masks disable kinds (each kind off with probability 1/4), so that rare
    interleavings of the others get room; shrinks to 0, nothing disabled. A kind
    appears WEIGHT times in the menu. The P_LATER flag (shrinks to off) turns the
    later vocabulary on (and sets `w.later`)."""
    mask = data.index(1 << len(KINDS)) & data.index(1 << len(KINDS))
    menu: list[str] = []
    for k in ALWAYS:
        menu.extend([k] * WEIGHT.get(k, 1))
    if w is None or not data.flag(P_LATER):
        _add_kinds(menu, KINDS, mask)
        return menu
    # The later vocabulary: its kinds off with probability 1/4, the first vocabulary's
    # with probability 1/2 (one mask): the later bugs need a few kinds of each, in a
    # short trace (5/8 left the pins and forks a hugetlb bug needs on together in one
    # example in seven).
    w.later = True
    _add_kinds(menu, KINDS, data.index(1 << len(KINDS)))
    mask = data.index(1 << len(LATER_KINDS)) & data.index(1 << len(LATER_KINDS))
    _add_kinds(menu, LATER_KINDS, mask)
    return menu


def _add_kinds(menu: list[str], kinds: tuple[str, ...], mask: int) -> None:
    """The kinds whose bit is clear, each WEIGHT times, and what each of them needs
    (NEEDS) even if its own bit is set."""
    on = [k for bit, k in enumerate(kinds) if not mask >> bit & 1]
    on += [NEEDS[k] for k in on if k in NEEDS and NEEDS[k] not in on]
    for k in on:
        menu.extend([k] * WEIGHT.get(k, 1))


def first_mmap(data: Choices, w: World | None = None) -> Step:
    """Every trace starts by mapping something at vpn 0 of process 0: a THP, or one or
    two small pages (later mmaps go anywhere in the NPAGES pages); with the later
    vocabulary on, a file, shmem, shared, hugetlb or mTHP mapping (what the later
    example is about: its steps act on that mapping from the start; the plain and THP
    mappings are what the first vocabulary's examples start with, and its mmap kind
    still draws them)."""
    if w is not None and w.later:
        kind = ("mmapfile", "mmapfile", "hugetlb", "mthp")[data.index(4)]
        first = LATER_DRAW[kind](data, None, w, [0])
        return Step("mmap", {**first.args, "vpn": 0})
    thp = data.flag(0.3)
    npages = 1 + data.index(2)
    return Step("mmap", {"mm": 0, "vpn": 0, "npages": HPAGE_NR if thp else npages, "thp": thp})
