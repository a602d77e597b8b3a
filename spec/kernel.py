"""The kernel model: state + rule set + the operations of the replay table.

API (spec.run.Session, the exhaustive exploration of review/verify and the tests code
against this; keep it stable):

    k = Kernel(rules)                 # rules: spec.decisions.RuleSet (spec.presets.PRESETS[name])
    r = k.apply(op, args)             # op: a name of the replay table; args: a Mapping with
                                      # every argument present and well typed (spec.trace
                                      # fills defaults); returns spec.result.Result
    k.peek(mm, vpn) -> int | None     # what a read would return, without faulting:
                                      # follows swap and migration entries; the zero page's
                                      # content (0 unless something wrote it); the page
                                      # cache's for a file page not mapped yet; None when
                                      # nothing is mapped (or no VMA / no such mm)
    k.peek_many(mm, vpns) -> list     # [k.peek(mm, vpn) for vpn in vpns], faster
    k.dma_peek(ref_id) -> int         # what dma_read would return (no side effect)
    k.file_peek(name, index) -> int   # what read(2) of the file "file" or "shmem" returns at
                                      # page index (its page cache, or zero)
    k.clone() -> Kernel               # independent copy (state copied, rules shared)
    k.state                           # spec.state.State: every field readable
    k.rules                           # the RuleSet
    k.outcomes                        # [(decision point id, outcome)] asked during the last apply
    k.assertion_failures              # [(AssertionRule, message)] from extracted assertions
                                      # that held during the last apply
    k.step_count                      # number of apply() calls so far

Result statuses:
    "ok"        done (read and dma_read carry `value`)
    "refused"   the kernel declined or found nothing to act on: swapout / migrate /
                ksm_merge / split_folio of a pinned (or otherwise busy) folio, a
                swapout/migrate/split of an address that maps no folio, a swapin of an
                address that holds no swap entry, split_pmd of an address not PMD-mapped
    "SIGSEGV"   read/write of an address with no VMA; read of a PROT_NONE VMA; write to a
                VMA without VM_WRITE
    "EFAULT"    pin/get/poke of an address with no VMA, a R/W pin of a R/O VMA (unless
                FOLL_FORCE in a private mapping), a R/O one of a PROT_NONE VMA (unless
                FOLL_FORCE), a v6.5+ longterm R/W pin of a shared file mapping; mremap of
                a range with a hole
    "EINVAL"    mmap(thp or hugetlb) of an unaligned range, npages < 1, madvise collapse
                on an era without MADV_COLLAPSE or on a range it cannot collapse, any
                range ending inside a hugetlb folio, MADV_WIPEONFORK of a file, shared
                or hugetlb mapping, mremap of overlapping ranges or of hugetlb
    "ENOMEM"    madvise or mprotect of a range with holes (the mapped
                part is still processed, as the kernel does)
    "EAGAIN"    MADV_COLLAPSE of a range whose pages carry extra references

spec.errors.StepError is raised for steps that make no sense at all: an op by an
exited or unknown process, fork to an id that was ever used, an unknown or reused
reference id, unpin of a FOLL_GET reference (or put of a pin), dma_write through a
R/O pin or R/O FOLL_GET reference, an unknown op or advice.

Operations live in spec/ops/ (one module per kernel area, OPS maps op names to them)
and are written through the primitives of spec/primitives.py; decision points are
asked through `Kernel.ask`.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from spec.decisions import AssertionRule, DecisionContext, RuleSet
from spec.errors import StepError
from spec.ops import OPS
from spec.ops.softdirty import soft_dirty_bit
from spec.result import Result
from spec.state import FILE_KINDS, HPAGE_NR, MIGRATION, PRESENT, SWAP, ZERO, ZERO_FOLIO, Mm, \
    State

_NAMED_FILES = {name: fid for fid, name in FILE_KINDS.items()}


class Kernel:
    __slots__ = ("state", "rules", "outcomes", "assertion_failures", "stalled", "step_count",
                 "has_ae", "check_assertions", "_ops", "_decide")

    def __init__(self, rules: RuleSet, state: State | None = None):
        self.rules = rules
        self.state = state if state is not None else State()
        self.outcomes: list[tuple[str, str]] = []
        self.assertion_failures: list[tuple[AssertionRule, str]] = []
        # what kept the last step from making progress (GUP faulting a page in for
        # ever: the gup-progress clause); "" when it made progress
        self.stalled = ""
        self.step_count = 0
        # Era features read on hot paths, cached (RuleSet is frozen).
        self.has_ae = bool(rules.feature("anon_exclusive"))
        self.check_assertions = bool(rules.assertions)
        self._ops: Mapping[str, Callable[[Kernel, Mapping[str, Any]], Result]] = OPS
        # RuleSet.ask without the extra call: ask() runs several times per step
        self._decide = rules.decide

    # ------------------------------------------------------------------ API
    def apply(self, op: str, args: Mapping[str, Any]) -> Result:
        self.outcomes = []
        if self.assertion_failures:
            self.assertion_failures = []
        if self.stalled:
            self.stalled = ""
        self.step_count += 1
        fn = self._ops.get(op)
        if fn is None:
            raise StepError(f"unknown op {op!r}")
        return fn(self, args)

    def clone(self) -> "Kernel":
        k = Kernel.__new__(Kernel)
        k.state = self.state.clone()
        k.rules = self.rules
        k.outcomes = list(self.outcomes)
        k.assertion_failures = list(self.assertion_failures)
        k.stalled = self.stalled
        k.step_count = self.step_count
        k.has_ae = self.has_ae
        k.check_assertions = self.check_assertions
        k._ops = self._ops
        k._decide = self._decide
        return k

    def peek(self, mm: int, vpn: int) -> int | None:
        st = self.state
        m = st.mms.get(mm)
        if m is None or not m.alive or vpn not in m.vmas:
            return None
        # State.entry, inlined (the contract peeks every mapped page around no-loss ops)
        pmds = m.pmds
        pte = pmds.get(vpn // HPAGE_NR) if pmds else None
        is_pmd = pte is not None
        if not is_pmd:
            pte = m.ptes.get(vpn)
            if pte is None:
                if m.files and vpn in m.files:
                    return self._cached(*m.files[vpn])
                return None
        kind = pte.kind
        if kind == PRESENT or kind == MIGRATION:
            f = st.folios.get(pte.folio)
            if f is None:
                return None  # use-after-free: reported by spec.invariants
            return f.data[vpn % f.nr if is_pmd else pte.subpage]
        if kind == ZERO:
            return st.zero_data[1 if is_pmd else 0]
        if kind == SWAP:
            slot = st.slots.get(pte.slot)
            if slot is None:
                return None
            if slot.folio:
                f = st.folios.get(slot.folio)
                return None if f is None else f.data[0]
            return slot.data
        return None

    def peek_many(self, mm: int, vpns) -> list:
        """[peek(mm, vpn) for vpn in vpns], with the process looked up once: the
        contract's no-loss check reads every mapped page before and after a step."""
        m = self.state.mms.get(mm)
        if m is None or not m.alive:
            return [None] * len(vpns)
        peek = self.peek
        if m.pmds or m.files:
            return [peek(mm, v) for v in vpns]
        vmas = m.vmas
        ptes = m.ptes
        folios = self.state.folios
        out = []
        for vpn in vpns:
            pte = ptes.get(vpn) if vpn in vmas else None
            if pte is None:
                out.append(None)
            elif pte.kind == PRESENT:
                f = folios.get(pte.folio)
                out.append(None if f is None else f.data[pte.subpage])
            else:
                out.append(peek(mm, vpn))
        return out

    def dma_peek(self, ref_id: str) -> int:
        ref = self.state.refs.get(ref_id)
        if ref is None:
            raise StepError(f"unknown reference id {ref_id!r}")
        if ref.folio == ZERO_FOLIO:
            return self.state.zero_data[ref.subpage]
        f = self.state.folios.get(ref.folio)
        if f is None:
            return 0  # use-after-free: reported by spec.invariants (no-use-after-free)
        return f.data[ref.subpage]

    def soft_dirty(self, mm: int, vpn: int) -> int:
        """The pagemap soft-dirty bit of (mm, vpn), as the softdirty query returns it
        (spec/ops/softdirty.py), without a step: 0 for no process or no mapping."""
        m = self.state.mms.get(mm)
        if m is None or not m.alive:
            return 0
        return soft_dirty_bit(self.state, m, vpn)

    def file_peek(self, name: str, index: int) -> int:
        """What read(2) of the file `name` ("file" or "shmem") returns at page `index`."""
        return self._cached(_NAMED_FILES[name], index)

    def _cached(self, fid: int, index: int) -> int:
        """The page cache's content at (file, page index): a hugetlbfs file caches huge
        pages; zero where nothing is cached yet."""
        st = self.state
        if st.files.get(fid) == "hugetlb":
            found = st.pagecache.get((fid, index // HPAGE_NR))
            f = st.folios.get(found) if found is not None else None
            return 0 if f is None else f.data[index % HPAGE_NR]
        found = st.pagecache.get((fid, index))
        f = st.folios.get(found) if found is not None else None
        return 0 if f is None else f.data[0]

    # ------------------------------------------------------- for ops/primitives
    def ask(self, point: str, ctx: DecisionContext) -> str:
        outcome = self._decide[point](ctx)        # self.rules.ask(point, ctx)
        self.outcomes.append((point, outcome))
        return outcome

    def assertion(self, primitive: str, ctx: DecisionContext) -> None:
        for a in self.rules.failed_assertions(primitive, ctx):
            where = f" ({a.provenance.file}:{a.provenance.line} {a.provenance.function})" \
                if a.provenance else ""
            self.assertion_failures.append(
                (a, f"{a.macro}({a.condition}) holds in {primitive}{where}"))

    def mm(self, mm_id: int) -> Mm:
        """The live process `mm_id`, or StepError."""
        m = self.state.mms.get(mm_id)
        if m is None:
            raise StepError(f"unknown process {mm_id}")
        if not m.alive:
            raise StepError(f"process {mm_id} has exited")
        return m

    def __repr__(self) -> str:
        return f"Kernel({self.rules.name}, {self.state!r})"

