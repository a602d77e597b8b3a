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
    files[key][index]  each file's logical content, by a name of the contract's own:
                       "file" and "shmem" (the named files), ("shared", n) for the n-th
                       MAP_SHARED|MAP_ANONYMOUS mapping (with MAP_HUGETLB too); zero
                       where nothing was written
    pages[mm][vpn]     what maps a page that is not private anonymous memory: (file key,
                       shared, hugetlb, page index in the file). A shared page's logical value is its file's,
                       updated in every mapper at once; a private file page follows the
                       file until its process writes it (MAP_PRIVATE: "it is unspecified
                       whether changes made to the file after the mmap() call are visible
                       in the mapped region", so a read may also show an older value the
                       file held since: maybe[mm][vpn])
    soft-dirty         per process: whether clear_softdirty ran, and the pages it wrote
                       (write, poke) since

A pin (or reference) is bound to (holder, vpn) until the holder itself changes that
mapping: munmap, MADV_DONTNEED, exit, or an mmap over it; mremap moves the binding with
the page. Nothing else unbinds it: fork, swap, migration, KSM, THP splits, mprotect
and the other process's actions are the kernel's business and must stay invisible.

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
    no-loss          swapout, swapin, migrate, ksm_merge, split_pmd, split_folio,
                     swapoff, writeback and MADV_PAGEOUT/MADV_COLLAPSE leave what every
                     process would read (peeked, without faulting) unchanged
    file-integrity   read(2) of the named files returns their logical content: writes
                     and pokes to private mappings never reach the file, and nothing
                     writes through a R/O shared mapping (only writes through writable
                     shared mappings and device writes through references to shared
                     pages change a file)
    softdirty        after clear_softdirty, a page the process wrote (write, poke) reads
                     soft-dirty in the next softdirty query; not for hugetlb (which
                     does not track soft-dirty), nor after a KSM merge of the page
                     (replace_page maps the KSM page with a fresh PTE), nor for a page
                     the process had pinned when clear_softdirty ran (clear_refs leaves
                     a maybe-pinned page's entry alone, pte_is_pinned), until the page
                     is unmapped or MADV_DONTNEEDed

Binding window, precisely: the clause text says "held at or after the time the
reference was taken"; once the holder has unmapped the address, values it writes
there later live in a new page that the old reference cannot see, so the window closes
at unbinding. This is stricter than the text only for values a reference could never
legitimately show.

FOLL_GET references promise no coherence: a device write through a R/W one (an
O_DIRECT read) may land in the page the holder maps or in one it no longer does, so the
holder may read either afterwards (maybe[mm][vpn]); and since fork shares a page a
FOLL_GET reference holds (only pinned pages are copied), so may every process forked
since that still maps the address (the reference's sharers) - the fork-vs-O_DIRECT
problem FOLL_PIN was made to solve, which FOLL_GET users keep. A reference taken
where the page may hold such a value may show it. A reference on a shared page (a
file's page cache, MAP_SHARED) shows what the file holds: every value the file held
there since it was taken, also after its holder unmapped the address. On hugetlb the kernel reuses a page
by mapcount, so a FOLL_GET reference may show another process's data there: "there can
still be leaks between processes, for example, with FOLL_GET users" (hugetlb_wp); the
no-foreign-data clause does not hold such a reference to more.

The contract reads the kernel only through the user-level views `peek(mm, vpn)` and
`dma_peek(id)` (for no-loss), `file_peek(name, index)` (for file-integrity: read(2) of
the file) and the step's Result (whether the kernel performed the step: a refused or
failed step changes no logical state).

Parts (spec/contract/): this module holds the state, the queries, the stepping (before,
observe, no-loss) and the table of handlers; the handlers and their helpers live by topic,
as parts of the one Contract class:

    memory.py     Proc; mmap, munmap, madvise, read, write, poke, fork, exit, mprotect,
                  mremap (processes and their private memory)
    pins.py       PinBinding; pin, get, unpin, put, dma_read, dma_write; binding and
                  unbinding
    files.py      file and shared pages: following a file, writes to it, file-integrity
    softdirty.py  clear_softdirty, softdirty, and ksm_merge's effect on soft-dirty
"""
from __future__ import annotations

from typing import Any, Iterable

from spec.clauses import Violation
from spec.contract.files import FileContent
from spec.contract.memory import Proc, ProcessMemory
from spec.contract.pins import PinBinding, PinBindings
from spec.contract.softdirty import SoftDirty
from spec.trace import NO_LOSS_ADVICE, NO_LOSS_OPS, Step


class Contract(ProcessMemory, PinBindings, FileContent, SoftDirty):
    """The contract's state and queries; the handlers of the operations come from the
    parts it is made of (the module docstring lists them)."""

    def __init__(self) -> None:
        self.procs: dict[int, Proc] = {}
        self.exited: set[int] = set()
        self.history: list[tuple[int, int, int, int | None]] = []   # (step, mm, vpn, value)
        self.origin: dict[int, tuple[int, int, int, str]] = {}  # value -> (mm, vpn, step, how)
        self.refs: dict[str, PinBinding] = {}
        self._bound: dict[tuple[int, int], list[PinBinding]] = {}  # (mm, vpn) -> bound refs
        self._snapshot: list[tuple[int, tuple, list]] | None = None
        self.files: dict = {}      # file key -> {index: value}
        self.mappers: dict = {}    # (file key, index) -> {(mm, vpn)} mapping it
        self.next_shared = 0       # MAP_SHARED|MAP_ANONYMOUS mappings made so far
        self.file_bad: set = set()  # (name, index) whose read(2) disagrees, reported
        self._sharing: list[PinBinding] = []   # the refs with sharers

    # ------------------------------------------------------------------ copying
    def clone(self) -> "Contract":
        c = Contract.__new__(Contract)
        c.procs = {mm: p.copy() for mm, p in self.procs.items()}
        c.exited = set(self.exited)
        c.history = list(self.history)
        c.origin = dict(self.origin)
        c.refs = {}
        c._bound = {}
        for r in self.refs.values():
            n = PinBinding(r.id, r.kind, r.mm, r.vpn, r.write, r.longterm, r.taken,
                           r.coherent, r.fresh, r.bound, r.unbound_at, set(r.held),
                           set(r.device), r.file, r.foreign_ok,
                           None if r.sharers is None else set(r.sharers))
            c.refs[n.id] = n
            if n.bound:
                c._bound.setdefault((n.mm, n.vpn), []).append(n)
        c._snapshot = None
        c.files = {key: dict(content) for key, content in self.files.items()}
        c.mappers = {at: set(who) for at, who in self.mappers.items()}
        c.next_shared = self.next_shared
        c.file_bad = set(self.file_bad)
        c._sharing = [c.refs[r.id] for r in self._sharing]
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

    def softdirty_due(self) -> list[tuple[int, int]]:
        """(mm, vpn) the softdirty clause says read soft-dirty now."""
        return [(mm, vpn) for mm, p in self.procs.items() if p.sd_tracking
                for vpn in sorted(p.sd_written)]

    def softdirty_tracked(self) -> list[tuple[int, int]]:
        """Every mapped (mm, vpn) of the processes that cleared soft-dirty bits."""
        return [(mm, vpn) for mm, p in self.procs.items() if p.sd_tracking for vpn in p.mem]

    def read_violation(self, mm: int, vpn: int, value: Any) -> str | None:
        """The clause a `read` returning `value` would break, or None."""
        expected = self.logical(mm, vpn)
        if expected is None or value == expected or self._maybe(mm, vpn, value):
            return None
        return "pin-coherence" if self._holds_coherent_pin(mm, vpn) else "isolation"

    def dma_violations(self, id: str, value: Any) -> list[str]:
        """The clauses a `dma_read` of `id` returning `value` would break."""
        r = self.refs.get(id)
        if r is None:
            return []
        out = []
        if value not in r.held and value not in r.device and not r.foreign_ok:
            out.append("no-foreign-data")
        if r.bound and r.coherent and value != self.logical(r.mm, r.vpn) \
                and not self._maybe(r.mm, r.vpn, value):
            out.append("pin-coherence")
        return out

    def _maybe(self, mm: int, vpn: int, value: Any) -> bool:
        p = self.procs.get(mm)
        return p is not None and bool(p.maybe) and value in p.maybe.get(vpn, ())

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
            # hugetlb pages are copied at fork and reused on their own path
            # (copy_hugetlb_page_range, hugetlb_wp): a bug of their own
            p = self.procs.get(r.mm)
            page = p.pages.get(r.vpn) if p is not None and p.pages else None
            where = " of hugetlb" if page is not None and page[2] else ""
            if r.write:
                return "R/W pin" + where
            kind = "R/O longterm pin" if r.longterm else "R/O pin"
            return kind + (" of never-written memory" if r.fresh else "") + where
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
        if clause == "softdirty":
            # shared mappings (write-notify, mprotect's upgrade) and private ones
            # (anonymous or COWed pages: swap, swapoff) lose the bit on different paths
            p = self.procs.get(step.args["mm"])
            kind = p.pages.get(step.args["vpn"]) if p is not None and p.pages else None
            return "shared mapping" if kind is not None and kind[1] else "private mapping"
        if clause == "file-integrity":
            return f"after {step.op}"
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
        # madvise and mprotect over a range with holes fail with ENOMEM after changing
        # the mapped part (madvise_walk_vmas: unmapped_error), so their effects still
        # apply.
        if status == "ok" or (status == "ENOMEM" and step.op in ("madvise", "mprotect")):
            handler = _HANDLERS.get(step.op)
            if handler is not None:
                handler(self, index, step.args, result, out)
        if self.files and kernel is not None:
            self._check_files(index, step, kernel, out)
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

    def _origin_text(self, value: Any) -> str:
        o = self.origin.get(value)
        if value == 0:
            return "zero"
        if o is None:
            return f"{value}, which no process or device wrote"
        mm, vpn, at, how = o
        return f"{value}, which {how} mm {mm} vpn {vpn} in step {at}"


def _peek_many(kernel: Any):
    """kernel.peek_many (spec.kernel.Kernel), or the same through peek alone for a kernel
    that offers only the user-level view."""
    fast = getattr(kernel, "peek_many", None)
    if fast is not None:
        return fast
    return lambda mm, vpns: [kernel.peek(mm, v) for v in vpns]


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
    "poke": Contract._poke,
    "mprotect": Contract._mprotect,
    "mremap": Contract._mremap,
    "clear_softdirty": Contract._clear_softdirty,
    "softdirty": Contract._softdirty,
    "ksm_merge": Contract._ksm_merge,
}
