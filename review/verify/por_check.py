"""Checks of the footprints that review/verify/por.py's sleep sets rely on.

The footprints are written beside the model, not derived from it, so they are checked
against it, two ways, in the states a breadth-first walk reaches:

- `check_writes`: every step of the alphabet, in every state up to a depth, changes
  only pieces its footprint says it may write. The change is read off the model by
  comparing the state before and after the step, field by field, and each changed
  field is mapped to the token that names it (the map is `_changes` below, one line
  per field of the model). This is exhaustive within the bounds, and it is about
  writes only: what a step reads cannot be seen from outside it.
- `check_independence`: in sampled states, every pair of steps the footprints call
  independent is applied in both orders; both orders must reach one state and each
  step must return the same status and break the same clauses before and after the
  other. This covers reads too (a step that reads what the other writes behaves
  differently after it), but only in the sampled states.

Both return (how many were checked, problems described); the suite runs them on small
bounds and shows each catching footprints that are wrong on purpose
(tests/review/verify/test_por.py); larger runs: `python -m review.verify.por_check`.
"""
from __future__ import annotations

import argparse
import dataclasses
import time

from spec import invariants
from spec.presets import PRESETS
from spec.state import FILE_KINDS, HPAGE_NR, MIGRATION, MTHP_ORDER1, PRESENT, SWAP, \
    VM_DONTCOPY, VM_HUGEPAGE, VM_HUGETLB, VM_MERGEABLE, VM_NOHUGEPAGE, VM_READ, VM_SHARED, \
    VM_SOFTDIRTY, VM_WIPEONFORK, VM_WRITE

from review.verify import canon
from review.verify.model import Bounds, SpecModel, driver_after, sync_driver
from review.verify.por import FORK, NEW_FILES, REF_NAMESPACE, ZERO_PAGES, dependent, \
    footprint_masks, ident

# VMA flag bits by the footprint aspect that names them (por._VMA_FLAG_ASPECTS)
_FLAG_ASPECT = ((VM_READ | VM_WRITE, "write"), (VM_HUGEPAGE | VM_NOHUGEPAGE, "huge"),
                (VM_MERGEABLE, "merge"), (VM_DONTCOPY, "dontfork"), (VM_WIPEONFORK, "wipe"),
                (VM_SOFTDIRTY, "softdirty"), (VM_SHARED | VM_HUGETLB | MTHP_ORDER1, "kind"))


def _levels(model, depth: int) -> list[list]:
    """The distinct states of each level of a breadth-first walk (exact keys)."""
    root, _, _ = model.initial()
    seen = {model.key(root)}
    levels = [[root]]
    for _depth in range(depth):
        nxt = []
        for state in levels[-1]:
            for _obj, child, _v in model.successors(state):
                if child is None:
                    continue
                k = model.key(child)
                if k not in seen:
                    seen.add(k)
                    nxt.append(child)
        levels.append(nxt)
    return levels


# --- independence -------------------------------------------------------------------

def check_independence(rules, bounds, *, states: int = 20,
                       pairs: int = 400) -> tuple[int, list[str]]:
    """Check empirically what the reduction assumes of two steps a, b with disjoint
    footprints in a state s: both orders reach one state (equal exact canonical keys,
    review/verify/canon.py without hashing), and each step returns the same status and breaks
    the same clauses before and after the other. The `states` sampled come from a
    breadth-first walk to bounds.depth (the root excluded): half those with the most
    sharing (live processes, references, folios mapped twice, swap slots: where a
    too-fine footprint shows), half spread evenly; at most `pairs` pairs per state.
    Returns (pairs checked, problems described)."""
    model = SpecModel(rules, bounds, digest=False, fast_same=False)
    levels = _levels(model, bounds.depth)
    candidates = [s for level in levels[1:] for s in level]
    # half the most shared (stable sort: BFS order among equals), half spread evenly
    shared = sorted(range(len(candidates)), key=lambda i: -_sharing(candidates[i][0]))
    picked = shared[: states // 2]
    rest = states - len(picked)
    taken = set(picked)
    spread = [i for i in range(0, len(candidates), max(1, len(candidates) // max(rest, 1)))
              if i not in taken]
    sample = [candidates[i] for i in picked + spread[:rest]]

    def run(state, obj):
        """(status, clause ids, child state) of the step with obj's identity."""
        session, driver = state
        driver = sync_driver(session, driver)
        me = ident(obj)
        for (step, o, driver_ok), i in zip(model.alphabet(driver), model.idents(driver)):
            if i == me:
                child = session.clone()
                status, violations = canon.apply(child, step)
                found = sorted({v.id for v in violations} |
                               {v.id for v in invariants.check(child.kernel, 0)})
                d = driver_ok if status == "ok" else driver_after(o, status, driver, driver_ok)
                return status, found, (child, d)
        return None

    checked, problems = 0, []
    for state in sample:
        session, driver = state
        objs = [o for _s, o, _a in model.alphabet(sync_driver(session, driver))]
        masks = footprint_masks(model.footprints, session, objs)
        n = 0
        for i, a in enumerate(objs):
            for j in range(i + 1, len(objs)):
                if dependent(masks[i], masks[j]) or n >= pairs:
                    continue
                b = objs[j]
                n += 1
                ra, rb = run(state, a), run(state, b)
                if ra is None or rb is None or ra[0] is None or rb[0] is None:
                    continue
                rab, rba = run(ra[2], b), run(rb[2], a)
                checked += 1
                what = f"{ident(a)} and {ident(b)}"
                if rab is None or rba is None:
                    problems.append(f"{what}: one is not enabled after the other")
                    continue
                if rab[:2] != rb[:2] or rba[:2] != ra[:2]:
                    problems.append(f"{what}: a step's result or clauses change after the other")
                elif model.key(rab[2]) != model.key(rba[2]):
                    problems.append(f"{what}: the two orders reach different states")
    return checked, problems


def _sharing(session) -> int:
    """How much a state shares between processes and references (sampling order)."""
    st = session.kernel.state
    live = sum(1 for m in st.mms.values() if m.alive)
    shared = sum(1 for f in st.folios.values() if f.folio_mapcount() > 1)
    return (live > 1) + bool(st.refs) + bool(shared) + bool(st.slots) + len(st.refs) + shared


# --- writes ---------------------------------------------------------------------------

def check_writes(rules, bounds, *, max_problems: int = 20) -> tuple[int, list[str]]:
    """Apply every step of the alphabet in every distinct state of depth below
    bounds.depth and compare what it changed with the tokens its footprint writes
    (Footprints.access). Returns (steps checked, problems: step, state depth, the
    changed field and the tokens any of which would have covered it)."""
    model = SpecModel(rules, bounds, digest=False, fast_same=False)
    fp = model.footprints
    checked, problems = 0, []
    for depth, level in enumerate(_levels(model, bounds.depth - 1)):
        for state in level:
            session = state[0]
            for obj, status, child, _v in model.transitions(state):
                if status is None:
                    continue  # the model could not apply it: no child
                checked += 1
                writes = fp.access(session, obj)[1]
                for what, covering in _changes(fp, session, child[0]):
                    if covering.isdisjoint(writes):
                        problems.append(f"{ident(obj)} at depth {depth}: changes {what}, "
                                        f"which its footprint does not write (any of "
                                        f"{sorted(covering, key=repr)})")
                        if len(problems) >= max_problems:
                            return checked, problems
    return checked, problems


def _unit(fp, session, mm: int, vpn: int):
    """The page token's unit for (mm, vpn) in the state before the step."""
    return vpn if fp.per_page(session, mm, vpn) else ("block", vpn // HPAGE_NR)


_getters: dict = {}


def _same(a, b) -> bool:
    """Every field (slots) of two model objects of one class equal."""
    get = _getters.get(type(a))
    if get is None:
        get = _getters[type(a)] = canon.field_getter(type(a))
    return get(a) == get(b)


def _changes(fp, before, after):
    """(what changed, the tokens that cover it: a footprint writing any one of them may
    make the change) for every keyed field that differs between two sessions, the
    second one step past the first. Units are those of the state before the step.
    Fields the key leaves out (histories, counters, the decision log) are skipped."""
    a, b = before.kernel.state, after.kernel.state

    def page(mm, vpn):
        return ("p", mm, _unit(fp, before, mm, vpn))

    for pid in a.mms.keys() | b.mms.keys():
        m, n = a.mms.get(pid), b.mms.get(pid)
        if m is None:
            yield f"new process {pid}", frozenset({("m", pid)})
            yield f"new process {pid}", frozenset({FORK})
            continue
        if n is None or m.alive != n.alive or m.has_pinned != n.has_pinned:
            yield f"mm {pid} liveness or MMF_HAS_PINNED", frozenset({("m", pid)})
            if n is None:
                continue
        for vpn in m.files.keys() | n.files.keys():
            if m.files.get(vpn) != n.files.get(vpn):
                yield f"mm {pid} vpn {vpn} file mapping", frozenset({page(pid, vpn)})
        for vpn in m.vmas.keys() | n.vmas.keys():
            x, y = m.vmas.get(vpn), n.vmas.get(vpn)
            if x == y:
                continue
            if x is None or y is None:
                yield f"mm {pid} vpn {vpn} VMA presence", frozenset({page(pid, vpn)})
                continue
            unit = _unit(fp, before, pid, vpn)
            for bits, aspect in _FLAG_ASPECT:
                if (x ^ y) & bits:
                    yield (f"mm {pid} vpn {vpn} VMA flag {aspect}",
                           frozenset({("v", pid, unit, aspect)}))
        for vpn in m.ptes.keys() | n.ptes.keys():
            x, y = m.ptes.get(vpn), n.ptes.get(vpn)
            if x is None or y is None or not _same(x, y):
                if x is not None or y is not None:
                    # a PTE that replaces a PMD (a split) maps what the PMD mapped
                    was = x if x is not None else m.pmds.get(vpn // HPAGE_NR)
                    yield f"mm {pid} PTE at vpn {vpn}", _entry_covering(page(pid, vpn), was)
        for block in m.pmds.keys() | n.pmds.keys():
            x, y = m.pmds.get(block), n.pmds.get(block)
            if x is None or y is None or not _same(x, y):
                # a PMD maps every page of its block: each page's token is written
                for vpn in range(block * HPAGE_NR, (block + 1) * HPAGE_NR):
                    yield (f"mm {pid} PMD of block {block} (vpn {vpn})",
                           _entry_covering(page(pid, vpn), x))
        for block in m.pte_tables ^ n.pte_tables:
            covering = {("b", pid, block)}
            if block in n.pte_tables:
                # installing a PTE adds its block's page table idempotently: a step
                # that writes a page of the block may do it (por: ("b", mm, block)),
                # and so may an rmap walk that splits the block's PMD
                for v in range(block * HPAGE_NR, (block + 1) * HPAGE_NR):
                    covering.update(_entry_covering(page(pid, v), m.pmds.get(block)))
            yield f"mm {pid} page table of block {block}", frozenset(covering)

    for fid in a.folios:
        f, g = a.folios[fid], b.folios.get(fid)
        if g is None or not _same(f, g):
            yield f"folio {fid}", frozenset({("f", fid)})
    for sid in a.slots:
        s, t = a.slots[sid], b.slots.get(sid)
        if t is None or not _same(s, t):
            yield f"swap slot {sid}", frozenset({("s", sid)})
    for rid in a.refs.keys() ^ b.refs.keys():
        yield f"reference {rid} taken or dropped", frozenset({("ref", rid)})
        yield f"reference {rid} taken or dropped", frozenset({REF_NAMESPACE})
    if a.zero_data != b.zero_data:
        yield "what the zero pages hold", frozenset({ZERO_PAGES})
    for at in a.pagecache.keys() | b.pagecache.keys():
        if a.pagecache.get(at) != b.pagecache.get(at):
            yield f"page cache of file {at[0]} at {at[1]}", _cache_covering(at, a, b)
    if a.files != b.files:
        yield "the files", frozenset({NEW_FILES})

    yield from _contract_changes(fp, before, after, page)


def _cache_covering(at, a, b) -> frozenset:
    """A page-cache entry appears when a process faults the page in: the file token
    of each page index it holds (a hugetlbfs entry holds a huge page's worth)."""
    fid, index = at
    if a.files.get(fid, b.files.get(fid)) == "hugetlb":
        return frozenset(("file", fid, index * HPAGE_NR + i) for i in range(HPAGE_NR))
    return frozenset({("file", fid, index)})


def _contract_changes(fp, before, after, page):
    c, d = before.contract, after.contract
    for pid in c.exited ^ d.exited:
        yield f"contract: mm {pid} exited", frozenset({("m", pid)})
    for pid in c.procs.keys() | d.procs.keys():
        p, q = c.procs.get(pid), d.procs.get(pid)
        if p is None or q is None:
            yield f"contract: process {pid} appears or goes", frozenset({("m", pid)})
            continue
        for vpn in p.mem.keys() | q.mem.keys():
            if p.mem.get(vpn, _MISSING) != q.mem.get(vpn, _MISSING) or \
                    (vpn in p.written) != (vpn in q.written):
                # a shared page's value changes with its file (a write in any mapper)
                yield (f"contract: mm {pid} vpn {vpn} logical value",
                       frozenset({page(pid, vpn)}) | _file_of(after, pid, vpn))
        for vpn in p.pages.keys() | q.pages.keys() | p.maybe.keys() | q.maybe.keys():
            if p.pages.get(vpn) != q.pages.get(vpn) or p.maybe.get(vpn) != q.maybe.get(vpn):
                yield (f"contract: mm {pid} vpn {vpn} mapping or older file values",
                       frozenset({page(pid, vpn)}) | _file_of(after, pid, vpn))
        for vpn in p.readonly ^ q.readonly:
            yield (f"contract: mm {pid} vpn {vpn} R/O",
                   frozenset({("v", pid, _unit(fp, before, pid, vpn), "write")}))
        if p.sd_tracking != q.sd_tracking:
            yield f"contract: mm {pid} soft-dirty tracking", frozenset({("m", pid)})
        for vpn in p.sd_written ^ q.sd_written:
            yield f"contract: mm {pid} vpn {vpn} written since clear", frozenset({page(pid, vpn)})
        for vpn in p.sd_skip ^ q.sd_skip:
            # clear_softdirty (the process's token) or the page's unmapping
            yield (f"contract: mm {pid} vpn {vpn} pinned at clear",
                   frozenset({page(pid, vpn), ("m", pid)}))
        for field, aspect in (("dontfork", "dontfork"), ("wipeonfork", "wipe")):
            for vpn in getattr(p, field) ^ getattr(q, field):
                yield (f"contract: mm {pid} vpn {vpn} {field}",
                       frozenset({("v", pid, _unit(fp, before, pid, vpn), aspect)}))
    for rid in c.refs.keys() | d.refs.keys():
        r, s = c.refs.get(rid), d.refs.get(rid)
        if r is None or s is None:
            yield f"contract: reference {rid} taken or dropped", frozenset({("ref", rid)})
            yield f"contract: reference {rid} taken or dropped", frozenset({REF_NAMESPACE})
            continue
        if r == s:
            continue
        if r.sharers != s.sharers:
            # a process that shares a R/W FOLL_GET reference's page forked, or one of
            # the sharers unmapped it: its page or its process
            for m, v in (r.sharers or set()) ^ (s.sharers or set()):
                yield (f"contract: reference {rid} shared by mm {m} vpn {v}",
                       frozenset({page(m, v), ("m", m), ("ref", rid)}))
            if dataclasses.replace(r, sharers=s.sharers) == s:
                continue
        # what a reference bound at a page holds changes with the page: the page token
        # covers it (por: the references bound there are part of the page)
        # (a shared page's values come from its file: a write in any mapper, also
        # after the holder unmapped it)
        yield (f"contract: reference {rid}",
               frozenset({("ref", rid), page(r.mm, r.vpn)}) | _file_of(after, r.mm, r.vpn)
               | (_files_tokens(after, *r.file) if r.file is not None else frozenset()))
        if r.bound and not s.bound:
            # unbinding fixes the overlap relation the key keeps (canon._overlap)
            yield f"contract: reference {rid} unbound", frozenset({REF_NAMESPACE})
        if r.vpn != s.vpn:
            # mremap moves a binding with its page
            yield f"contract: reference {rid} moved", frozenset({REF_NAMESPACE})
    for at in c.mappers.keys() | d.mappers.keys():
        if c.mappers.get(at, set()) != d.mappers.get(at, set()):
            # a page starts or stops following its file: the page's token, or its file's
            # (fork adds the child's pages where the parent maps the file)
            yield f"contract: mappers of {at}", frozenset(
                page(pid, vpn) for pid, vpn in c.mappers.get(at, set()) ^ d.mappers.get(at, set())
            ) | _files_tokens(after, *at)
    for key in c.files.keys() | d.files.keys():
        x, y = c.files.get(key, {}), d.files.get(key, {})
        for i in x.keys() | y.keys():
            if x.get(i) != y.get(i):
                yield f"contract: file {key} at {i}", _files_tokens(after, key, i)
    for bad in c.file_bad ^ d.file_bad:
        yield f"contract: file-integrity reported at {bad}", _files_tokens(after, bad[0], bad[1])
    if c.next_shared != d.next_shared:
        yield "contract: shared anonymous objects", frozenset({NEW_FILES})


def _file_of(session, pid: int, vpn: int) -> frozenset:
    """The file token of (pid, vpn) when the page is file-backed (in the state after)."""
    m = session.kernel.state.mms.get(pid)
    if m is None or vpn not in m.files:
        return frozenset()
    return frozenset({("file",) + m.files[vpn]})


def _files_tokens(session, key, index: int) -> frozenset:
    """The file tokens that cover the contract's file (key, index): the named file's
    page, or for a shared anonymous object (the contract numbers them itself) the page
    at that index of every such object of the kernel."""
    if isinstance(key, str):
        fids = {fid for fid, kind in FILE_KINDS.items() if kind == key}
    else:
        fids = {fid for fid in session.kernel.state.files if fid not in FILE_KINDS}
    return frozenset(("file", fid, index) for fid in fids)


_MISSING = object()


def _entry_covering(page_token, entry) -> frozenset:
    """The tokens that cover a change of a page-table entry: its page's, and what the
    entry named before the step. An rmap walk (swap-out, migration, KSM, a THP split)
    rewrites every entry that maps its folio, from whichever process it started in;
    every step on such a page takes the folio's token (Footprints._page), so the
    folio's token covers the entries that map it. A swap entry likewise goes with its
    slot."""
    if entry is None:
        return frozenset({page_token})
    kind = entry.kind
    if kind == PRESENT or kind == MIGRATION:
        return frozenset({page_token, ("f", entry.folio)})
    if kind == SWAP:
        return frozenset({page_token, ("s", entry.slot)})
    return frozenset({page_token})


# --- on demand: python -m review.verify.por_check -------------------------------------

PRESET_NAMES = tuple(PRESETS)
# the bound sets of docs/verify.md: two pages and two references; a THP; three
# processes; three pages
LATER = ("read", "write", "fork", "exit", "pin", "get", "unpin", "put", "dma_read", "dma_write",
         "swapout", "swapin", "mprotect", "munmap", "poke", "clear_softdirty", "softdirty",
         "mremap", "swapoff", "writeback", "pte", "pfn")
BOUND_SETS = {
    "2 pages, 2 refs": dict(pages=2, pins=2),
    "THP, 2 refs": dict(pages=2, thp=True, pins=2),
    "3 processes, 1 page, 2 refs": dict(pages=1, processes=3, pins=2),
    "3 pages": dict(pages=3),
    # the later vocabulary: its ops and GUP flavours on small pages
    "2 pages, later ops": dict(pages=2, pins=1, ops=LATER,
                               pin_kinds=("ro", "rw-longterm", "ro-fast", "rw-force"),
                               get_kinds=("get", "get-rw")),
    # R/W FOLL_GET references shared by forks (the contract's sharers), on a shared page
    "3 processes, R/W FOLL_GET": dict(pages=1, processes=3, pins=2, get_kinds=("get-rw",),
                                      pin_kinds=("ro",),
                                      ops=("read", "write", "fork", "exit", "pin", "get",
                                           "put", "dma_read", "dma_write", "munmap", "mremap")),
    "shared page, R/W FOLL_GET": dict(pages=1, processes=2, pins=2, get_kinds=("get-rw",),
                                      pin_kinds=("ro",),
                                      start=({"op": "mmap", "mm": 0, "vpn": 0, "npages": 1,
                                              "shared": True},),
                                      ops=("read", "write", "fork", "exit", "pin", "get",
                                           "put", "dma_read", "dma_write", "munmap", "mmap")),
}


def main(argv=None) -> int:
    """Both checks on larger bounds than the suite's, run on demand (minutes):

        .venv/bin/python -m review.verify.por_check                 # depth 4, every preset
        .venv/bin/python -m review.verify.por_check --depth 3 --presets current --only writes

    For every preset and bound set: check_writes, then check_independence (--states
    sampled states). One line per run, then the problems; exit 1 if any."""
    ap = argparse.ArgumentParser(prog="python -m review.verify.por_check",
                                 description="the footprint checks on larger bounds")
    ap.add_argument("--presets", default=",".join(PRESET_NAMES))
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--states", type=int, default=40, help="sampled states per independence run")
    ap.add_argument("--only", choices=("writes", "independence"))
    args = ap.parse_args(argv)

    totals = {"writes": [0, 0], "independence": [0, 0]}  # checked, problems
    for preset in args.presets.split(","):
        for name, kw in BOUND_SETS.items():
            bounds = Bounds(depth=args.depth, **kw)
            runs = []
            if args.only != "independence":
                runs.append(("writes", lambda: check_writes(PRESETS[preset], bounds)))
            if args.only != "writes":
                runs.append(("independence", lambda: check_independence(
                    PRESETS[preset], bounds, states=args.states)))
            for check, run in runs:
                cpu = time.process_time()
                checked, problems = run()
                totals[check][0] += checked
                totals[check][1] += len(problems)
                unit = "steps" if check == "writes" else "pairs"
                print(f"{preset:8} {name:28} {check:12} {checked:9,} {unit}  "
                      f"{len(problems)} problems  {time.process_time() - cpu:6.1f} s CPU",
                      flush=True)
                for p in problems[:10]:
                    print("    " + p)
    for check, (checked, problems) in totals.items():
        if checked:
            print(f"total {check}: {checked:,} checked, {problems} problems")
    return 1 if any(p for _c, p in totals.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
