"""The contract's handlers for FOLL_PIN pins and FOLL_GET references: pin, get, unpin,
put, dma_read, dma_write, and PinBinding, the contract's view of one of them.

A reference is bound to (holder, vpn) until the holder itself changes that mapping
(_unbind, called by the other parts); while bound it collects the values its holder
held there (Contract._set). Part of Contract (spec/contract/__init__.py: the state, the
clauses, the queries); files.py is reached through self (_own, _follows, _file_write,
_shared_at).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from spec.clauses import Violation


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


class PinBindings:
    """Contract's handlers of the operations on pins and references."""

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


def _overlap(a: PinBinding, b: PinBinding) -> bool:
    """Were both bound at some moment? (a window is [taken, unbound_at))"""
    a_end = a.unbound_at if not a.bound else None
    b_end = b.unbound_at if not b.bound else None
    return (b_end is None or a.taken < b_end) and (a_end is None or b.taken < a_end)
