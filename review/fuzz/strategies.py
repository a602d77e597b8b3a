"""Drawing traces for the fuzzer (review/fuzz/search.py): what one hypothesis example is made of.

    choices = Choices(data)            hypothesis's choice sequence, as indices and flags
    menu = draw_menu(choices)          swarm testing: the op kinds this example may use
    first_mmap(choices)                every trace starts by mapping something in mm 0
    draw_step(choices, kind, contract, world) -> Step | None

Arguments are drawn from the contract's view of the current state (live processes,
their mapped pages, live pins and references), so almost every step is meaningful;
`World` hands out fresh process ids, reference ids and write values (1, 2, 3, ...:
every write is distinct, so foreign data is recognisable, and values need no
shrinking). Everything shrinks toward index 0 / False: fewer kinds disabled, earlier
kinds in KINDS, the first process and page, shorter traces.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from spec.contract import Contract
from spec.state import HPAGE_NR
from spec.trace import Step

MAX_PROCS = 4          # processes ever created in one trace (mm ids 0..3)
NPAGES = 8             # vpns 0..7: two THP blocks
MAX_STEPS = 20         # drawn steps per trace (probes come on top)
P_CONTINUE = 0.92      # ~12 drawn steps on average; shrinking stops traces early

# Swarm kinds: an op, or a group of madvise advices that belong together.
KINDS = ("fork", "get", "exit", "dma_read", "read", "pin", "munmap", "dontneed", "put",
         "unpin", "dma_write", "mprotect", "swapout", "swapin", "migrate", "ksm_merge",
         "split_pmd", "split_folio", "mmap", "forkadvice", "pageout", "ksmadvice", "thpadvice")
ALWAYS = ("write",)
# Extra weight: how many times a kind appears in the menu an example draws from.
WEIGHT = {"write": 4, "fork": 2, "pin": 2, "get": 2}
ADVICE_OF = {"dontneed": ("dontneed",), "forkadvice": ("dontfork", "dofork", "wipeonfork"),
             "pageout": ("pageout",), "ksmadvice": ("mergeable", "unmergeable"),
             "thpadvice": ("hugepage", "nohugepage", "collapse")}


@dataclass
class World:
    """What the generator needs to know to draw meaningful arguments."""
    next_mm: int = 1
    next_ref: int = 0
    next_value: int = 1


class Choices:
    """The few kinds of choice a trace needs, drawn straight from hypothesis's choice
    sequence (ConjectureData.draw_integer/draw_boolean: what st.integers and
    st.booleans draw through, without the per-draw bookkeeping of st.data(), which
    dominated the fuzzer's time). Falls back to st.data() draws if a future hypothesis
    moves them. Both shrink toward 0 / False."""
    __slots__ = ("_int", "_bool")

    def __init__(self, data: Any):
        cd = getattr(data, "conjecture_data", None)
        if cd is not None and hasattr(cd, "draw_integer") and hasattr(cd, "draw_boolean"):
            self._int = lambda n: cd.draw_integer(0, n - 1)
            self._bool = cd.draw_boolean
        else:  # pragma: no cover - older/newer hypothesis internals
            self._int = lambda n: data.draw(st.integers(0, n - 1))
            self._bool = lambda p: data.draw(st.integers(0, 999)) < p * 1000

    def index(self, n: int) -> int:
        """0..n-1 (0 when there is one choice or none)."""
        return 0 if n <= 1 else self._int(n)

    def flag(self, p: float = 0.5) -> bool:
        return self._bool(p)


def draw_step(data: Choices, kind: str, c: Contract, w: World) -> Step | None:
    """Draw the arguments of one step of `kind` from the current state; None when the
    kind has nothing to act on now."""
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
    if kind in ("unpin", "put", "dma_read", "dma_write"):
        want = "get" if kind == "put" else "pin"
        ids = [i for i, ref in c.refs.items()
               if (kind == "dma_read" or ref.kind == want) and (kind != "dma_write" or ref.write)]
        if not ids:
            return None
        id = ids[data.index(len(ids))]
        if kind == "dma_write":
            value = w.next_value
            w.next_value += 1
            return Step("dma_write", {"id": id, "value": value})
        return Step(kind, {"id": id})
    # everything else acts on a mapped page
    # a process that has something mapped, then one of its pages
    with_pages = [mm for mm in alive if c.procs[mm].mem]
    if not with_pages:
        return None
    mm = with_pages[data.index(len(with_pages))]
    vpns = sorted(c.procs[mm].mem)
    vpn = vpns[data.index(len(vpns))]
    if kind == "write":
        value = w.next_value
        w.next_value += 1
        return Step("write", {"mm": mm, "vpn": vpn, "value": value})
    if kind == "pin":
        id = f"p{w.next_ref}"
        w.next_ref += 1
        return Step("pin", {"mm": mm, "vpn": vpn, "write": data.flag(),
                            "longterm": data.flag(), "id": id})
    if kind == "get":
        id = f"g{w.next_ref}"
        w.next_ref += 1
        return Step("get", {"mm": mm, "vpn": vpn, "id": id})
    if kind in ("read", "swapout", "swapin", "migrate", "split_pmd", "split_folio"):
        return Step(kind, {"mm": mm, "vpn": vpn})
    if kind == "ksm_merge":
        mm2 = with_pages[data.index(len(with_pages))]
        vpns2 = sorted(c.procs[mm2].mem)
        vpn2 = vpns2[data.index(len(vpns2))]
        if (mm2, vpn2) == (mm, vpn):
            return None
        return Step("ksm_merge", {"mm": mm, "vpn": vpn, "mm2": mm2, "vpn2": vpn2})
    # ranges: munmap, mprotect, madvise
    npages = 1 + data.index(min(HPAGE_NR, NPAGES - vpn))
    if kind == "munmap":
        return Step("munmap", {"mm": mm, "vpn": vpn, "npages": npages})
    if kind == "mprotect":
        return Step("mprotect", {"mm": mm, "vpn": vpn, "npages": npages, "write": data.flag()})
    advices = ADVICE_OF[kind]
    advice = advices[data.index(len(advices))]
    return Step("madvise", {"mm": mm, "vpn": vpn, "npages": npages, "advice": advice})


def draw_menu(data: Choices) -> list[str]:
    """Swarm testing (Groce et al., ISSTA 2012): the bits set in both of two random
    masks disable kinds (each kind off with probability 1/4), so that rare
    interleavings of the others get room; shrinks to 0, nothing disabled. A kind
    appears WEIGHT times in the menu."""
    mask = data.index(1 << len(KINDS)) & data.index(1 << len(KINDS))
    menu: list[str] = []
    for k in ALWAYS:
        menu.extend([k] * WEIGHT.get(k, 1))
    for bit, k in enumerate(KINDS):
        if not mask >> bit & 1:
            menu.extend([k] * WEIGHT.get(k, 1))
    return menu


def first_mmap(data: Choices) -> Step:
    """Every trace starts by mapping something at vpn 0 of process 0: a THP, or one or
    two small pages (later mmaps go anywhere in the NPAGES pages)."""
    thp = data.flag(0.3)
    npages = 1 + data.index(2)
    return Step("mmap", {"mm": 0, "vpn": 0, "npages": HPAGE_NR if thp else npages, "thp": thp})
