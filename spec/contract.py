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
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from spec.clauses import Violation
from spec.trace import NO_LOSS_ADVICE, NO_LOSS_OPS, Step

NAMED_FILES = ("file", "shmem")   # the files read(2) can check (file_peek)


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
    file: tuple | None = None  # (file key, index) of the page-cache page it was taken on:
                               # a shared page, or (R/O) a private one not yet copied
    foreign_ok: bool = False   # a FOLL_GET reference on hugetlb (see the module docstring)
    sharers: set | None = None  # R/W FOLL_GET on a private page: (mm, vpn) that may map it

    def describe(self) -> str:
        what = ("R/W get" if self.write else "get") if self.kind == "get" else (
            ("R/W" if self.write else "R/O") + (" longterm" if self.longterm else "") + " pin")
        return f"{self.id} ({what} by mm {self.mm} at vpn {self.vpn}, step {self.taken})"


@dataclass(slots=True)
class Proc:
    mem: dict = field(default_factory=dict)        # vpn -> logical value (mapped vpns only)
    written: set = field(default_factory=set)      # vpns holding a real page in user terms
    dontfork: set = field(default_factory=set)
    wipeonfork: set = field(default_factory=set)
    pages: dict = field(default_factory=dict)      # vpn -> (file key, shared, hugetlb, index):
                                                   # not private anonymous memory
    readonly: set = field(default_factory=set)     # vpns mapped without PROT_WRITE
    maybe: dict = field(default_factory=dict)      # vpn -> other values a read may show
    sd_tracking: bool = False                      # clear_softdirty ran
    sd_written: set = field(default_factory=set)   # vpns written since
    sd_skip: set = field(default_factory=set)      # vpns clear_softdirty left alone (pinned)

    def copy(self) -> "Proc":
        return Proc(dict(self.mem), set(self.written), set(self.dontfork), set(self.wipeonfork),
                    dict(self.pages), set(self.readonly),
                    {v: set(m) for v, m in self.maybe.items()}, self.sd_tracking,
                    set(self.sd_written), set(self.sd_skip))


class Contract:
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

    def _check_files(self, index: int, step: Step, kernel: Any, out: list[Violation]) -> None:
        """file-integrity: read(2) of each named file agrees with its logical content at
        every index a process mapped. A disagreement is reported by the step that made
        it (file_bad remembers it until the file agrees again), not by every step after:
        a step that touches no file then breaks nothing, whatever it follows."""
        file_peek = getattr(kernel, "file_peek", None)
        if file_peek is None:
            return
        bad = self.file_bad
        for name in NAMED_FILES:
            content = self.files.get(name)
            if content is None:
                continue
            for i, want in content.items():
                got = file_peek(name, i)
                if got == want:
                    bad.discard((name, i))
                elif (name, i) not in bad:
                    bad.add((name, i))
                    out.append(Violation(
                        "file-integrity", index,
                        f"after {step.op}, read(2) of {name} at page {i} returns "
                        f"{self._origin_text(got)}; the file holds {want}"))

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

    def _unshare(self, mm: int, vpn: int) -> None:
        """(mm, vpn) no longer maps what it mapped: no R/W FOLL_GET reference's device
        writes reach it any more."""
        for r in self._sharing:
            r.sharers.discard((mm, vpn))

    def _unbind(self, index: int, mm: int, vpn: int) -> None:
        if self._sharing:
            self._unshare(mm, vpn)
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
            if p.pages:
                self._unfollow(p, mm, vpn)
                p.pages.pop(vpn, None)
            p.readonly.discard(vpn)
            p.sd_written.discard(vpn)
            p.sd_skip.discard(vpn)
            self._set(index, mm, vpn, None)

    # -- files
    def _file_value(self, key, i: int) -> int:
        content = self.files.get(key)
        return 0 if content is None else content.get(i, 0)

    def _follow(self, p: Proc, mm: int, vpn: int, key, i: int) -> int:
        """(mm, vpn) maps (key, i) and shows what the file holds: its value now."""
        self.mappers.setdefault((key, i), set()).add((mm, vpn))
        self.files.setdefault(key, {}).setdefault(i, 0)
        return self.files[key][i]

    def _unfollow(self, p: Proc, mm: int, vpn: int) -> None:
        kind = p.pages.get(vpn)
        if kind is not None and kind[0] is not None:
            who = self.mappers.get((kind[0], kind[3]))
            if who is not None:
                who.discard((mm, vpn))
        p.maybe.pop(vpn, None)

    def _follows(self, mm: int, vpn: int, kind) -> bool:
        return kind[0] is not None and (mm, vpn) in self.mappers.get((kind[0], kind[3]), ())

    def _own(self, p: Proc, mm: int, vpn: int) -> None:
        """A private page the process now holds its own copy of (it wrote it)."""
        if p.pages and vpn in p.pages and not p.pages[vpn][1]:
            self._unfollow(p, mm, vpn)
        elif p.maybe:
            p.maybe.pop(vpn, None)

    def _file_write(self, index: int, key, i: int, value: int) -> None:
        """The file (key, i) now holds `value`: every process mapping it sees it (a
        private mapping that has not written the page may go on showing older values)."""
        self.files.setdefault(key, {})[i] = value
        for r in self.refs.values():
            if r.file == (key, i):
                r.held.add(value)   # a reference on a shared page sees the file's page
        for mm, vpn in sorted(self.mappers.get((key, i), ())):
            p = self.procs.get(mm)
            if p is None or vpn not in p.mem:
                continue
            if not p.pages[vpn][1]:
                p.maybe.setdefault(vpn, set()).add(p.mem[vpn])
            p.mem[vpn] = value
            self._set(index, mm, vpn, value)

    def _shared_at(self, p: Proc, vpn: int):
        """(file key, index) when vpn maps a shared page, else None."""
        kind = p.pages.get(vpn) if p.pages else None
        return (kind[0], kind[3]) if kind is not None and kind[1] else None

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
        vpns = range(a["vpn"], a["vpn"] + a["npages"])
        for vpn in vpns:
            if vpn in mem or self._bound:
                self._unmap_page(index, p, mm, vpn)   # MAP_FIXED over an old mapping
            mem[vpn] = 0
            log((index, mm, vpn, 0))   # _set: no reference is bound here after the unmap
        if len(a) > 4:                 # a mapping other than private anonymous read/write
            self._mmap_kind(index, p, mm, vpns, a)

    def _mmap_kind(self, index, p: Proc, mm: int, vpns, a) -> None:
        backing, shared = a.get("backing", "anon"), a.get("shared", False)
        hugetlb = a.get("hugetlb", False)
        if a.get("prot", "rw") != "rw":
            p.readonly.update(vpns)
        if backing != "anon":
            key = backing
        elif shared:
            key = ("shared", self.next_shared)
            self.next_shared += 1
        elif hugetlb:
            for vpn in vpns:
                p.pages[vpn] = (None, False, True, 0)
            return
        else:
            return
        for vpn in vpns:
            p.pages[vpn] = (key, shared, hugetlb, vpn)   # vm_pgoff: page index vpn
            p.mem[vpn] = value = self._follow(p, mm, vpn, key, vpn)
            if shared:
                p.written.add(vpn)   # the page cache's page: a real page in user terms
            if value:
                self._set(index, mm, vpn, value)

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
                p.sd_written.discard(vpn)
                p.sd_skip.discard(vpn)
                kind = p.pages.get(vpn) if p.pages else None
                if kind is not None and kind[0] is not None:
                    # the next fault maps the page cache again: the file's value
                    if not kind[1]:
                        self._unfollow(p, mm, vpn)
                        p.written.discard(vpn)
                    p.mem[vpn] = self._follow(p, mm, vpn, kind[0], kind[3])
                else:
                    p.mem[vpn] = 0
                    p.written.discard(vpn)
                    if p.maybe:
                        p.maybe.pop(vpn, None)
                self._set(index, mm, vpn, p.mem[vpn])
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
        self._store(index, a["mm"], a["vpn"], a["value"], "was written by")

    def _poke(self, index, a, result, out):
        self._store(index, a["mm"], a["vpn"], a["value"], "was poked into")

    def _store(self, index: int, mm: int, vpn: int, value: int, how: str) -> None:
        """The process (write) or a FOLL_FORCE write on its behalf (poke) stored `value`:
        its own page, or its file through a writable shared mapping (a R/O shared
        mapping must have refused it, so the file does not change)."""
        p = self.procs.get(mm)
        if p is None or vpn not in p.mem:
            return
        if value not in self.origin:
            self.origin[value] = (mm, vpn, index, how)
        if p.sd_tracking and vpn not in p.sd_skip \
                and not (p.pages and vpn in p.pages and p.pages[vpn][2]):
            p.sd_written.add(vpn)
        shared = self._shared_at(p, vpn)
        if shared is not None:
            if vpn not in p.readonly:
                self._file_write(index, shared[0], shared[1], value)
            return
        self._own(p, mm, vpn)
        p.mem[vpn] = value
        p.written.add(vpn)
        self._set(index, mm, vpn, value)

    def _fork(self, index, a, result, out):
        parent, child = a["mm"], a["child"]
        p = self.procs.get(parent)
        if p is None:
            return
        c = Proc()
        c.sd_tracking = p.sd_tracking   # VM_SOFTDIRTY is copied with the VMA
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
            if vpn in p.readonly:
                c.readonly.add(vpn)
        if p.pages:
            for vpn, kind in p.pages.items():
                if vpn not in c.mem:
                    continue
                c.pages[vpn] = kind
                if self._follows(parent, vpn, kind):
                    self._follow(c, child, vpn, kind[0], kind[3])
        for vpn, values in p.maybe.items():
            if vpn in c.mem:
                c.maybe[vpn] = set(values)
        for r in self._sharing:
            # the child maps the parent's page (a FOLL_GET reference does not make fork
            # copy it), where the device's writes through the reference land
            r.sharers.update((child, vpn) for m, vpn in list(r.sharers)
                             if m == parent and vpn in c.mem and vpn not in c.wipeonfork)
        self.procs[child] = c

    def _exit(self, index, a, result, out):
        mm = a["mm"]
        p = self.procs.pop(mm, None)
        self.exited.add(mm)
        if p is None:
            return
        for vpn in list(p.mem):
            self._unbind(index, mm, vpn)
            if p.pages:
                self._unfollow(p, mm, vpn)
            self._set(index, mm, vpn, None)

    def _take(self, index, a, kind, out):
        mm, vpn, id = a["mm"], a["vpn"], a["id"]
        p = self.procs.get(mm)
        if p is None or vpn not in p.mem:
            return
        write = a.get("write", False)
        longterm = kind == "pin" and a["longterm"]
        fresh = vpn not in p.written
        page = p.pages.get(vpn) if p.pages else None
        shared = self._shared_at(p, vpn)
        held = {p.mem[vpn]}
        if p.maybe and vpn in p.maybe:
            held.update(p.maybe[vpn])    # what the page may hold: the reference may see it
        follows = page is not None and not page[1] and self._follows(mm, vpn, page)
        if write:
            p.written.add(vpn)   # FOLL_WRITE faults a real page in
            if follows:
                # a private file page: COW, the process's own copy of what it showed
                self._own(p, mm, vpn)
        elif follows:
            # a R/O reference on a private page not yet copied: the page cache's page
            shared = (page[0], page[3])
        coherent = kind == "pin" and (write or longterm or vpn in p.written)
        r = PinBinding(id, kind, mm, vpn, write, longterm, index, coherent, fresh,
                       file=shared, foreign_ok=kind == "get" and page is not None and page[2])
        r.held = held
        if kind == "get" and write and shared is None:
            r.sharers = {(mm, vpn)}
            self._sharing.append(r)
        self.refs[id] = r
        self._bound.setdefault((mm, vpn), []).append(r)

    def _pin(self, index, a, result, out):
        self._take(index, a, "pin", out)

    def _get(self, index, a, result, out):
        self._take(index, a, "get", out)

    def _release(self, index, a, result, out):
        r = self.refs.pop(a["id"], None)
        if r is not None and r.sharers is not None:
            self._sharing.remove(r)
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
        # so the value is theirs to see too (not foreign); so may references taken on
        # a page that shares it (a R/W FOLL_GET reference's sharers).
        r.device.add(value)
        at = r.sharers if r.sharers else {(r.mm, r.vpn)}
        for other in self.refs.values():
            if (other.mm, other.vpn) in at and _overlap(r, other):
                other.device.add(value)
        self.origin.setdefault(value, (r.mm, r.vpn, index, f"the device wrote through {r.id} for"))
        if r.file is not None:
            self._file_write(index, r.file[0], r.file[1], value)   # the page cache's page
            return
        if r.sharers is not None:
            # no coherence: the page the holder maps, or one it no longer does, or one
            # a process forked since maps (fork shares a page FOLL_GET holds)
            for mm, vpn in sorted(r.sharers):
                p = self.procs.get(mm)
                if p is not None and vpn in p.mem:
                    p.maybe.setdefault(vpn, set()).add(value)
            return
        if r.bound and r.write:
            p = self.procs.get(r.mm)
            if p is not None and r.vpn in p.mem:
                self._own(p, r.mm, r.vpn)
                p.mem[r.vpn] = value
                self._set(index, r.mm, r.vpn, value)

    def _mprotect(self, index, a, result, out):
        p = self.procs.get(a["mm"])
        if p is None:
            return
        prot = a.get("prot")
        readonly = not a["write"] if prot is None else prot != "rw"
        for vpn in range(a["vpn"], a["vpn"] + a["npages"]):
            if vpn not in p.mem:
                continue
            if readonly:
                p.readonly.add(vpn)
            else:
                p.readonly.discard(vpn)

    def _mremap(self, index, a, result, out):
        """The pages move: values, file mappings, flags, soft-dirty state and the
        references bound to them; whatever was mapped at the destination is unmapped."""
        mm = a["mm"]
        p = self.procs.get(mm)
        if p is None:
            return
        n, old, new = a["npages"], a["vpn"], a["new_vpn"]
        for vpn in range(new, new + n):
            if vpn in p.mem:
                self._unmap_page(index, p, mm, vpn)
        for i in range(n):
            src, dst = old + i, new + i
            if src not in p.mem:
                continue
            value = p.mem.pop(src)
            p.mem[dst] = value
            for attr in ("written", "dontfork", "wipeonfork", "readonly", "sd_written",
                         "sd_skip"):
                flags = getattr(p, attr)
                if src in flags:
                    flags.discard(src)
                    flags.add(dst)
            if src in p.maybe:
                p.maybe[dst] = p.maybe.pop(src)
            if p.pages and src in p.pages:
                kind = p.pages.pop(src)
                p.pages[dst] = kind
                # the page keeps its index in the file (vm_pgoff moves with the VMA)
                who = self.mappers.get((kind[0], kind[3]))
                if who is not None and (mm, src) in who:
                    who.discard((mm, src))
                    who.add((mm, dst))
            refs = self._bound.pop((mm, src), None)
            for r in refs or ():
                r.vpn = dst
                self._bound.setdefault((mm, dst), []).append(r)
            for r in self._sharing:
                if (mm, src) in r.sharers:
                    r.sharers.discard((mm, src))
                    r.sharers.add((mm, dst))
            self._set(index, mm, src, None)
            self._set(index, mm, dst, value)

    def _clear_softdirty(self, index, a, result, out):
        mm = a["mm"]
        p = self.procs.get(mm)
        if p is not None:
            p.sd_tracking = True
            p.sd_written.clear()
            # clear_refs leaves a writable entry of a maybe-pinned page alone, soft-dirty
            # bit and all (pte_is_pinned, 9348b73c2e1b, v5.11): the process's own pins
            bound = self._bound
            p.sd_skip = {vpn for vpn in p.mem
                         if any(r.kind == "pin" for r in bound.get((mm, vpn), ()))} \
                if bound else set()

    def _softdirty(self, index, a, result, out):
        mm, vpn = a["mm"], a["vpn"]
        p = self.procs.get(mm)
        if p is None or not p.sd_tracking or vpn not in p.sd_written or result.value:
            return
        out.append(Violation("softdirty", index,
                             f"mm {mm} wrote vpn {vpn} after clear_softdirty, but its "
                             f"soft-dirty bit reads 0"))

    def _ksm_merge(self, index, a, result, out):
        # replace_page maps the KSM page with a fresh PTE: no soft-dirty bit
        for mm, vpn in ((a["mm"], a["vpn"]), (a["mm2"], a["vpn2"])):
            p = self.procs.get(mm)
            if p is not None:
                p.sd_written.discard(vpn)


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
    "poke": Contract._poke,
    "mprotect": Contract._mprotect,
    "mremap": Contract._mremap,
    "clear_softdirty": Contract._clear_softdirty,
    "softdirty": Contract._softdirty,
    "ksm_merge": Contract._ksm_merge,
}
