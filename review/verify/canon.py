"""Canonical keys of explored states: equal keys mean "behaves the same from here on".

A state of the exploration is a spec.run.Session (kernel state + contract model)
plus the explorer's bookkeeping. The key keeps everything that can influence a
future step's result or violations, and renames the names nothing depends on:

- folio ids and swap slot ids: renumbered by first appearance in a fixed walk
  (processes, then PMD and PTE entries by address, then references in canonical
  order, then the remaining folios: those in the swap cache by the slot they cache,
  the others by id; then the remaining slots). The model allocates them from counters and uses them
  only as identities, so any injective renaming is behaviour-preserving.
- reference ids: dropped; references are listed in the order of what they are
  (kind, flags, folio, subpage, process, address; ties by id), so that renaming
  references gives the same key. The model uses reference ids as names only: it
  iterates references in insertion order and only sums or collects over them, and
  a new reference takes a free id, fresh whatever its name.
- references taken and unbound at step indices: only what the contract reads from
  the indices is kept, whether two references to one address were bound together.
- process ids: by default renumbered in increasing order, live processes first
  then exited ones that a reference still names (exited processes that nothing names
  are dropped: they are empty and no step may use them). This is sound as long as
  the model uses process ids only as identities and for its rmap-walk order (sorted
  ids), both of which an order-preserving renaming keeps. `full_symmetry` instead
  takes the least key over every order of the live processes; that is sound only if
  the outcome of every step is independent of the rmap-walk order, which
  `review.verify.search.audit` checks empirically (see docs/verify.md).
- VM_HUGEPAGE and VM_NOHUGEPAGE, when the bounds rule out every THP (small pages,
  fewer pages than a THP, no start trace: Keyer(thp_impossible=True), the condition
  of review/verify/por.py Footprints.fine). The model reads the two flags in two places
  only: thp_eligible (spec/ops/common.py), which needs a VMA on every page of an
  aligned block, and MADV_COLLAPSE (spec/ops/thp.py collapse), which needs a whole
  block inside its range. In such bounds no block ever has a VMA on every page (the
  setup maps pages 0..pages-1, the alphabet's mmap one page below that) and every
  MADV_COLLAPSE covers one page, so the flags never decide anything: states that
  differ only in them behave the same, and MADV_HUGEPAGE / MADV_NOHUGEPAGE still run
  (and are checked) but lead back to their state's key. The mTHP fault path reads
  VM_NOHUGEPAGE only in a range mmap gave an mTHP order (MTHP_ORDER1), which the
  alphabet's mmap never does. Decision points and patch overlays see no
  VM_HUGEPAGE/VM_NOHUGEPAGE (spec/decisions.py DecisionContext), so this holds under
  any rule set.
- values: every value held in the kernel (folio data, swap slot data, what the zero
  pages hold) is renumbered by first appearance in the canonical walk of folios and
  slots; zero stays zero.
- files: file ids (the kernel's and the contract's keys) are kept as they are: shared
  anonymous objects are numbered in mmap order, which a renaming could only merge
  more states by; the page cache is keyed by (file, index) with canonical folio
  numbers, and folios nothing maps or references by (slot, file, index) first.
  Values the kernel no longer holds anywhere can never be returned by a read or a
  dma_read again (the explorer writes only fresh values), and the contract compares
  values only with what the kernel returns, so all of them become one symbol (-1),
  and they are dropped from the sets of values a reference may show.

Left out of the key because nothing reads them but messages: the contract's
history and origin tables, the step indices at which references were taken or
unbound (beyond the overlap above), the kernel's step counter and decision log, and
the allocation counters (folio, slot, file and shared-object ids).
`check_schema()` fails loudly when the model grows a field this module does not
know, so that a new piece of state cannot silently be left out of the key.
"""
from __future__ import annotations

import marshal
from hashlib import blake2b
from itertools import permutations
from operator import attrgetter

from spec import kernel, state
from spec.contract import Contract
from spec.contract.memory import Proc
from spec.contract.pins import PinBinding
from spec.errors import StepError, TraceError
from spec.state import MIGRATION, PRESENT, SWAP, VM_HUGEPAGE, VM_NOHUGEPAGE, Folio, Pte, SwapSlot

GONE = -1  # a value the kernel no longer holds anywhere

# The fields of the model this module knows how to key (or knows to leave out).
KNOWN_FIELDS = {
    "State": {"mms", "folios", "slots", "refs", "next_folio", "next_slot", "used_mm_ids",
              "files", "pagecache", "next_file", "zero_data"},
    "Mm": {"id", "alive", "has_pinned", "vmas", "ptes", "pmds", "pte_tables", "files"},
    "Pte": {"kind", "folio", "subpage", "writable", "dirty", "soft_dirty", "slot",
            "swp_exclusive", "migration"},
    "Folio": {"id", "nr", "anon", "ksm", "swapcache", "refcount", "pincount", "data",
              "anon_exclusive", "mapcount", "entire_mapcount", "mapping", "index", "hugetlb",
              "writeback"},
    "SwapSlot": {"id", "count", "data", "folio"},
    "KRef": {"id", "pin", "write", "longterm", "folio", "subpage", "mm", "vpn", "fast",
             "slow_ok"},
    "Kernel": {"state", "rules", "outcomes", "assertion_failures", "stalled", "step_count", "has_ae",
               "check_assertions", "_ops", "_decide"},
    "Contract": {"procs", "exited", "history", "origin", "refs", "_bound", "_snapshot",
                 "files", "mappers", "next_shared", "file_bad", "_sharing"},
    "Proc": {"mem", "written", "dontfork", "wipeonfork", "pages", "readonly", "maybe",
             "sd_tracking", "sd_written", "sd_skip"},
    "CRef": {"id", "kind", "mm", "vpn", "write", "longterm", "taken", "coherent", "fresh",
             "bound", "unbound_at", "held", "device", "file", "foreign_ok", "sharers"},
    "Session": {"rules", "kernel", "contract", "check_invariants", "index"},
}


class SchemaError(RuntimeError):
    """The model has state this module does not key: the key would be unsound."""


def _slot_names(cls) -> list[str]:
    """The __slots__ of `cls` and of its bases."""
    return [n for k in cls.__mro__ for n in getattr(k, "__slots__", ())]


def _fields(cls) -> set[str]:
    fields = set(_slot_names(cls))
    if hasattr(cls, "__dataclass_fields__"):
        fields.update(cls.__dataclass_fields__)
    return fields


def check_schema(session=None) -> None:
    """Raise SchemaError when a model class has fields KNOWN_FIELDS lacks."""
    classes = {"State": state.State, "Mm": state.Mm, "Pte": state.Pte, "Folio": state.Folio,
               "SwapSlot": state.SwapSlot, "KRef": state.Ref, "Kernel": kernel.Kernel,
               "Contract": Contract, "Proc": Proc, "CRef": PinBinding}
    problems = []
    for name, cls in classes.items():
        extra = _fields(cls) - KNOWN_FIELDS[name]
        if extra:
            problems.append(f"{cls.__module__}.{cls.__qualname__}: {', '.join(sorted(extra))}")
    if session is not None:
        for name, obj in (("Session", session), ("Contract", session.contract)):
            extra = set(vars(obj)) - KNOWN_FIELDS[name] if hasattr(obj, "__dict__") else set()
            if extra:
                problems.append(f"{name} instance: {', '.join(sorted(extra))}")
    if problems:
        raise SchemaError("review/verify/canon.py does not key these model fields (the exploration "
                          "would be unsound): " + "; ".join(problems))


def apply(session, step):
    """Run `step` on `session`: (status, violations), or (None, ()) when the model
    cannot apply it at all (StepError / TraceError: e.g. an exited process)."""
    try:
        result, violations = session.step(step)
    except (StepError, TraceError):
        return None, ()
    return result.status, violations


class Keyer:
    """Computes keys. `digest` (default) stores a 128-bit BLAKE2b digest of the
    marshalled key instead of the key itself (hash compaction: 16 bytes a state; a
    collision, which would merge two different states, has probability about
    n^2 / 2^129 for n states, below 1e-20 at a billion states). Without it the key
    is the marshalled bytes themselves (exact; the audit uses it)."""

    def __init__(self, processes: int, full_symmetry: bool = False, digest: bool = True,
                 thp_impossible: bool = False):
        self.processes = processes
        self.full_symmetry = full_symmetry
        self.digest = digest
        # VMA flag bits left out of the key (see the module docstring)
        self.unread_vma_flags = VM_HUGEPAGE | VM_NOHUGEPAGE if thp_impossible else 0

    def key(self, session, driver):
        # marshal format 2: no back-references, so equal keys give equal bytes
        b = marshal.dumps(self.raw(session, driver), 2)
        if not self.digest:
            return b  # the whole key (the audit compares states by it)
        return blake2b(b, digest_size=16).digest()

    def raw(self, session, driver) -> list:
        """The key before hashing: a flat list of ints, bools and strings, ending with
        the forks the alphabet has left."""
        st = session.kernel.state
        c = session.contract
        mms = st.mms
        live = []
        for pid, m in mms.items():
            if m.alive:
                live.append(pid)
        if len(live) > 1:
            live.sort()
        dead = []  # exited processes a reference still names
        for refs in (st.refs, c.refs):
            for r in refs.values():
                pid = r.mm
                if pid not in live and pid not in dead:
                    dead.append(pid)
        if len(dead) > 1:
            dead.sort()
        forks_left = self.processes - driver[0]
        if self.full_symmetry and len(live) > 1:
            # the least over every order of the live processes, compared as bytes
            # (a total order on any two keys, whatever their layout)
            unread = self.unread_vma_flags
            out = [min(marshal.dumps(_key(st, c, list(order) + dead, unread), 2)
                       for order in permutations(live))]
        else:
            out = _key(st, c, live + dead, self.unread_vma_flags)
        out.append(forks_left)
        return out


def _key(st, c, order: list[int], unread_vma_flags: int = 0) -> list:
    """The key of (kernel state, contract) with processes named by their place in
    `order` and VMA flags without the bits `unread_vma_flags`: one flat list. Every
    variable-length part is preceded by its length and every entry's layout is fixed
    by values before it, so that two different states cannot give the same list (the
    list is injective in what it encodes, up to the unread flag bits)."""
    # The hot path of the exploration (one call per step that changed the state):
    # written for CPython speed (one output list, bound methods in locals, no sort of
    # 0- or 1-element collections). Each helper below runs once per key, never per
    # entry, so that the split costs a handful of calls a key.
    out = []
    fmap: dict[int, int] = {}   # folio id -> canonical number (first appearance)
    smap: dict[int, int] = {}   # slot id -> canonical number
    _address_spaces(out, st.mms, order, unread_vma_flags, fmap, smap)
    ids = _kernel_refs(out, st.refs, c.refs, order, fmap)
    vmap = _folios_and_slots(out, st.folios, st.slots, fmap, smap)
    _files(out, st, fmap, vmap)
    _contract(out, c, ids, order, vmap)
    return out


def _address_spaces(out: list, mms: dict, order: list[int], unread_vma_flags: int,
                    fmap: dict[int, int], smap: dict[int, int]) -> None:
    """Each process of `order`: its VMAs, PMD and PTE entries and page tables. Numbers
    the folios and slots the entries name by first appearance (fmap, smap)."""
    ap = out.append
    ext = out.extend
    fset = fmap.setdefault
    sset = smap.setdefault
    for pid in order:
        m = mms.get(pid)
        if m is None:
            ap(-1)
            continue
        vmas = m.vmas
        ext((len(vmas), m.alive, m.has_pinned))
        files = m.files
        ap(len(files))
        if files:
            ext(files.items() if len(files) < 2 else sorted(files.items()))
        if unread_vma_flags:
            kept = ~unread_vma_flags
            for vpn_flags in (vmas.items() if len(vmas) < 2 else sorted(vmas.items())):
                ext((vpn_flags[0], vpn_flags[1] & kept))
        else:
            ext(vmas.items() if len(vmas) < 2 else sorted(vmas.items()))  # (vpn, flags) pairs
        for table in (m.pmds, m.ptes):
            ap(len(table))
            if not table:
                continue
            for a in (table if len(table) < 2 else sorted(table)):
                p = table[a]
                kind = p.kind
                if kind == PRESENT:
                    f = p.folio
                    ext((a, kind, fset(f, len(fmap) + 1), p.subpage, p.writable, p.dirty,
                         p.soft_dirty))
                elif kind == MIGRATION:
                    f = p.folio
                    ext((a, kind, fset(f, len(fmap) + 1), p.subpage, p.migration))
                elif kind == SWAP:
                    sl = p.slot
                    ext((a, kind, sset(sl, len(smap) + 1), p.swp_exclusive, p.soft_dirty))
                else:
                    ap(a)
                    ap(kind)
        pt = m.pte_tables
        ap(len(pt))
        if pt:
            ext(pt if len(pt) < 2 else sorted(pt))


def _kernel_refs(out: list, krefs: dict, crefs: dict, order: list[int],
                 fmap: dict[int, int]) -> list:
    """The kernel's references, named by rank; numbers the folios only they hold.
    Returns the reference ids of kernel and contract (they share the id namespace) in
    canonical order."""
    if krefs.keys() == crefs.keys():
        ids = list(krefs) if len(krefs) < 2 else sorted(krefs)
    else:
        ids = sorted(set(krefs).union(crefs))
    if len(ids) > 1:
        # In the order of what they are (then of their ids: the sort is stable), so
        # that renaming references does not change the key: {r0: A, r1: B} and
        # {r0: B, r1: A} are one state. The model uses reference ids as names only.
        ids.sort(key=lambda rid: _ref_order(krefs.get(rid), crefs.get(rid), order, fmap))
    ap = out.append
    ext = out.extend
    fset = fmap.setdefault
    ap(len(ids))
    for rid in ids:
        r = krefs.get(rid)
        if r is None:
            ap(False)
            continue
        f = r.folio
        pid = r.mm
        ext((True, r.pin, r.write, r.longterm, fset(f, len(fmap) + 1) if f else 0, r.subpage,
             order.index(pid) if pid in order else -1, r.vpn, r.fast, r.slow_ok))
    return ids


def _folios_and_slots(out: list, folios: dict, slots: dict, fmap: dict[int, int],
                      smap: dict[int, int]) -> dict:
    """The folios and swap slots, in canonical order: first those the walk so far
    named, then the rest (numbered here). Returns the renumbering of the values they
    hold (value -> canonical number by first appearance; zero stays zero)."""
    if not fmap.keys() >= folios.keys():
        # Folios nothing maps or references: those in the swap cache in the order of
        # the slot they cache (slots named by swap entries are numbered by the walk
        # above), the rest in id order. Not by id alone: two folios swapped in by the
        # other process's faults in either order are the same state, and their ids
        # say only which fault came first (found by the sleep-set reduction, which
        # explores one of the two orders: review/verify/por.py).
        rest = [fid for fid in folios if fid not in fmap]
        if len(rest) > 1:
            # a page-cache folio by its place in its file, whichever fault created it
            unnamed = len(smap) + 1
            rest.sort(key=lambda fid: (smap.get(folios[fid].swapcache, unnamed),
                                       folios[fid].mapping, folios[fid].index, fid))
        for fid in rest:
            fmap[fid] = len(fmap) + 1
    # canonical folio order (fmap is in first-appearance order; it may also hold the
    # ids of freed folios that an entry still names), then the slots they cache, then
    # the remaining slots
    forder = list(fmap) if len(fmap) == len(folios) else [fid for fid in fmap if fid in folios]
    if slots:
        sset = smap.setdefault
        for fid in forder:
            sc = folios[fid].swapcache
            if sc:
                sset(sc, len(smap) + 1)
        for sid in (slots if len(slots) < 2 else sorted(slots)):
            sset(sid, len(smap) + 1)

    ap = out.append
    ext = out.extend
    vmap = {0: 0}
    vset = vmap.setdefault
    ap(len(forder))
    for fid in forder:
        f = folios[fid]
        sc = f.swapcache
        ext((fmap[fid], f.nr, f.anon, f.ksm, smap.get(sc, -1) if sc else 0, f.refcount,
             f.pincount, f.entire_mapcount, f.mapping, f.index, f.hugetlb, f.writeback))
        for d in f.data:
            ap(vset(d, len(vmap)))
        ext(f.anon_exclusive)
        ext(f.mapcount)  # nr entries each: f.nr above fixes the layout
    if slots:
        ap(len(slots))
        for sid in smap:  # first-appearance order
            sl = slots.get(sid)
            if sl is None:
                continue
            f = sl.folio
            ext((smap[sid], sl.count, vset(sl.data, len(vmap)), fmap.get(f, -1) if f else 0))
    else:
        ap(0)
    return vmap


def _files(out: list, st, fmap: dict[int, int], vmap: dict) -> None:
    """The files' kinds, the page cache by (file, index) -> canonical folio number,
    and what the zero pages hold."""
    ap = out.append
    ext = out.extend
    files, cache = st.files, st.pagecache
    ap(len(files))
    if files:
        ext(sorted(files.items()))
    ap(len(cache))
    if cache:
        ext((at, fmap.get(fid, -1)) for at, fid in sorted(cache.items()))
    vset = vmap.setdefault
    for d in st.zero_data:
        ap(vset(d, len(vmap)))


def _contract(out: list, c, ids: list, order: list[int], vmap: dict) -> None:
    """The contract in the kernel's process, reference and value names: its processes,
    its references with the values they may show, then which pairs of references were
    bound at one time."""
    ap = out.append
    ext = out.extend
    vget = vmap.get
    procs = c.procs
    for pid in order:
        p = procs.get(pid)
        if p is None:
            ap(-1)
            continue
        mem = p.mem
        ap(len(mem))
        for v, x in (mem.items() if len(mem) < 2 else sorted(mem.items())):
            ap(v)
            ap(vget(x, GONE))
        for s in (p.written, p.dontfork, p.wipeonfork, p.readonly, p.sd_written, p.sd_skip):
            if s:
                ap(len(s))
                ext(s if len(s) < 2 else sorted(s))
            else:
                ap(0)
        ap(p.sd_tracking)
        pages, maybe = p.pages, p.maybe
        ap(len(pages))
        if pages:
            ext(sorted(pages.items()))
        ap(len(maybe))
        for v, xs in sorted(maybe.items()):
            ap(v)
            vs = sorted(map(vget, xs & vmap.keys()))
            ap(len(vs))
            ext(vs)
    _contract_files(out, c, order, vmap)
    crefs = c.refs
    vkeys = vmap.keys()
    for rid in ids:
        r = crefs.get(rid)
        if r is None:
            ap(False)
            continue
        pid = r.mm
        ext((True, r.kind, order.index(pid) if pid in order else -1, r.vpn, r.write, r.longterm,
             r.coherent, r.fresh, r.bound, r.file, r.foreign_ok))
        # a R/W FOLL_GET reference's sharers (Contract._sharing lists exactly the
        # references that have them: derived)
        if r.sharers is None:
            ap(None)
        else:
            who = sorted((order.index(m) if m in order else -1, v) for m, v in r.sharers)
            ap(len(who))
            ext(who)
        for vs in (r.held, r.device):
            if vs:
                vs = sorted(map(vget, vs & vkeys))  # values the kernel no longer holds: dropped
                ap(len(vs))
                ext(vs)
            else:
                ap(0)
    if len(crefs) > 1:
        # Whether two references to one address were ever bound at the same time: a
        # device write through one is then the other's to see (Contract._dma_write,
        # _overlap). Fixed once both exist: a reference taken later overlaps exactly
        # the ones still bound, and those the current state says.
        refs = [crefs[rid] for rid in ids if rid in crefs]
        for i, a in enumerate(refs):
            for b in refs[i + 1:]:
                if a.mm == b.mm and a.vpn == b.vpn:
                    ap(_overlap(a, b))


def _contract_files(out: list, c, order: list[int], vmap: dict) -> None:
    """The contract's files: each one's logical content (values in kernel names), who
    maps each page, and the disagreements already reported. Keys are the contract's
    own ("file", "shmem", ("shared", n)), ordered by repr."""
    ap = out.append
    ext = out.extend
    vget = vmap.get
    files = c.files
    ap(len(files))
    for key in sorted(files, key=repr):
        content = files[key]
        ap(key)
        ap(len(content))
        for i, x in sorted(content.items()):
            ext((i, vget(x, GONE)))
    mappers = c.mappers
    ap(len(mappers))
    for at in sorted(mappers, key=repr):
        who = sorted((order.index(pid) if pid in order else -1, vpn) for pid, vpn in mappers[at])
        ap(at)
        ap(len(who))
        ext(who)
    ap(len(c.file_bad))
    if c.file_bad:
        ext(sorted(c.file_bad))


def _ref_order(kref, cref, order: list[int], fmap: dict[int, int]) -> tuple:
    """What a reference is, without its id or anything numbered after the references
    (a folio only a reference holds: -2), for ordering references canonically."""
    k = (0,)
    if kref is not None:
        f, pid = kref.folio, kref.mm
        k = (1, kref.pin, kref.write, kref.longterm, fmap.get(f, -2) if f else 0, kref.subpage,
             order.index(pid) if pid in order else -1, kref.vpn, kref.fast, kref.slow_ok)
    if cref is None:
        return k + (0,)
    pid = cref.mm
    return k + (1, cref.kind, order.index(pid) if pid in order else -1, cref.vpn, cref.write,
                cref.longterm, cref.coherent, cref.fresh, cref.bound, repr(cref.file),
                cref.foreign_ok)


def _overlap(a, b) -> bool:
    """spec.contract.pins._overlap: were both bound at some moment ([taken, unbound_at))."""
    a_end = None if a.bound else a.unbound_at
    b_end = None if b.bound else b.unbound_at
    return (b_end is None or a.taken < b_end) and (a_end is None or b.taken < a_end)


def field_getter(cls):
    """A function giving the tuple of every slot of an object of `cls` (its own and
    its bases'): two objects with equal tuples are equal field by field."""
    return attrgetter(*_slot_names(cls))


_pte_fields = field_getter(Pte)
_folio_fields = field_getter(Folio)
_slot_fields = field_getter(SwapSlot)


IDENTICAL = 1            # unchanged(): every keyed field equal, raw ids included
UP_TO_UNREAD_FLAGS = 2   # unchanged(): equal but for VMA flag bits the key leaves out


def unchanged(before, after, unread_vma_flags: int = 0) -> int:
    """IDENTICAL when `after` (a session one step past `before`) holds exactly the
    state `before` holds in every field the key reads: a cheap exit for the many steps
    that change nothing (refused, failed, or no-op). Compares raw ids, so it never
    says so for two states that merely have the same key. With `unread_vma_flags`
    (Keyer.unread_vma_flags), UP_TO_UNREAD_FLAGS when the only difference is in those
    VMA flag bits: the same key, not the same state. 0 (false) otherwise."""
    # Equal sizes and every key of one found in the other: the same key sets.
    a, b = before.kernel.state, after.kernel.state
    fa, fb = a.folios, b.folios
    if len(fa) != len(fb):
        return False
    ff = _folio_fields
    get = fb.get
    for fid, f in fa.items():
        g = get(fid)
        if g is None or ff(f) != ff(g):
            return False
    ca, cb = before.contract, after.contract
    if ca.procs != cb.procs or ca.refs != cb.refs or a.refs != b.refs:
        return False
    if (a.zero_data != b.zero_data or a.pagecache != b.pagecache or a.files != b.files
            or ca.files != cb.files or ca.mappers != cb.mappers or ca.file_bad != cb.file_bad):
        return False
    ma, mb = a.mms, b.mms
    if len(ma) != len(mb):
        return False
    pf = _pte_fields
    same = IDENTICAL
    for pid, m in ma.items():
        n = mb.get(pid)
        if (n is None or m.alive != n.alive or m.has_pinned != n.has_pinned
                or m.pte_tables != n.pte_tables or m.files != n.files):
            return False
        if m.vmas != n.vmas:
            if not unread_vma_flags or not _equal_but(m.vmas, n.vmas, unread_vma_flags):
                return False
            same = UP_TO_UNREAD_FLAGS
        for ta, tb in ((m.ptes, n.ptes), (m.pmds, n.pmds)):
            if len(ta) != len(tb):
                return False
            if ta:
                get = tb.get
                for v, p in ta.items():
                    q = get(v)
                    if q is None or pf(p) != pf(q):
                        return False
    sa, sb = a.slots, b.slots
    if len(sa) != len(sb):
        return False
    if sa:
        sf = _slot_fields
        get = sb.get
        for sid, x in sa.items():
            y = get(sid)
            if y is None or sf(x) != sf(y):
                return False
    return same if ca.exited == cb.exited else False


def _equal_but(vmas_a: dict, vmas_b: dict, bits: int) -> bool:
    """Two processes' VMA flags equal page by page once `bits` are cleared."""
    if vmas_a.keys() != vmas_b.keys():
        return False
    kept = ~bits
    return all(flags & kept == vmas_b[vpn] & kept for vpn, flags in vmas_a.items())
