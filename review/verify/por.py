"""Partial-order reduction for `mmreview verify`: sleep sets over step footprints.

Breadth-first search applies every step of the alphabet to every state, and most of
those steps lead to a state seen already. A large share of them close a "diamond":
two steps that touch disjoint parts of the state (a flag flip on page 0 and a write to
page 1, say) reach the same state in either order, and the search pays for both orders.
Sleep sets (P. Godefroid, "Partial-Order Methods for the Verification of Concurrent
Systems", LNCS 1032, 1996, ch. 5) skip the second order without losing any state:

    a state s reached by step a carries a sleep set Z(s): steps known to lead, from s,
    only to states the search reaches anyway by a path of the same length;
    expanding s skips every step in Z(s); the child s.t gets
        Z(s.t) = { b in Z(s) or explored at s before t : b independent of t at s }.

Independence is decided by footprints (`Footprints.access` below): the pieces of the
model a step may read and those it may write, computed from the state before the step.
Two steps of which neither writes what the other reads or writes commute (either order
gives the same kernel state and contract state, up to the canonical renaming of
review/verify/canon.py: fresh folio ids, slot ids and values are allocated in a different
order), and each one's result and violations are the same before and after the other.
So a violation on a skipped step shows, at the same length or one step shorter, on the
order the search did take: the shortest trace per clause is unchanged.

The footprint is the part that needs kernel knowledge, and where an error would make
the search unsound (a state never reached). It is deliberately coarse, and the suite
checks it three ways (tests/review/verify/test_por.py): the reduced search finds the
plain search's distinct states at every depth and the same shortest finding per
clause (every preset, small pages and THP, 1 and 2 pins, 2 and 3 processes);
review/verify/por_check.py compares what every step changes with its footprint's
writes, and applies independent pairs in both orders in sampled states (both are
shown to catch footprints that are wrong on purpose). A same-level revisit
intersects the sleep sets (the states of a level are all found before any is
expanded); a state revisited at a later level keeps the sleep set it was expanded with,
which is sound because every step it skipped reaches its state at the same depth by
the commuted path.

Pieces (tokens) of the model:
    ("p", mm, unit)   a process's page: whether it is mapped, its PTE (or the PMD of its
                      block), the contract's logical value there, and the references
                      bound there. unit is the vpn when no THP can ever exist in the
                      bounds (small pages, fewer pages than a THP: the block never gets a
                      VMA on every page, so thp_eligible is false whatever happens and
                      the PMD stays none), else the block (vpn // HPAGE_NR): then a fault
                      on one page may map a THP over the others.
    ("v", mm, unit, flag)  one VMA flag of the page, by what reads it: "write"
                      (VM_WRITE), "huge" (VM_HUGEPAGE/VM_NOHUGEPAGE), "merge"
                      (VM_MERGEABLE), "dontfork" (VM_DONTCOPY and the contract's dontfork),
                      "wipe" (VM_WIPEONFORK and the contract's wipeonfork)
    ("b", mm, block)  the block's page-table bookkeeping (Mm.pte_tables): steps that
                      add or remove VMAs (mmap, munmap, exit) may free the page table
                      depending on the other pages' VMAs. Installing a PTE adds the
                      block idempotently and only on a page with a VMA, so it commutes
                      with those.
    ("m", mm)         per-process state: MMF_HAS_PINNED (set by pin, read by fork),
                      liveness (exit), the driver's process set
    ("f", folio)      a folio mapped at the page (PTE, PMD or migration entry) or held
                      by a reference: refcount, mapcount, pincount, data,
                      PG_anon_exclusive, KSM, swap cache. Every other mapper of the
                      folio has the same token, so rmap walks (swapout, migration,
                      KSM, split) conflict with every step on any page mapping it.
    ("s", slot)       a swap slot named by a swap PTE (or the folio's swap cache)
    ("ref", id)       one reference (kernel and contract)
    ("r",)            the reference namespace: taking or dropping a reference changes
                      which id the next one takes and how many may be taken; binding
                      and unbinding order (the contract's overlap relation) is keyed,
                      so unbinding steps on a page with bound references take it too
    ("fork",)         the next process id
"""
from __future__ import annotations

from spec.state import HPAGE_NR, MIGRATION, PRESENT, SWAP, VM_MERGEABLE

REF_NAMESPACE = ("r",)
FORK = ("fork",)

# steps that may remove the references bound at their page (contract: _unbind)
_UNBINDING = frozenset({"munmap", "mmap", "exit"})
_UNBINDING_ADVICE = frozenset({"dontneed"})
# steps that add or remove VMAs: the block's page table may be freed or kept
_VMA_PRESENCE = frozenset({"munmap", "mmap", "exit"})


class Footprints:
    """For one search's bounds: footprint(session, step JSON) -> every token the step
    may touch; access(session, step JSON) -> (tokens it may read, tokens it may write)."""

    def __init__(self, pages: int, thp: bool, started: bool):
        # fine (per-page) units always when no block can ever hold a THP; with a THP,
        # per page in a state where the block has a page table and no PMD (see
        # `per_page`). A --from trace may have mapped anything: whole blocks always.
        self.fine = not thp and not started and pages < HPAGE_NR
        self.split_blocks = thp and not started
        self.pages = pages

    def per_page(self, session, mm: int, vpn: int) -> bool:
        """Whether (mm, vpn) is its own unit in this state. Always with small pages in
        less than a block. With a THP, when the block has a page table and no PMD:
        then thp_eligible is false (spec/ops/common.py: a page table exists), so no
        fault on one page maps a THP over the others, and only steps that free the
        page table (munmap, mmap, exit: the block token) or install a PMD (collapse,
        which reads the whole block) change that; the pages of a THP still mapped by
        PTEs share its folio token."""
        if self.fine:
            return True
        if not self.split_blocks:
            return False
        m = session.kernel.state.mms.get(mm)
        block = vpn // HPAGE_NR
        return m is not None and block in m.pte_tables and block not in m.pmds

    def _page(self, out: set, session, mm: int, vpn: int) -> None:
        """The page's tokens and those of every folio and slot its entries name."""
        per_page = self.per_page(session, mm, vpn)
        unit = vpn if per_page else ("block", vpn // HPAGE_NR)
        out.add(("p", mm, unit))
        for flag in _VMA_FLAG_ASPECTS:
            out.add(("v", mm, unit, flag))
        st = session.kernel.state
        m = st.mms.get(mm)
        if m is None:
            return
        if per_page:
            entries = [m.ptes.get(vpn)]
        else:
            block = vpn // HPAGE_NR
            base = block * HPAGE_NR
            entries = [m.pmds.get(block)] + [m.ptes.get(v) for v in range(base, base + HPAGE_NR)]
        for p in entries:
            if p is None:
                continue
            kind = p.kind
            if kind == PRESENT or kind == MIGRATION:
                self._folio(out, st, p.folio)
            elif kind == SWAP:
                out.add(("s", p.slot))
                slot = st.slots.get(p.slot)
                if slot is not None and slot.folio:
                    self._folio(out, st, slot.folio)

    @staticmethod
    def _folio(out: set, st, fid: int) -> None:
        out.add(("f", fid))
        f = st.folios.get(fid)
        if f is not None and f.swapcache:
            out.add(("s", f.swapcache))

    def _bound_at(self, session, mm: int, vpns) -> bool:
        bound = session.contract._bound
        return bool(bound) and any(bound.get((mm, v)) for v in vpns)

    def footprint(self, session, obj: dict) -> frozenset:
        op = obj["op"]
        out: set = set()
        if "id" in obj:  # pin/get (a new reference) or an op on a held one
            rid = obj["id"]
            out.add(("ref", rid))
            if op in ("pin", "get"):
                out.add(REF_NAMESPACE)
                out.add(("m", obj["mm"]))
                self._page(out, session, obj["mm"], obj["vpn"])
                return frozenset(out)
            if op in ("unpin", "put"):
                out.add(REF_NAMESPACE)
            kref = session.kernel.state.refs.get(rid)
            if kref is not None and kref.folio:
                self._folio(out, session.kernel.state, kref.folio)
            cref = session.contract.refs.get(rid)
            for r in (kref, cref):
                if r is not None:
                    self._page(out, session, r.mm, r.vpn)
            return frozenset(out)
        mm = obj["mm"]
        if op in ("fork", "exit"):
            out.add(("m", mm))
            for vpn in range(self.pages):
                self._page(out, session, mm, vpn)
            # every page the process maps, also beyond the alphabet's vpns (--from)
            m = session.kernel.state.mms.get(mm)
            if m is not None:
                for vpn in set(m.vmas) | set(m.ptes) | {b * HPAGE_NR for b in m.pmds}:
                    self._page(out, session, mm, vpn)
            if op == "fork":
                out.add(FORK)
                out.add(("m", obj["child"]))
                return frozenset(out)
            out.update(("b", mm, b) for b in {v // HPAGE_NR for v in range(self.pages)})
            if session.contract._bound:
                out.add(REF_NAMESPACE)
            return frozenset(out)
        vpn = obj["vpn"]
        npages = obj.get("npages", 1)
        vpns = range(vpn, vpn + npages)
        for v in vpns:
            self._page(out, session, mm, v)
        if op == "ksm_merge":
            self._page(out, session, obj["mm2"], obj["vpn2"])
        if op in _VMA_PRESENCE:
            out.update(("b", mm, v // HPAGE_NR) for v in vpns)
        if (op in _UNBINDING or (op == "madvise" and obj["advice"] in _UNBINDING_ADVICE)) \
                and self._bound_at(session, mm, vpns):
            out.add(REF_NAMESPACE)
        return frozenset(out)

    def access(self, session, obj: dict) -> tuple[frozenset, frozenset]:
        """(tokens the step may read, tokens it may write). Two steps are independent
        when neither writes what the other reads or writes. Most steps get their whole
        footprint both ways; where the page is its own unit (`per_page`), two kinds
        are narrower, because the spec decides them from the page alone:
          - a madvise that only flips VMA flags (hugepage, nohugepage, mergeable,
            dontfork, dofork, wipeonfork: spec/ops/madvise.py _FLAGS but unmergeable,
            which breaks KSM pages) reads whether the page is mapped and writes its
            flags (and the contract's dontfork/wipeonfork there);
          - a step the spec refuses at once, from the entry alone, reads the page and
            what its entry names (folio, slot: an rmap walk from another process
            changes the entry through them) and writes nothing: swapout/migrate of a
            page with no present PTE (on_mapped_folio), swapin of a page without a
            swap entry (op_swapin), MADV_PAGEOUT of a page with no present PTE
            (pageout_range), MADV_COLLAPSE of one small page (a range shorter than a
            THP: EINVAL or ENOMEM), and ksm_merge when either VMA is not
            VM_MERGEABLE (op_ksm_merge)."""
        narrow = self._narrow(session, obj) if self.fine or self.split_blocks else None
        if narrow is not None:
            return narrow
        fp = self.footprint(session, obj)
        return fp, fp

    def _narrow(self, session, obj: dict):
        op = obj["op"]
        if op not in _NARROW_OPS or obj.get("npages", 1) != 1:
            return None
        mm, vpn = obj["mm"], obj["vpn"]
        m = session.kernel.state.mms.get(mm)
        if m is None or not self.per_page(session, mm, vpn):
            return None
        page = ("p", mm, vpn)
        if op == "madvise":
            advice = obj["advice"]
            flag = _FLAG_ADVICE.get(advice)
            if flag is not None:
                return frozenset((page,)), frozenset((("v", mm, vpn, flag),))
            if advice == "unmergeable":
                # clears VM_MERGEABLE; breaks a KSM page mapped there (unmerge_range)
                reads: set = set()
                self._page(reads, session, mm, vpn)
                entry = m.ptes.get(vpn)
                if entry is not None and entry.kind == PRESENT:
                    folio = session.kernel.state.folios.get(entry.folio)
                    if folio is None or folio.ksm:
                        return None
                return frozenset(reads), frozenset((("v", mm, vpn, "merge"),))
            if advice == "collapse":
                return frozenset((page,)), _NOTHING
            if advice != "pageout":
                return None
        if op == "ksm_merge":
            other = (obj["mm2"], obj["vpn2"])
            m2 = session.kernel.state.mms.get(other[0])
            if m2 is None or not self.per_page(session, *other) or (
                    m.vmas.get(vpn, 0) & VM_MERGEABLE and m2.vmas.get(other[1], 0) & VM_MERGEABLE):
                return None
            return frozenset((page, ("v", mm, vpn, "merge"), ("p", *other),
                              ("v", *other, "merge"))), _NOTHING
        pte = m.ptes.get(vpn) if vpn in m.vmas else None
        wanted = SWAP if op == "swapin" else PRESENT
        if pte is None or pte.kind != wanted:
            # it reads the entry, which an rmap walk from another process can change
            # (swap-out or migration of a folio mapped here too): the folio and slot
            # tokens of the entry are read as well
            reads = set()
            self._page(reads, session, mm, vpn)
            reads.difference_update(("v", mm, vpn, flag) for flag in _VMA_FLAG_ASPECTS)
            return frozenset(reads), _NOTHING
        return None


_NOTHING: frozenset = frozenset()
_NARROW_OPS = frozenset({"madvise", "swapout", "migrate", "swapin", "ksm_merge"})
# VMA flags by what reads them: VM_WRITE (faults, mprotect), VM_HUGEPAGE/VM_NOHUGEPAGE
# (thp_eligible), VM_MERGEABLE (ksm_merge), VM_DONTCOPY and VM_WIPEONFORK (fork; the
# contract's dontfork/wipeonfork sets go with them)
_VMA_FLAG_ASPECTS = ("write", "huge", "merge", "dontfork", "wipe")
_FLAG_ADVICE = {"hugepage": "huge", "nohugepage": "huge", "mergeable": "merge",
                "dontfork": "dontfork", "dofork": "dontfork", "wipeonfork": "wipe"}


def dependent(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether two steps, given as (read mask, write mask), may not commute."""
    return bool(a[1] & (b[0] | b[1]) or b[1] & (a[0] | a[1]))


def ident(obj: dict) -> tuple:
    """A step's identity for sleep sets: everything but the value it writes (the explorer
    writes a fresh value each time, and the canonical key renames values, so a write of
    value 7 here and of value 8 after an independent write are one step)."""
    return tuple(item for item in obj.items() if item[0] != "value")


def footprint_masks(footprints: Footprints, session, objs, *more_sessions) -> list:
    """Each step's (read mask, write mask): Footprints.access as bit masks (bits
    numbered per call: masks are only compared within one state), so that
    independence is two ANDs (`dependent`). With more sessions (the pre-image beside
    the post-image in review/check/explore.py), the union over all of them:
    independent only where it is independent in every one."""
    bits: dict = {}

    def mask(tokens) -> int:
        m = 0
        for token in tokens:
            bit = bits.get(token)
            if bit is None:
                bit = bits[token] = 1 << len(bits)
            m |= bit
        return m

    out = []
    for obj in objs:
        reads, writes = footprints.access(session, obj)
        for other in more_sessions:
            r, w = footprints.access(other, obj)
            reads, writes = reads | r, writes | w
        out.append((mask(reads), mask(writes)))
    return out


def children_sleep(bits: list[int], masks: list[tuple[int, int]], sleep: int,
                   explored: list) -> list:
    """The sleep set of each child of a state (a bit set), or None for a step that
    reached no new state. `bits[i]`, `masks[i]`: the sleep-set bit and the (read,
    write) footprint masks of the state's alphabet entry i; `sleep`: the state's own
    sleep set; `explored`: (entry index, changed the state) for each step explored
    there, in order.

    A child s.t sleeps on the state's sleep set and the steps explored before t, those
    independent of t (Godefroid's rule), and also on every step that changed nothing
    at s, whatever its place in the order: independent of t, it still changes nothing
    after t and breaks the same clauses (already reported at s, one step earlier)."""
    here = 0
    for b in bits:
        here |= b
    candidates = sleep & here   # a sleeping step no longer in the alphabet wakes up
    for i, changed in explored:
        if not changed:
            candidates |= bits[i]
    independent: dict = {}  # (read, write) masks -> bits of the steps independent of them
    out: list = []
    for i, changed in explored:
        if changed:
            mine = masks[i]
            ind = independent.get(mine)
            if ind is None:
                ind = 0
                r, w = mine
                for b, (rb, wb) in zip(bits, masks):
                    if not (w & (rb | wb) or wb & (r | w)):
                        ind |= b
                independent[mine] = ind
            out.append(candidates & ind & ~bits[i])
        else:
            out.append(None)
        candidates |= bits[i]  # explored before the ones that follow
    return out
