"""The user-visible contract: what processes and devices may observe, kept as a model
of its own that knows nothing of page tables, folios or anon_exclusive.

State:
    mem[mm][vpn]       each process's logical memory: zero after mmap and
                       MADV_DONTNEED; its last write; a device write through one of its
                       bound R/W pins; at fork the parent's value (zero in wipeonfork
                       ranges, nothing in dontfork ranges)
    written[mm]        addresses that hold a real page in user terms: written (by the
                       process, a R/W pin's write fault, or inherited at fork) since mmap
                       or MADV_DONTNEED. "Never written" memory maps the shared zero page.
    history            every update of a logical value, in order: (step, mm, vpn, value),
                       value None when the address was unmapped (a step may record the
                       value an address already held; messages only, nothing decides on it)
    refs[id]           every FOLL_PIN pin and FOLL_GET reference: holder, address,
                       R/O or R/W, longterm, bound or not, whether coherence is promised,
                       the values the holder held there while it was bound, and the values
                       the device wrote through it

A pin (or reference) is bound to (holder, vpn) until the holder itself changes that
mapping: munmap, MADV_DONTNEED, exit, or an mmap over it. Nothing else unbinds it:
fork, swap, migration, KSM, THP splits, mprotect and the other process's actions are
the kernel's business and must stay invisible.

Clauses, one line each (ids in spec/clauses.py):
    isolation        a read returns the reader's logical value
    pin-coherence    while bound, a coherent pin's device read returns the holder's
                     logical value, and the holder reads what the device wrote
                     (coherent: R/W pins, R/O longterm pins, R/O short-term pins taken on
                     written memory; a R/O short-term pin on never-written memory may go
                     stale, as the kernel allows)
    no-foreign-data  a pin or reference only ever shows values its holder held at that
                     vpn while it was bound (from the step it was taken), or values the
                     device wrote through it: stale is allowed for FOLL_GET, foreign never
    no-loss          swapout, swapin, migrate, ksm_merge, split_pmd, split_folio and
                     MADV_PAGEOUT/MADV_COLLAPSE leave what every process would read
                     (peeked, without faulting) unchanged

Binding window, precisely: the clause text says "held at or after the time the
reference was taken"; once the holder has unmapped the address, values it writes
there later live in a new page that the old reference cannot see, so the window closes
at unbinding. This is stricter than the text only for values a reference could never
legitimately show.

The contract reads the kernel only through the user-level views `peek(mm, vpn)` and
`dma_peek(id)` (for no-loss) and the step's Result (whether the kernel performed the
step: a refused or failed step changes no logical state).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from spec.clauses import Violation
from spec.trace import NO_LOSS_ADVICE, NO_LOSS_OPS, Step


@dataclass(slots=True)
class PinBinding:
    """The contract's view of one FOLL_PIN pin or FOLL_GET reference: the address it
    is bound to, whether coherence is promised, and the values it may show. (The
    kernel-side reference is spec.state.Ref.)"""
    id: str
    kind: str            # "pin" (FOLL_PIN) or "get" (FOLL_GET)
    mm: int
    vpn: int
    write: bool
    longterm: bool
    taken: int           # step index
    coherent: bool       # pin-coherence is promised while bound
    fresh: bool = False  # taken on never-written memory (the shared zero page)
    bound: bool = True
    unbound_at: int | None = None
    held: set = field(default_factory=set)     # values of (mm, vpn) while bound
    device: set = field(default_factory=set)   # values the device wrote through it

    def describe(self) -> str:
        what = "get" if self.kind == "get" else (
            ("R/W" if self.write else "R/O") + (" longterm" if self.longterm else "") + " pin")
        return f"{self.id} ({what} by mm {self.mm} at vpn {self.vpn}, step {self.taken})"


@dataclass(slots=True)
class Proc:
    mem: dict = field(default_factory=dict)        # vpn -> logical value (mapped vpns only)
    written: set = field(default_factory=set)      # vpns holding a real page in user terms
    dontfork: set = field(default_factory=set)
    wipeonfork: set = field(default_factory=set)


class Contract:
    def __init__(self) -> None:
        self.procs: dict[int, Proc] = {}
        self.exited: set[int] = set()
        self.history: list[tuple[int, int, int, int | None]] = []   # (step, mm, vpn, value)
        self.origin: dict[int, tuple[int, int, int, str]] = {}  # value -> (mm, vpn, step, how)
        self.refs: dict[str, PinBinding] = {}
        self._bound: dict[tuple[int, int], list[PinBinding]] = {}  # (mm, vpn) -> bound refs
        self._snapshot: list[tuple[int, tuple, list]] | None = None

    # ------------------------------------------------------------------ copying
    def clone(self) -> "Contract":
        c = Contract.__new__(Contract)
        c.procs = {mm: Proc(dict(p.mem), set(p.written), set(p.dontfork), set(p.wipeonfork))
                   for mm, p in self.procs.items()}
        c.exited = set(self.exited)
        c.history = list(self.history)
        c.origin = dict(self.origin)
        c.refs = {}
        c._bound = {}
        for r in self.refs.values():
            n = PinBinding(r.id, r.kind, r.mm, r.vpn, r.write, r.longterm, r.taken,
                           r.coherent, r.fresh, r.bound, r.unbound_at, set(r.held),
                           set(r.device))
            c.refs[n.id] = n
            if n.bound:
                c._bound.setdefault((n.mm, n.vpn), []).append(n)
        c._snapshot = None
        return c

    # ------------------------------------------------------------------ queries
    def logical(self, mm: int, vpn: int) -> int | None:
        """What `mm` must read at `vpn` (None: not mapped or no such process)."""
        p = self.procs.get(mm)
        return None if p is None else p.mem.get(vpn)

    def mapped(self) -> Iterable[tuple[int, int]]:
        for mm, p in self.procs.items():
            for vpn in p.mem:
                yield mm, vpn

    def read_violation(self, mm: int, vpn: int, value: Any) -> str | None:
        """The clause a `read` returning `value` would break, or None."""
        expected = self.logical(mm, vpn)
        if expected is None or value == expected:
            return None
        return "pin-coherence" if self._holds_coherent_pin(mm, vpn) else "isolation"

    def dma_violations(self, id: str, value: Any) -> list[str]:
        """The clauses a `dma_read` of `id` returning `value` would break."""
        r = self.refs.get(id)
        if r is None:
            return []
        out = []
        if value not in r.held and value not in r.device:
            out.append("no-foreign-data")
        if r.bound and r.coherent and value != self.logical(r.mm, r.vpn):
            out.append("pin-coherence")
        return out

    def variant(self, clause: str, step: Step, value: Any) -> str:
        """A short label telling apart different bugs behind one clause, for a `read`
        or `dma_read` of `value` (the fuzzer shrinks each separately, so that e.g. a
        stale R/O pin of the zero page does not hide a stale R/O pin of a page shared
        after fork). Empty for other clauses."""
        if clause == "pin-coherence":
            if step.op == "read":
                return "holder read"
            r = self.refs.get(step.args["id"])
            if r is None:
                return ""
            if r.write:
                return "R/W pin"
            kind = "R/O longterm pin" if r.longterm else "R/O pin"
            return kind + (" of never-written memory" if r.fresh else "")
        if clause in ("no-foreign-data", "isolation"):
            if value == 0:
                origin = "zero"
            elif (o := self.origin.get(value)) is None:
                origin = "unknown value"
            elif o[3].startswith("the device"):
                origin = "device write"
            elif step.op == "read" and o[0] == step.args["mm"]:
                origin = "own old value"
            else:
                origin = "process write"
            if clause == "no-foreign-data":
                r = self.refs.get(step.args.get("id", ""))
                return f"{'FOLL_GET' if r is not None and r.kind == 'get' else 'pin'} sees {origin}"
            return origin
        return ""

    def _holds_coherent_pin(self, mm: int, vpn: int) -> bool:
        return any(r.coherent for r in self._bound.get((mm, vpn), ()))

    # ------------------------------------------------------------------ stepping
    def before(self, step: Step, kernel: Any) -> None:
        """Called before the kernel runs `step`: remember what every process would read
        if the step is one that must not change it (no-loss)."""
        op = step.op
        if op in NO_LOSS_OPS or (op == "madvise" and step.args["advice"] in NO_LOSS_ADVICE):
            # [(mm, vpns, values)] per process: compared as lists after the step
            peek_many = _peek_many(kernel)
            snap = []
            for mm, p in self.procs.items():
                vpns = tuple(p.mem)
                snap.append((mm, vpns, peek_many(mm, vpns)))
            self._snapshot = snap
        else:
            self._snapshot = None

    def observe(self, index: int, step: Step, result: Any, kernel: Any = None) -> list[Violation]:
        """Advance the contract by one step the kernel has run with `result`; return the
        clauses the step broke (each id at most once)."""
        out: list[Violation] = []
        if self._snapshot is not None:
            self._check_no_loss(index, step, kernel, out)
            self._snapshot = None
        status = result.status
        # madvise over a range with holes fails with ENOMEM after advising the mapped
        # part (madvise_walk_vmas: unmapped_error), so its effects still apply.
        if status == "ok" or (status == "ENOMEM" and step.op == "madvise"):
            handler = _HANDLERS.get(step.op)
            if handler is not None:
                handler(self, index, step.args, result, out)
        return out

    def _check_no_loss(self, index: int, step: Step, kernel: Any, out: list[Violation]) -> None:
        lost = []
        peek_many = _peek_many(kernel)
        for mm, vpns, before_values in self._snapshot:
            after_values = peek_many(mm, vpns)
            if after_values == before_values:
                continue
            for vpn, before, after in zip(vpns, before_values, after_values):
                # peek gives None for a page never faulted in: it reads as zero
                if (after or 0) != (before or 0):
                    lost.append(f"mm {mm} vpn {vpn}: {before} -> {after}")
        if lost:
            more = f" (+{len(lost) - 3} more)" if len(lost) > 3 else ""
            out.append(Violation("no-loss", index,
                                 f"{step.op} changed what processes read: {'; '.join(lost[:3])}{more}"))

    # -- logical-memory updates
    def _set(self, index: int, mm: int, vpn: int, value: int | None) -> None:
        self.history.append((index, mm, vpn, value))
        if value is not None and self._bound:
            refs = self._bound.get((mm, vpn))
            if refs:
                for r in refs:
                    r.held.add(value)

    def _unbind(self, index: int, mm: int, vpn: int) -> None:
        if not self._bound:
            return
        refs = self._bound.pop((mm, vpn), None)
        for r in refs or ():
            r.bound = False
            r.unbound_at = index

    def _unmap_page(self, index: int, p: Proc, mm: int, vpn: int) -> None:
        self._unbind(index, mm, vpn)
        if vpn in p.mem:
            del p.mem[vpn]
            p.written.discard(vpn)
            p.dontfork.discard(vpn)
            p.wipeonfork.discard(vpn)
            self._set(index, mm, vpn, None)

    def _origin_text(self, value: Any) -> str:
        o = self.origin.get(value)
        if value == 0:
            return "zero"
        if o is None:
            return f"{value}, which no process or device wrote"
        mm, vpn, at, how = o
        return f"{value}, which {how} mm {mm} vpn {vpn} in step {at}"

    # ------------------------------------------------------------------ handlers
    def _mmap(self, index, a, result, out):
        mm = a["mm"]
        if mm in self.exited:
            return
        p = self.procs.get(mm)
        if p is None:
            p = self.procs[mm] = Proc()
        mem = p.mem
        log = self.history.append
        for vpn in range(a["vpn"], a["vpn"] + a["npages"]):
            if vpn in mem or self._bound:
                self._unmap_page(index, p, mm, vpn)   # MAP_FIXED over an old mapping
            mem[vpn] = 0
            log((index, mm, vpn, 0))   # _set: no reference is bound here after the unmap

    def _munmap(self, index, a, result, out):
        mm = a["mm"]
        p = self.procs.get(mm)
        if p is None:
            return
        for vpn in range(a["vpn"], a["vpn"] + a["npages"]):
            self._unmap_page(index, p, mm, vpn)

    def _madvise(self, index, a, result, out):
        mm, advice = a["mm"], a["advice"]
        p = self.procs.get(mm)
        if p is None:
            return
        for vpn in range(a["vpn"], a["vpn"] + a["npages"]):
            if vpn not in p.mem:
                continue
            if advice == "dontneed":
                self._unbind(index, mm, vpn)
                p.mem[vpn] = 0
                p.written.discard(vpn)
                self._set(index, mm, vpn, 0)
            elif advice == "dontfork":
                p.dontfork.add(vpn)
            elif advice == "dofork":
                p.dontfork.discard(vpn)
            elif advice == "wipeonfork":
                p.wipeonfork.add(vpn)

    def _read(self, index, a, result, out):
        mm, vpn = a["mm"], a["vpn"]
        clause = self.read_violation(mm, vpn, result.value)
        if clause:
            expected = self.logical(mm, vpn)
            out.append(Violation(clause, index,
                                 f"mm {mm} read vpn {vpn} = {self._origin_text(result.value)}; "
                                 f"its logical value is {expected}"))

    def _write(self, index, a, result, out):
        mm, vpn, value = a["mm"], a["vpn"], a["value"]
        p = self.procs.get(mm)
        if p is None or vpn not in p.mem:
            return
        p.mem[vpn] = value
        p.written.add(vpn)
        if value not in self.origin:
            self.origin[value] = (mm, vpn, index, "was written by")
        self._set(index, mm, vpn, value)

    def _fork(self, index, a, result, out):
        parent, child = a["mm"], a["child"]
        p = self.procs.get(parent)
        if p is None:
            return
        c = Proc()
        log = self.history.append   # _set: the new child holds no reference yet
        for vpn, value in p.mem.items():
            if vpn in p.dontfork:
                continue
            if vpn in p.wipeonfork:
                value = 0
                c.wipeonfork.add(vpn)      # VM_WIPEONFORK is inherited by the child's VMA
            elif vpn in p.written:
                c.written.add(vpn)
            c.mem[vpn] = value
            log((index, child, vpn, value))
        self.procs[child] = c

    def _exit(self, index, a, result, out):
        mm = a["mm"]
        p = self.procs.pop(mm, None)
        self.exited.add(mm)
        if p is None:
            return
        for vpn in list(p.mem):
            self._unbind(index, mm, vpn)
            self._set(index, mm, vpn, None)

    def _take(self, index, a, kind, out):
        mm, vpn, id = a["mm"], a["vpn"], a["id"]
        p = self.procs.get(mm)
        if p is None or vpn not in p.mem:
            return
        write = kind == "pin" and a["write"]
        longterm = kind == "pin" and a["longterm"]
        fresh = vpn not in p.written
        if write:
            p.written.add(vpn)   # FOLL_WRITE faults a real page in
        coherent = kind == "pin" and (write or longterm or vpn in p.written)
        r = PinBinding(id, kind, mm, vpn, write, longterm, index, coherent, fresh)
        r.held.add(p.mem[vpn])
        self.refs[id] = r
        self._bound.setdefault((mm, vpn), []).append(r)

    def _pin(self, index, a, result, out):
        self._take(index, a, "pin", out)

    def _get(self, index, a, result, out):
        self._take(index, a, "get", out)

    def _release(self, index, a, result, out):
        r = self.refs.pop(a["id"], None)
        if r is not None and r.bound:
            bound = self._bound.get((r.mm, r.vpn), [])
            if r in bound:
                bound.remove(r)

    def _dma_read(self, index, a, result, out):
        r = self.refs.get(a["id"])
        if r is None:
            return
        value = result.value
        for clause in self.dma_violations(r.id, value):
            if clause == "no-foreign-data":
                window = f"steps {r.taken}..{r.unbound_at}" if not r.bound else f"since step {r.taken}"
                held = ", ".join(str(v) for v in sorted(r.held | r.device, key=str))
                msg = (f"dma_read {r.describe()} returned {self._origin_text(value)}; "
                       f"mm {r.mm} held only {{{held}}} there ({window}) or the device wrote it")
            else:
                msg = (f"dma_read {r.describe()} returned {self._origin_text(value)}; "
                       f"mm {r.mm}'s logical value at vpn {r.vpn} is {self.logical(r.mm, r.vpn)}")
            out.append(Violation(clause, index, msg))

    def _dma_write(self, index, a, result, out):
        r = self.refs.get(a["id"])
        if r is None:
            return
        value = a["value"]
        # The device writes into the page the pin holds. Other references its holder
        # took on the same address while this pin was bound may hold that very page,
        # so the value is theirs to see too (not foreign).
        for other in self.refs.values():
            if other.mm == r.mm and other.vpn == r.vpn and _overlap(r, other):
                other.device.add(value)
        self.origin.setdefault(value, (r.mm, r.vpn, index, f"the device wrote through {r.id} for"))
        if r.bound and r.write:
            p = self.procs.get(r.mm)
            if p is not None and r.vpn in p.mem:
                p.mem[r.vpn] = value
                self._set(index, r.mm, r.vpn, value)


def _peek_many(kernel: Any):
    """kernel.peek_many (spec.kernel.Kernel), or the same through peek alone for a kernel
    that offers only the user-level view."""
    fast = getattr(kernel, "peek_many", None)
    if fast is not None:
        return fast
    return lambda mm, vpns: [kernel.peek(mm, v) for v in vpns]


def _overlap(a: PinBinding, b: PinBinding) -> bool:
    """Were both bound at some moment? (a window is [taken, unbound_at))"""
    a_end = a.unbound_at if not a.bound else None
    b_end = b.unbound_at if not b.bound else None
    return (b_end is None or a.taken < b_end) and (a_end is None or b.taken < a_end)


_HANDLERS = {
    "mmap": Contract._mmap,
    "munmap": Contract._munmap,
    "madvise": Contract._madvise,
    "read": Contract._read,
    "write": Contract._write,
    "fork": Contract._fork,
    "exit": Contract._exit,
    "pin": Contract._pin,
    "get": Contract._get,
    "unpin": Contract._release,
    "put": Contract._release,
    "dma_read": Contract._dma_read,
    "dma_write": Contract._dma_write,
}
