"""The contract's handlers for processes and their private memory: mmap, munmap,
madvise, read, write, poke (a FOLL_FORCE write on the process's behalf), fork, exit,
mprotect and mremap, and Proc, one process's logical memory and flags.

Part of Contract (spec/contract/__init__.py: the state, the clauses, the queries and
_set, the one logical-memory update); the other parts are reached through self: pins.py
(_unbind), files.py (_mmap_kind, _follow, _unfollow, _follows, _own, _file_write,
_shared_at).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from spec.clauses import Violation


@dataclass(slots=True)
class Proc:
    """One process as the contract sees it: its logical memory, and what decides what
    a fork, a file write or a soft-dirty query gives it."""
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


class ProcessMemory:
    """Contract's handlers of the operations on processes and their memory."""

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
