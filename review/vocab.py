"""The vocabulary: kernel identifiers -> expressions over DecisionContext fields.

Each entry paraphrases a kernel definition and cites it (file, function, and the era
it applies to). page_* and folio_* forms map to the same field: the spec's context
is "the (sub)page being decided about and its folio", so a helper's arguments do not
change which field it reads.

Entries whose kernel meaning the model fixes (no hugetlb, no device memory, no lock
contention) map to constants and say so. An identifier without an entry is never
dropped: `Converter` turns it into a spec.expr.Free atom named by its C text and
records it, with its line, as unmodelled.

Nothing here evaluates C: tree-sitter nodes are read as data and mapped onto a closed
set of expression nodes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from tree_sitter import Node

from spec import expr as E
from spec.decisions import CONTEXT_FIELDS
from review.cparse import text

A = E.Atom


@dataclass(frozen=True)
class Entry:
    expr: E.Expr
    cite: str
    kind: str = "bool"  # "bool" or "int"


def _e(expr: E.Expr, cite: str, kind: str = "bool") -> Entry:
    return Entry(expr, cite, kind)


# --- calls (and function-like macros) whose result is a condition or a count ---
CALLS: dict[str, Entry] = {}


def _add(names: str, entry: Entry) -> None:
    for n in names.split():
        CALLS[n] = entry


_add("PageAnon folio_test_anon", _e(A("anon"),
     "include/linux/page-flags.h PageAnon()/folio_test_anon(): PAGE_MAPPING_ANON bit of ->mapping"))
_add("PageKsm folio_test_ksm", _e(A("ksm"),
     "include/linux/page-flags.h PageKsm()/folio_test_ksm(): ->mapping flags == PAGE_MAPPING_KSM"))
_add("PageAnonExclusive folio_test_anon_exclusive", _e(A("anon_exclusive"),
     "include/linux/page-flags.h PageAnonExclusive() (v5.19, 6c287605fd56; PG_anon_exclusive)"))
_add("page_count folio_ref_count page_ref_count", _e(A("refcount"),
     "include/linux/mm.h page_count()/include/linux/page_ref.h folio_ref_count(): the folio refcount", "int"))
_add("page_mapcount total_mapcount", _e(A("mapcount"),
     "include/linux/mm.h page_mapcount(): mappings of this subpage", "int"))
_add("folio_mapcount folio_large_mapcount", _e(A("folio_mapcount"),
     "include/linux/mm.h folio_mapcount(): mappings of any page of the folio", "int"))
_add("folio_entire_mapcount", _e(A("folio_mapcount"),
     "include/linux/mm.h folio_entire_mapcount() (PMD mappings; the model counts them in folio_mapcount)", "int"))
_add("page_maybe_dma_pinned folio_maybe_dma_pinned", _e(A("maybe_pinned"),
     "include/linux/mm.h page_maybe_dma_pinned()/folio_maybe_dma_pinned(): pincount or refcount bias"))
_add("folio_has_pincount", _e(A("large"),
     "include/linux/mm.h folio_has_pincount(): exact _pincount only for large folios"))
_add("page_needs_cow_for_dma folio_needs_cow_for_dma", _e(
     E.And((A("cow_mapping"), A("mm_has_pinned"), A("maybe_pinned"))),
     "include/linux/mm.h page_needs_cow_for_dma() (v5.12, 97a7e4733b9b) / folio_needs_cow_for_dma() "
     "(v6.8): is_cow_mapping && MMF_HAS_PINNED && maybe_dma_pinned"))
_add("page_try_dup_anon_rmap folio_try_dup_anon_rmap_pte folio_try_dup_anon_rmap_ptes "
     "folio_try_dup_anon_rmap_pmd", _e(
     E.And((A("anon_exclusive"), A("cow_mapping"), A("mm_has_pinned"), A("maybe_pinned"))),
     "include/linux/rmap.h page_try_dup_anon_rmap() (v5.19) / folio_try_dup_anon_rmap_pte(s)/_pmd() "
     "(v6.8): -EBUSY iff the page is exclusive and folio_needs_cow_for_dma(); device-private "
     "pages never fail (not modelled)"))
_add("page_try_share_anon_rmap folio_try_share_anon_rmap_pte folio_try_share_anon_rmap_pmd", _e(
     A("maybe_pinned"),
     "include/linux/rmap.h page_try_share_anon_rmap() (v5.19) / folio_try_share_anon_rmap_pte/_pmd() "
     "(v6.8): -EBUSY iff the folio may be pinned"))
_add("is_cow_mapping", _e(A("cow_mapping"),
     "include/linux/mm.h is_cow_mapping(): (flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE"))
_add("pte_write pmd_write huge_pte_write", _e(A("pte_write"),
     "arch pgtable.h pte_write()/pmd_write(): the entry maps writable"))
_add("pte_dirty pmd_dirty huge_pte_dirty", _e(A("pte_dirty"),
     "arch pgtable.h pte_dirty()/pmd_dirty()"))
_add("pte_swp_exclusive pmd_swp_exclusive", _e(A("swp_exclusive"),
     "include/linux/pgtable.h pte_swp_exclusive() (v5.19, 'mm/swap: remember PG_anon_exclusive via a swp pte bit')"))
_add("is_zero_pfn is_zero_page is_zero_folio is_huge_zero_page is_huge_zero_folio is_huge_zero_pmd",
     _e(A("zero_page"), "include/linux/pgtable.h is_zero_pfn() / mm.h is_zero_page(), is_zero_folio(): the shared zero page"))
_add("vm_normal_page vm_normal_folio", _e(E.Not(A("zero_page")),
     "mm/memory.c vm_normal_page(): NULL for the zero page (and special mappings, not modelled)"))
_add("page_folio compound_head virt_to_folio", _e(E.TRUE,
     "include/linux/page-flags.h page_folio()/compound_head(): the folio of a page, never NULL"))
_add("lookup_swap_cache swap_cache_get_folio", _e(E.TRUE,
     "mm/swap_state.c lookup_swap_cache(): the model's swap-in finds (or reads) the page"))
_add("PageSwapCache folio_test_swapcache", _e(A("swapcache"),
     "include/linux/page-flags.h PageSwapCache()/folio_test_swapcache()"))
_add("PageLRU folio_test_lru", _e(A("lru"),
     "include/linux/page-flags.h PageLRU() (the model drains LRU caches: always true)"))
_add("PageWriteback folio_test_writeback", _e(A("writeback"),
     "include/linux/page-flags.h PageWriteback()"))
_add("PageCompound PageTransCompound folio_test_large PageTransHuge folio_test_pmd_mappable", _e(A("large"),
     "include/linux/page-flags.h PageCompound()/folio_test_large(): a THP in the model"))
_add("PageHuge folio_test_hugetlb is_vm_hugetlb_page", _e(E.FALSE,
     "include/linux/page-flags.h PageHuge()/folio_test_hugetlb(): hugetlb is not modelled (always false)"))
_add("is_device_private_page folio_is_device_private is_device_exclusive_entry is_zone_device_page "
     "folio_is_zone_device", _e(E.FALSE,
     "include/linux/memremap.h is_device_private_page()/folio_is_device_private(): device memory "
     "is not modelled (always false)"))
_add("trylock_page folio_trylock", _e(E.TRUE,
     "include/linux/pagemap.h trylock_page()/folio_trylock(): the model has no lock contention (always succeeds)"))
_add("mm_tlb_flush_pending", _e(E.FALSE,
     "include/linux/mm_types.h mm_tlb_flush_pending(): the model has no concurrent TLB flushes"))
_add("userfaultfd_pte_wp userfaultfd_wp pte_uffd_wp huge_pte_uffd_wp vma_soft_dirty_enabled pte_soft_dirty",
     _e(E.FALSE, "uffd-wp and soft-dirty are not modelled (always false)"))
_add("pte_protnone pmd_protnone", _e(E.FALSE,
     "include/linux/pgtable.h pte_protnone(): NUMA hinting entries are not modelled (always false)"))

# Pure wrappers: their value is their (first) argument's.
TRANSPARENT = frozenset({
    "likely", "unlikely", "READ_ONCE", "data_race", "atomic_read", "atomic_long_read",
    "raw_atomic_read", "!!",
    # the warning macros return their condition: if (WARN_ON_ONCE(x)) ...
    "WARN_ON", "WARN_ON_ONCE", "WARN", "WARN_ONCE", "VM_WARN_ON_ONCE", "VM_WARN_ON_ONCE_PAGE",
    "VM_WARN_ON_ONCE_FOLIO",
})

# Bit-test helpers whose first argument names a bit: test_bit(MMF_HAS_PINNED, &mm->flags).
BIT_TESTS = frozenset({"test_bit", "mm_flags_test", "test_and_set_bit"})
BITS: dict[str, Entry] = {
    "MMF_HAS_PINNED": _e(A("mm_has_pinned"),
                         "include/linux/sched/coredump.h MMF_HAS_PINNED ('mm/gup: pack has_pinned in MMF_HAS_PINNED')"),
    "PG_anon_exclusive": _e(A("anon_exclusive"), "include/linux/page-flags.h PG_anon_exclusive (v5.19)"),
}

# Struct fields read as conditions: mm->has_pinned (v5.9..v5.13).
FIELDS: dict[str, Entry] = {
    "has_pinned": _e(A("mm_has_pinned"), "include/linux/mm_types.h mm_struct.has_pinned (v5.9, 008cfe4418b3)"),
}

# Flag constants of GUP, fault and VMA flag words: `flags & FOLL_PIN` reads foll_pin.
FLAGS: dict[str, Entry] = {
    "FOLL_PIN": _e(A("foll_pin"), "include/linux/mm.h FOLL_PIN (v5.6, pin_user_pages())"),
    "FOLL_GET": _e(A("foll_get"), "include/linux/mm.h FOLL_GET"),
    "FOLL_WRITE": _e(A("foll_write"), "include/linux/mm.h FOLL_WRITE"),
    "FOLL_LONGTERM": _e(A("foll_longterm"), "include/linux/mm.h FOLL_LONGTERM"),
    "FAULT_FLAG_WRITE": _e(A("fault_write"), "include/linux/mm_types.h FAULT_FLAG_WRITE"),
    "FAULT_FLAG_UNSHARE": _e(A("fault_unshare"), "include/linux/mm_types.h FAULT_FLAG_UNSHARE (v5.19)"),
    "VM_WRITE": _e(A("vm_write"), "include/linux/mm.h VM_WRITE"),
    "VM_SHARED": _e(E.FALSE, "include/linux/mm.h VM_SHARED: the model maps private anonymous memory only"),
    "VM_MAYSHARE": _e(E.FALSE, "include/linux/mm.h VM_MAYSHARE: the model maps private anonymous memory only"),
    "RMAP_EXCLUSIVE": _e(E.Free("RMAP_EXCLUSIVE"),
                         "include/linux/rmap.h RMAP_EXCLUSIVE (v5.19): an rmap flag, an outcome marker of "
                         "swap.in_exclusive rather than a condition"),
}
FLAG_PREFIXES = ("FOLL_", "FAULT_FLAG_", "VM_", "RMAP_", "MM_CP_")

# Pointers that the decision is about: non-NULL in the model when used as a condition.
PRESENT_POINTERS = frozenset({"page", "folio", "subpage", "vmf->page", "old_page", "old_folio"})

BOOL_CONSTS = {"true": E.TRUE, "false": E.FALSE, "NULL": E.Const(0)}


def describe(name: str) -> str | None:
    """The cite of a vocabulary name (a call, flag or bit), or None."""
    for table in (CALLS, FLAGS, BITS, FIELDS):
        if name in table:
            return table[name].cite
    return None


# ---------------------------------------------------------------- simplification

def mk_not(a: E.Expr) -> E.Expr:
    if type(a) is E.Const:
        return E.Const(not a.value)
    if type(a) is E.Not:
        return a.arg
    return E.Not(a)


def mk_and(*args: E.Expr) -> E.Expr:
    out: list[E.Expr] = []
    seen: set[E.Expr] = set()
    for a in args:
        parts = a.args if type(a) is E.And else (a,)
        for p in parts:
            if type(p) is E.Const:
                if not p.value:
                    return E.FALSE
                continue
            if p not in seen:
                seen.add(p)
                out.append(p)
    for p in out:
        if mk_not(p) in seen:
            return E.FALSE
    if not out:
        return E.TRUE
    return out[0] if len(out) == 1 else E.And(tuple(out))


def mk_or(*args: E.Expr) -> E.Expr:
    out: list[E.Expr] = []
    seen: set[E.Expr] = set()
    for a in args:
        parts = a.args if type(a) is E.Or else (a,)
        for p in parts:
            if type(p) is E.Const:
                if p.value:
                    return E.TRUE
                continue
            if p not in seen:
                seen.add(p)
                out.append(p)
    for p in out:
        if mk_not(p) in seen:
            return E.TRUE
    out = _merge_complements(out)
    out = _absorb_negations(out)
    if not out:
        return E.FALSE
    return out[0] if len(out) == 1 else E.Or(tuple(out))


def _conjuncts(e: E.Expr) -> tuple[E.Expr, ...]:
    return e.args if type(e) is E.And else (e,)


def _absorb_negations(terms: list[E.Expr]) -> list[E.Expr]:
    """!a || (a && b)  ->  !a || b: a disjunct's complement is redundant in the others."""
    if len(terms) < 2 or len(terms) > 64:
        return terms
    singles = [t for t in terms if type(t) is not E.And]
    out = []
    for t in terms:
        if type(t) is E.And:
            keep = [c for c in t.args if not any(mk_not(c) == s for s in singles)]
            t = mk_and(*keep) if len(keep) != len(t.args) else t
            if t == E.TRUE:
                return [E.TRUE]
        out.append(t)
    return out


def _complementary(a: set, b: set) -> bool:
    """b is the single conjunct !(conjunction of a)."""
    if len(b) != 1 or not a:
        return False
    (nb,) = b
    if type(nb) is not E.Not:
        return False
    return set(_conjuncts(nb.arg)) == a


def _merge_complements(terms: list[E.Expr]) -> list[E.Expr]:
    """(X && c) || (X && !c)  ->  X, repeatedly: what joining the two arms of an
    `if` leaves. Bounded: each merge removes a term."""
    if len(terms) < 2 or len(terms) > 64:
        return terms
    changed = True
    while changed and len(terms) > 1:
        changed = False
        for i in range(len(terms)):
            ci = _conjuncts(terms[i])
            si = set(ci)
            for j in range(i + 1, len(terms)):
                cj = _conjuncts(terms[j])
                only_i, only_j = si - set(cj), set(cj) - si
                if _complementary(only_i, only_j) or _complementary(only_j, only_i):
                    common = mk_and(*(c for c in ci if c not in only_i))
                    rest = [t for k, t in enumerate(terms) if k not in (i, j)]
                    terms = rest + [common] if common not in rest else rest
                    if common == E.TRUE:
                        return [E.TRUE]
                    changed = True
                    break
            if changed:
                break
    return terms


# ---------------------------------------------------------------- conversion

@dataclass
class FlagSet:
    """`word & MASK`: the bits of MASK, each a condition."""
    bits: dict[str, E.Expr]


@dataclass
class Mask:
    """An OR of flag constants (or 0)."""
    names: frozenset[str]


@dataclass(eq=False)
class Lazy:
    """A local variable's value: the C expression assigned and the variables it saw
    then; converted only where a condition reads the variable."""
    node: Node | None
    env: dict


@dataclass
class Unmodelled:
    name: str
    line: int


_WS = re.compile(r"\s+")
MAX_FREE_NAME = 80


def free_name(node: Node) -> str:
    s = _WS.sub(" ", text(node)).strip()
    return s if len(s) <= MAX_FREE_NAME else s[: MAX_FREE_NAME - 3] + "..."


@dataclass
class Converter:
    """Turns C expression nodes into spec.expr trees.

    env        local variables -> their value (from declarations and assignments)
    inline     name -> callable(call node) -> Expr | None: helpers whose body is known
    line_of    node -> file line, for unmodelled atoms
    """
    env: dict[str, object] = field(default_factory=dict)
    inline: Callable[[str, Node], E.Expr | None] | None = None
    line_of: Callable[[Node], int] = lambda n: n.start_point[0] + 1
    unmodelled: list[Unmodelled] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    max_depth: int = E.MAX_DEPTH - 20

    # -- public
    def cond(self, node: Node | None) -> E.Expr:
        return self._truth(self._value(node, 0), node)

    def value(self, node: Node | None) -> object:
        return self._value(node, 0)

    def truth(self, v: object, node: Node | None = None) -> E.Expr:
        return self._truth(v, node)

    # -- internals
    def _free(self, node: Node, name: str | None = None) -> E.Free:
        name = name or free_name(node)
        self.unmodelled.append(Unmodelled(name, self.line_of(node)))
        return E.Free(name)

    def _truth(self, v: object, node: Node | None) -> E.Expr:
        if isinstance(v, FlagSet):
            return mk_or(*v.bits.values()) if v.bits else E.FALSE
        if isinstance(v, Mask):
            return E.Const(bool(v.names))
        if type(v) is E.Const and not isinstance(v.value, bool):
            return E.Const(v.value != 0)
        if type(v) in (E.Atom,) and v.name in _INT_ATOMS:
            return E.Cmp("!=", v, E.Const(0))
        if type(v) is E.Arith:
            return E.Cmp("!=", v, E.Const(0))
        return v  # type: ignore[return-value]

    def _value(self, node: Node | None, depth: int) -> object:
        if node is None:
            return E.TRUE
        if depth > self.max_depth:
            self.warnings.append(f"line {self.line_of(node)}: expression nested deeper than "
                                 f"{self.max_depth}: read as one unmodelled atom")
            return self._free(node, "<expression too deep>")
        t = node.type
        d = depth + 1
        if t in ("parenthesized_expression", "expression_statement") and node.named_children:
            return self._value(node.named_children[-1], d)
        if t == "comma_expression":
            return self._value(node.child_by_field_name("right"), d)
        if t == "cast_expression":
            return self._value(node.child_by_field_name("value"), d)
        if t == "number_literal":
            return _number(node)
        if t in ("true", "false", "null"):
            return BOOL_CONSTS.get(text(node), E.Const(0))
        if t == "identifier":
            return self._identifier(node, d)
        if t == "field_expression":
            return self._field(node, d)
        if t == "pointer_expression":  # &mm->has_pinned
            arg = node.child_by_field_name("argument")
            fld = arg.child_by_field_name("field") if arg is not None and arg.type == "field_expression" else None
            if text(node.child_by_field_name("operator")) == "&" and fld is not None and text(fld) in FIELDS:
                return FIELDS[text(fld)].expr
            return self._free(node)
        if t == "unary_expression":
            return self._unary(node, d)
        if t == "binary_expression":
            return self._binary(node, d)
        if t == "conditional_expression":
            c = self.cond_at(node.child_by_field_name("condition"), d)
            a = self._truth(self._value(node.child_by_field_name("consequence"), d), node)
            b = self._truth(self._value(node.child_by_field_name("alternative"), d), node)
            return mk_or(mk_and(c, a), mk_and(mk_not(c), b))
        if t == "assignment_expression":
            return self._value(node.child_by_field_name("right"), d)
        if t == "call_expression":
            return self._call(node, d)
        return self._free(node)

    def cond_at(self, node: Node | None, depth: int) -> E.Expr:
        return self._truth(self._value(node, depth), node)

    def _env_value(self, key: str, depth: int) -> object:
        v = self.env[key]
        if isinstance(v, Lazy):
            saved = self.env
            self.env = v.env
            try:
                return self._value(v.node, depth + 1) if v.node is not None else E.Free(key)
            finally:
                self.env = saved
        return v

    def _identifier(self, node: Node, depth: int = 0) -> object:
        name = text(node)
        if name in self.env:
            return self._env_value(name, depth)
        if name in BOOL_CONSTS:
            return BOOL_CONSTS[name]
        if name in FLAGS or name.startswith(FLAG_PREFIXES):
            return Mask(frozenset({name}))
        if name in PRESENT_POINTERS:
            return E.TRUE
        return self._free(node)

    def _field(self, node: Node, depth: int = 0) -> object:
        full = _WS.sub("", text(node))
        if full in self.env:
            return self._env_value(full, depth)
        if full in PRESENT_POINTERS:
            return E.TRUE
        fld = node.child_by_field_name("field")
        if fld is not None and text(fld) in FIELDS:
            return FIELDS[text(fld)].expr
        return self._free(node)

    def _unary(self, node: Node, d: int) -> object:
        op = text(node.child_by_field_name("operator"))
        arg = node.child_by_field_name("argument")
        if op == "!":
            return mk_not(self.cond_at(arg, d))
        if op == "-":
            if arg is not None and arg.type == "identifier" and re.fullmatch(r"E[A-Z0-9]+", text(arg)):
                return E.Const(-1)  # -EBUSY, -ENOMEM: a non-zero error code
            v = self._value(arg, d)
            if type(v) is E.Const and not isinstance(v.value, bool):
                return E.Const(-v.value)
            if isinstance(v, E.Free) or (arg is not None and arg.type == "identifier" and text(arg).startswith("E")):
                # -EBUSY, -ENOMEM: a non-zero error code
                return E.Const(-1)
            return E.Arith("-", E.Const(0), self._truth_int(v, node))
        if op == "+":
            return self._value(arg, d)
        if op == "&":  # atomic_read(&mm->has_pinned): the field's meaning
            fld = arg.child_by_field_name("field") if arg is not None and arg.type == "field_expression" else None
            if fld is not None and text(fld) in FIELDS:
                return FIELDS[text(fld)].expr
            return self._free(node)
        return self._free(node)

    def _truth_int(self, v: object, node: Node) -> E.Expr:
        if isinstance(v, (FlagSet, Mask)):
            return self._truth(v, node)
        return v  # type: ignore[return-value]

    def _binary(self, node: Node, d: int) -> object:
        op = text(node.child_by_field_name("operator"))
        ln, rn = node.child_by_field_name("left"), node.child_by_field_name("right")
        if op == "&&":
            return mk_and(self.cond_at(ln, d), self.cond_at(rn, d))
        if op == "||":
            return mk_or(self.cond_at(ln, d), self.cond_at(rn, d))
        if op in ("==", "!="):
            special = _pointer_compare(ln, rn)
            if special is not None:
                return special if op == "==" else mk_not(special)
        lv, rv = self._value(ln, d), self._value(rn, d)
        if op == "|" and isinstance(lv, Mask) and isinstance(rv, Mask):
            return Mask(lv.names | rv.names)
        if op == "&":
            mask, word = (rv, lv) if isinstance(rv, Mask) else (lv, rv)
            if isinstance(mask, Mask):
                return FlagSet({n: self._flag(n, node) for n in sorted(mask.names)})
            return self._free(node)
        if op in E.CMP_OPS:
            if isinstance(lv, (FlagSet, Mask)) or isinstance(rv, (FlagSet, Mask)):
                return self._flag_compare(op, lv, rv, node)
            return _fold_cmp(op, self._as_int(lv, node), self._as_int(rv, node))
        if op in E.ARITH_OPS:
            return _fold_arith(op, self._as_int(lv, node), self._as_int(rv, node))
        return self._free(node)

    def _as_int(self, v: object, node: Node) -> E.Expr:
        if isinstance(v, (FlagSet, Mask)):
            return self._truth(v, node)
        return v  # type: ignore[return-value]

    def _flag(self, name: str, node: Node) -> E.Expr:
        entry = FLAGS.get(name)
        if entry is not None and type(entry.expr) is not E.Free:
            return entry.expr
        return self._free(node, name)

    def _flag_compare(self, op: str, lv: object, rv: object, node: Node) -> E.Expr:
        # (flags & (A|B)) == A  ->  a && !b ;  != -> the negation; == 0 -> none set
        if isinstance(rv, FlagSet) and not isinstance(lv, FlagSet):
            lv, rv = rv, lv
        if op not in ("==", "!=") or not isinstance(lv, FlagSet):
            return self._free(node)
        if isinstance(rv, Mask):
            want = rv.names
        elif type(rv) is E.Const and rv.value == 0:
            want = frozenset()
        else:
            return self._free(node)
        if not want <= set(lv.bits):
            eq: E.Expr = E.FALSE
        else:
            eq = mk_and(*(b if n in want else mk_not(b) for n, b in lv.bits.items()))
        return eq if op == "==" else mk_not(eq)

    def _call(self, node: Node, d: int) -> object:
        fn = node.child_by_field_name("function")
        args = node.child_by_field_name("arguments")
        argv = [a for a in (args.named_children if args is not None else []) if a.type != "comment"]
        name = text(fn) if fn is not None and fn.type == "identifier" else None
        if name is None:
            return self._free(node)
        if name in TRANSPARENT:
            return self._value(argv[0], d) if argv else self._free(node)
        if name == "IS_ENABLED":
            return self._free(node)
        if name in BIT_TESTS and argv:
            bit = text(argv[0])
            if bit in BITS:
                return BITS[bit].expr
            return self._free(node)
        if self.inline is not None:
            inlined = self.inline(name, node)
            if inlined is not None:
                return inlined
        if name in CALLS:
            return CALLS[name].expr
        return self._free(node)


_INT_ATOMS = frozenset({"refcount", "mapcount", "folio_mapcount", "pincount", "swapcount"})


def _number(node: Node) -> E.Expr:
    s = text(node).rstrip("uUlL")
    try:
        return E.Const(int(s, 0))
    except ValueError:
        return E.Free(text(node))


# The mapping level a v6.8+ rmap helper is called for (enum rmap_level / rmap_mode):
# the spec's context says it as pmd_mapped.
RMAP_LEVELS: dict[str, E.Expr] = {
    "RMAP_LEVEL_PTE": E.Not(A("pmd_mapped")), "RMAP_MODE_PTE": E.Not(A("pmd_mapped")),
    "RMAP_LEVEL_PMD": A("pmd_mapped"), "RMAP_MODE_PMD": A("pmd_mapped"),
    "RMAP_LEVEL_PUD": E.FALSE,
}
LEVEL_CITE = ("include/linux/rmap.h enum rmap_level (v6.8: RMAP_LEVEL_PTE/PMD, "
              "'mm/rmap: introduce folio_try_dup_anon_rmap_[pte|ptes|pmd]()')")


def level_condition(value_text: str, case_text: str) -> E.Expr | None:
    """`level == RMAP_LEVEL_PMD` (an if, or a switch case): the mapping level."""
    if value_text.strip() in ("level", "mode") and case_text.strip() in RMAP_LEVELS:
        return RMAP_LEVELS[case_text.strip()]
    return None


def _pointer_compare(ln: Node | None, rn: Node | None) -> E.Expr | None:
    """`page == swapcache` in do_swap_page(): the page is the swap cache's own folio
    (false when a fresh copy was made: "certainly exclusive"; v5.19 do_swap_page())."""
    lt, rt = (text(ln) if ln is not None else ""), (text(rn) if rn is not None else "")
    if {lt, rt} in ({"page", "swapcache"}, {"folio", "swapcache"}):
        return A("from_swapcache")
    return level_condition(lt, rt) or level_condition(rt, lt)


def _boolean(e: E.Expr) -> bool:
    t = type(e)
    return (t in (E.And, E.Or, E.Not, E.Cmp) or (t is E.Const and isinstance(e.value, bool))
            or (t is E.Atom and e.name not in _INT_ATOMS))


def _fold_cmp(op: str, l: E.Expr, r: E.Expr) -> E.Expr:
    if type(l) is E.Const and type(r) is E.Const:
        return E.Const(bool(E.evaluate(E.Cmp(op, l, r), None)))
    # a condition compared with 0 (an inlined helper's "returned non-zero"):
    # `ret <= 0` is "returned 0", `ret > 0` is "returned non-zero"
    if type(r) is E.Const and r.value == 0 and not isinstance(r.value, bool) and _boolean(l):
        folded = {"==": mk_not(l), "<=": mk_not(l), "!=": l, ">": l, "<": E.FALSE, ">=": E.TRUE}
        return folded[op]
    return E.Cmp(op, l, r)


def _fold_arith(op: str, l: E.Expr, r: E.Expr) -> E.Expr:
    if type(l) is E.Const and type(r) is E.Const:
        return E.Const(int(E.evaluate(E.Arith(op, l, r), None)))
    return E.Arith(op, l, r)


def check_vocabulary() -> list[str]:
    """Problems in the tables: atoms that are not DecisionContext fields."""
    bad = []
    for table in (CALLS, FLAGS, BITS, FIELDS):
        for name, entry in table.items():
            for atom in E.atoms(entry.expr):
                if atom not in CONTEXT_FIELDS:
                    bad.append(f"{name}: {atom}")
    return bad
