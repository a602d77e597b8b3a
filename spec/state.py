"""The kernel-side state of private anonymous memory.

Everything here is plain data: processes (Mm) with per-page VMA flags and page
tables, folios, swap slots and GUP references. Folios and swap slots are referred to
by integer id, never by object, so that `State.clone()` is a shallow walk over small
slots objects and `State.key()` can renumber ids into a canonical form (bounded
exhaustive exploration hashes it).

Page-table entries (`Pte`, one class for every kind, unused fields keep defaults):

    kind PRESENT    folio, subpage, writable, dirty, soft_dirty
    kind ZERO       the shared zero page (pte_special; never writable, never counted)
    kind SWAP       slot, swp_exclusive, soft_dirty (pte_swp_exclusive v5.19+,
                    pte_swp_soft_dirty)
    kind MIGRATION  folio, subpage, migration, soft_dirty ("read" / "read_exclusive" /
                    "write"; swp_entry types SWP_MIGRATION_READ/_READ_EXCLUSIVE/_WRITE)

`soft_dirty` is _PAGE_SOFT_DIRTY: set where the kernel calls pte_mkdirty (on x86 it sets
both bits), kept by copies of an entry, cleared by clear_refs; a write through a PTE
that is already writable sets `dirty` only (the hardware does not know soft-dirty).

A PMD entry lives in `Mm.pmds[block]` (block = vpn // HPAGE_NR): PRESENT (a THP mapped
whole, subpage 0; or a hugetlb folio, whose huge PTE the model keeps at the PMD level
too), ZERO (the huge zero page) or MIGRATION (set_pmd_migration_entry).
A PTE entry lives in `Mm.ptes[vpn]`; "none" is absence from the dict.

Page cache: a file-backed page (`Mm.files[vpn] = (file id, index)`) maps the folio
`State.pagecache[(file, index)]`, created on first use with the file's content (zero);
page-cache folios are not anon, hold one reference per page for the page cache and
are never evicted. Files: FILE (the one regular file, "file"), SHMEM (the one tmpfs
file, memfd: "shmem"), and one object per MAP_SHARED|MAP_ANONYMOUS mmap (shmem, or
hugetlbfs with MAP_HUGETLB); `State.files[id]` is its kind.

Folio counters follow the kernel's accounting (include/linux/mm.h):
  refcount   folio_ref_count: +1 per PTE or PMD mapping, +nr while in the swap cache,
             +1 per FOLL_GET, and per FOLL_PIN +GUP_PIN_COUNTING_BIAS on a small folio
             or +1 (with _pincount) on a large one (try_grab_folio).
  pincount   exact number of FOLL_PIN references (the model tracks it for small folios
             too; the kernel only has it for large ones — page_maybe_dma_pinned is
             asked through the pinned.maybe decision point, which sees both).
  mapcount   per-subpage PTE mappings (page->_mapcount + 1);
  entire_mapcount  PMD mappings (folio->_entire_mapcount + 1);
  page_mapcount(i) = mapcount[i] + entire_mapcount.
"""
from __future__ import annotations

HPAGE_NR = 4                 # pages per THP in the model (HPAGE_PMD_NR is 512 on x86-64)
MAX_VPN = 1 << 20            # addresses are page numbers below this (spec/trace.py checks)
GUP_PIN_COUNTING_BIAS = 1024  # include/linux/mm.h
ZERO_FOLIO = 0               # folio id a reference holds when it pinned the zero page
                             # (its subpage: 0 the shared zero page, 1 the huge zero page)

# VMA flags, one int per page (a VMA split is free in the model)
VM_WRITE = 1
VM_DONTCOPY = 2      # MADV_DONTFORK
VM_WIPEONFORK = 4    # MADV_WIPEONFORK
VM_MERGEABLE = 8     # MADV_MERGEABLE (KSM may scan it)
VM_HUGEPAGE = 16     # MADV_HUGEPAGE or mmap(thp=true)
VM_NOHUGEPAGE = 32   # MADV_NOHUGEPAGE
VM_READ = 64         # PROT_READ (mmap/mprotect prot "r" or "rw"; PROT_NONE has neither)
VM_SHARED = 128      # MAP_SHARED (is_cow_mapping is false)
VM_HUGETLB = 256     # MAP_HUGETLB
VM_SOFTDIRTY = 512   # set on a new VMA; cleared by clear_refs (soft-dirty tracking on)
# Not a VM_* flag: the per-size sysfs setting (hugepages-<size>kB/enabled) that lets
# faults in this range allocate an anon mTHP of order 1 instead of a PMD-sized THP
# (thp_vma_allowable_orders; v6.8). Model order 1 is two pages: it stands for every
# mTHP order below the PMD order.
MTHP_ORDER1 = 1024
MTHP_NR = 2          # pages of an order-1 mTHP folio in the model

# Files (page-cache owners): the two named ones; shared anonymous objects get ids from 3
FILE = 1             # a regular file on a filesystem with writeback (dirty tracking)
SHMEM = 2            # a tmpfs/shmem file (memfd)
FILE_KINDS = {FILE: "file", SHMEM: "shmem"}

# Entry kinds
PRESENT = 1
ZERO = 2
SWAP = 3
MIGRATION = 4
KIND_NAMES = {PRESENT: "present", ZERO: "zero", SWAP: "swap", MIGRATION: "migration"}


class Pte:
    """A page-table entry (PTE, or PMD when stored in Mm.pmds)."""
    __slots__ = ("kind", "folio", "subpage", "writable", "dirty", "soft_dirty",
                 "slot", "swp_exclusive", "migration")

    def __init__(self, kind: int, folio: int = 0, subpage: int = 0, writable: bool = False,
                 dirty: bool = False, soft_dirty: bool = False, slot: int = 0,
                 swp_exclusive: bool = False, migration: str = ""):
        self.kind = kind
        self.folio = folio
        self.subpage = subpage
        self.writable = writable
        self.dirty = dirty
        self.soft_dirty = soft_dirty
        self.slot = slot
        self.swp_exclusive = swp_exclusive
        self.migration = migration

    def copy(self) -> "Pte":
        p = Pte.__new__(Pte)
        p.kind = self.kind
        p.folio = self.folio
        p.subpage = self.subpage
        p.writable = self.writable
        p.dirty = self.dirty
        p.soft_dirty = self.soft_dirty
        p.slot = self.slot
        p.swp_exclusive = self.swp_exclusive
        p.migration = self.migration
        return p

    def key(self, fmap: dict[int, int], smap: dict[int, int]) -> tuple:
        k = self.kind
        if k == PRESENT:
            return (k, fmap.get(self.folio, -1), self.subpage, self.writable, self.dirty,
                    self.soft_dirty)
        if k == SWAP:
            return (k, smap.get(self.slot, -1), self.swp_exclusive, self.soft_dirty)
        if k == MIGRATION:
            return (k, fmap.get(self.folio, -1), self.subpage, self.migration,
                    self.soft_dirty)
        return (k,)

    def __repr__(self) -> str:
        k = self.kind
        if k == PRESENT:
            return (f"Pte(present folio={self.folio}/{self.subpage}"
                    f"{' W' if self.writable else ' R'}{' D' if self.dirty else ''}"
                    f"{' SD' if self.soft_dirty else ''})")
        if k == SWAP:
            return f"Pte(swap slot={self.slot}{' X' if self.swp_exclusive else ''})"
        if k == MIGRATION:
            return f"Pte(migration {self.migration} folio={self.folio}/{self.subpage})"
        return "Pte(zero)"


class Mm:
    """A process's mm_struct: per-page VMA flags and its page tables."""
    __slots__ = ("id", "alive", "has_pinned", "vmas", "ptes", "pmds", "pte_tables", "files")

    def __init__(self, id: int):
        self.id = id
        self.alive = True
        self.has_pinned = False          # MMF_HAS_PINNED (mm->has_pinned in v5.9-v5.12)
        self.vmas: dict[int, int] = {}   # vpn -> VM_* flags (absent: not mapped)
        self.ptes: dict[int, Pte] = {}   # vpn -> PTE entry
        self.pmds: dict[int, Pte] = {}   # block -> PMD entry (THP, huge zero page, hugetlb)
        self.pte_tables: set[int] = set()  # blocks whose PMD points to a page table
        self.files: dict[int, tuple[int, int]] = {}  # vpn -> (file id, page index): vm_file, vm_pgoff

    def copy(self) -> "Mm":
        m = Mm.__new__(Mm)
        m.id = self.id
        m.alive = self.alive
        m.has_pinned = self.has_pinned
        m.vmas = dict(self.vmas)
        m.ptes = {v: p.copy() for v, p in self.ptes.items()}
        m.pmds = {b: p.copy() for b, p in self.pmds.items()}
        m.pte_tables = set(self.pte_tables)
        m.files = dict(self.files)
        return m

    def __repr__(self) -> str:
        return (f"Mm({self.id}{'' if self.alive else ' exited'}"
                f"{' has_pinned' if self.has_pinned else ''} vmas={self.vmas} "
                f"ptes={self.ptes} pmds={self.pmds}{f' files={self.files}' if self.files else ''})")


class Folio:
    """A folio: order 0 (one page), an mTHP of MTHP_NR pages, a THP or a hugetlb folio of
    HPAGE_NR pages. Anonymous, or a page-cache folio of `mapping` at `index`."""
    __slots__ = ("id", "nr", "anon", "ksm", "swapcache", "refcount", "pincount", "data",
                 "anon_exclusive", "mapcount", "entire_mapcount", "mapping", "index",
                 "hugetlb", "writeback")

    def __init__(self, id: int, nr: int = 1):
        self.id = id
        self.nr = nr
        self.anon = True
        self.ksm = False
        self.mapping = 0                          # page cache: the file id (0: anon)
        self.index = 0                            # page cache: the page index in the file
        self.hugetlb = False                      # folio_test_hugetlb
        self.writeback = False                    # PG_writeback (set by the writeback op)
        self.swapcache = 0                        # swap slot id while in the swap cache (0: none)
        self.refcount = 0
        self.pincount = 0
        self.data = [0] * nr                      # per-subpage contents
        self.anon_exclusive = [False] * nr        # PG_anon_exclusive per subpage
        self.mapcount = [0] * nr                  # PTE mappings per subpage
        self.entire_mapcount = 0                  # PMD mappings

    @property
    def large(self) -> bool:
        return self.nr > 1

    def page_mapcount(self, i: int) -> int:
        return self.mapcount[i] + self.entire_mapcount

    def folio_mapcount(self) -> int:
        """folio_mapcount: every PTE mapping plus every PMD mapping (counted once)."""
        return sum(self.mapcount) + self.entire_mapcount

    def mapped(self) -> bool:
        return self.entire_mapcount > 0 or any(self.mapcount)

    def copy(self) -> "Folio":
        f = Folio.__new__(Folio)
        f.id = self.id
        f.nr = self.nr
        f.anon = self.anon
        f.ksm = self.ksm
        f.mapping = self.mapping
        f.index = self.index
        f.hugetlb = self.hugetlb
        f.writeback = self.writeback
        f.swapcache = self.swapcache
        f.refcount = self.refcount
        f.pincount = self.pincount
        f.data = list(self.data)
        f.anon_exclusive = list(self.anon_exclusive)
        f.mapcount = list(self.mapcount)
        f.entire_mapcount = self.entire_mapcount
        return f

    def __repr__(self) -> str:
        return (f"Folio({self.id} nr={self.nr}{' ksm' if self.ksm else ''}"
                f"{' hugetlb' if self.hugetlb else ''}"
                f"{f' pagecache={self.mapping}:{self.index}' if self.mapping else ''}"
                f"{' writeback' if self.writeback else ''}"
                f"{f' swapcache={self.swapcache}' if self.swapcache else ''} ref={self.refcount}"
                f" pin={self.pincount} data={self.data} ae={self.anon_exclusive}"
                f" map={self.mapcount}+{self.entire_mapcount})")


class SwapSlot:
    """A swap slot: swap_map count (swap PTEs referring to it), the data written at
    pageout, and the folio cached for it in the swap cache (0: none)."""
    __slots__ = ("id", "count", "data", "folio")

    def __init__(self, id: int):
        self.id = id
        self.count = 0
        self.data = 0
        self.folio = 0

    def copy(self) -> "SwapSlot":
        s = SwapSlot.__new__(SwapSlot)
        s.id = self.id
        s.count = self.count
        s.data = self.data
        s.folio = self.folio
        return s

    def __repr__(self) -> str:
        return f"SwapSlot({self.id} count={self.count} data={self.data} folio={self.folio})"


class Ref:
    """A GUP reference: FOLL_PIN (pin=True; R/O or R/W, longterm or not) or FOLL_GET
    (R/O, or R/W for the O_DIRECT read case). It holds its folio (ZERO_FOLIO for the
    zero page, subpage 1 for the huge zero page) and subpage whatever happens to the
    mapping it was taken from (mm, vpn). `fast`: taken by GUP-fast; `slow_ok`: the slow
    path would have taken that very page as it was (no fault, no unsharing first)."""
    __slots__ = ("id", "pin", "write", "longterm", "folio", "subpage", "mm", "vpn", "fast",
                 "slow_ok")

    def __init__(self, id: str, pin: bool, write: bool, longterm: bool, folio: int,
                 subpage: int, mm: int, vpn: int, fast: bool = False, slow_ok: bool = True):
        self.id = id
        self.pin = pin
        self.write = write
        self.longterm = longterm
        self.folio = folio
        self.subpage = subpage
        self.mm = mm
        self.vpn = vpn
        self.fast = fast
        self.slow_ok = slow_ok

    def __repr__(self) -> str:
        kind = ("pin " + ("R/W" if self.write else "R/O") + (" longterm" if self.longterm else "")
                if self.pin else "get" + (" R/W" if self.write else ""))
        return (f"Ref({self.id!r} {kind}{' fast' if self.fast else ''} "
                f"folio={self.folio}/{self.subpage} from={self.mm}:{self.vpn})")


class State:
    """All of it. Refs are immutable once taken, so clone() shares them."""
    __slots__ = ("mms", "folios", "slots", "refs", "next_folio", "next_slot", "used_mm_ids",
                 "files", "pagecache", "next_file", "zero_data")

    def __init__(self) -> None:
        self.mms: dict[int, Mm] = {}
        self.folios: dict[int, Folio] = {}     # live folios only: freed ones are removed
        self.slots: dict[int, SwapSlot] = {}   # allocated swap slots only
        self.refs: dict[str, Ref] = {}         # live references (pins and gets)
        self.next_folio = 1                    # ids are never reused: a dangling id is a free
        self.next_slot = 1
        self.used_mm_ids: set[int] = set()     # process ids are never reused in a trace
        self.files: dict[int, str] = {}        # file id -> "file" | "shmem" | "hugetlb"
        self.pagecache: dict[tuple[int, int], int] = {}  # (file, index) -> folio id
        self.next_file = 3                     # shared anonymous objects (FILE, SHMEM below)
        # what the shared zero page and the huge zero page hold: zero, unless something
        # wrote them (the zero-page clause)
        self.zero_data: tuple[int, int] = (0, 0)

    def clone(self) -> "State":
        s = State.__new__(State)
        s.mms = {i: m.copy() for i, m in self.mms.items()}
        s.folios = {i: f.copy() for i, f in self.folios.items()}
        s.slots = {i: x.copy() for i, x in self.slots.items()}
        s.refs = dict(self.refs)
        s.next_folio = self.next_folio
        s.next_slot = self.next_slot
        s.used_mm_ids = set(self.used_mm_ids)
        s.files = dict(self.files)
        s.pagecache = dict(self.pagecache)
        s.next_file = self.next_file
        s.zero_data = self.zero_data
        return s

    # --- allocation
    def alloc_folio(self, nr: int = 1) -> Folio:
        f = Folio(self.next_folio, nr)
        self.next_folio += 1
        self.folios[f.id] = f
        return f

    def alloc_file(self, kind: str) -> int:
        """A new shared anonymous object (shmem, or hugetlbfs with MAP_HUGETLB)."""
        fid = self.next_file
        self.next_file += 1
        self.files[fid] = kind
        return fid

    def alloc_slot(self) -> SwapSlot:
        s = SwapSlot(self.next_slot)
        self.next_slot += 1
        self.slots[s.id] = s
        return s

    # --- lookup
    def entry(self, mm: Mm, vpn: int) -> tuple[Pte | None, bool]:
        """The entry that maps vpn in mm and whether it is a PMD entry."""
        pmd = mm.pmds.get(vpn // HPAGE_NR)
        if pmd is not None:
            return pmd, True
        return mm.ptes.get(vpn), False

    def mappings(self, folio_id: int):
        """Every (mm, vpn or block, pte, is_pmd) that maps folio_id (present or migration
        entries), in rmap-walk order: by mm id, then address."""
        for mid in sorted(self.mms):
            mm = self.mms[mid]
            for b in sorted(mm.pmds):
                p = mm.pmds[b]
                if p.folio == folio_id and p.kind in (PRESENT, MIGRATION):
                    yield mm, b * HPAGE_NR, p, True
            for v in sorted(mm.ptes):
                p = mm.ptes[v]
                if p.folio == folio_id and p.kind in (PRESENT, MIGRATION):
                    yield mm, v, p, False

    # --- canonical form for exploration (ids renumbered in order of first use)
    def key(self) -> tuple:
        fmap: dict[int, int] = {}
        smap: dict[int, int] = {}
        for mid in sorted(self.mms):
            mm = self.mms[mid]
            for table in (mm.pmds, mm.ptes):
                for a in sorted(table):
                    p = table[a]
                    if p.kind in (PRESENT, MIGRATION) and p.folio not in fmap:
                        fmap[p.folio] = len(fmap) + 1
                    elif p.kind == SWAP and p.slot not in smap:
                        smap[p.slot] = len(smap) + 1
        for rid in sorted(self.refs):
            f = self.refs[rid].folio
            if f and f not in fmap:
                fmap[f] = len(fmap) + 1
        for fid in sorted(self.folios):
            if fid not in fmap:
                fmap[fid] = len(fmap) + 1
            sc = self.folios[fid].swapcache
            if sc and sc not in smap:
                smap[sc] = len(smap) + 1
        for sid in sorted(self.slots):
            if sid not in smap:
                smap[sid] = len(smap) + 1
        mms = tuple(
            (mid, m.alive, m.has_pinned, tuple(sorted(m.vmas.items())),
             tuple((b, m.pmds[b].key(fmap, smap)) for b in sorted(m.pmds)),
             tuple((v, m.ptes[v].key(fmap, smap)) for v in sorted(m.ptes)),
             tuple(sorted(m.pte_tables)), tuple(sorted(m.files.items())))
            for mid, m in sorted(self.mms.items()))
        folios = tuple(sorted(
            (fmap[f.id], f.nr, f.anon, f.ksm, f.mapping, f.index, f.hugetlb, f.writeback,
             smap.get(f.swapcache, 0), f.refcount, f.pincount,
             tuple(f.data), tuple(f.anon_exclusive), tuple(f.mapcount), f.entire_mapcount)
            for f in self.folios.values()))
        slots = tuple(sorted((smap[s.id], s.count, s.data, fmap.get(s.folio, 0))
                             for s in self.slots.values()))
        refs = tuple((r.id, r.pin, r.write, r.longterm, fmap.get(r.folio, 0) if r.folio else 0,
                      r.subpage, r.mm, r.vpn, r.fast, r.slow_ok)
                     for _, r in sorted(self.refs.items()))
        files = (tuple(sorted(self.files.items())),
                 tuple(sorted((fi, fmap[f]) for fi, f in self.pagecache.items())),
                 self.next_file, self.zero_data)
        return (mms, folios, slots, refs, files)

    def __repr__(self) -> str:
        return (f"State(mms={list(self.mms.values())}, folios={list(self.folios.values())}, "
                f"slots={list(self.slots.values())}, refs={list(self.refs.values())})")
