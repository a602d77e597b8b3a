"""C expressions (tree-sitter nodes) -> spec.expr trees, through the vocabulary.

`Converter` reads a condition node by node: vocabulary calls, flags, bits and fields
(review/extract/vocab.py), local variables (their assigned expression, read lazily), helpers
the caller can inline, comparisons and arithmetic on counts, flag words bit by bit.
Anything else is a Free atom named by its C text and recorded as unmodelled with its
line. Nothing is evaluated: the result is built from spec.expr's closed node set.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from tree_sitter import Node

from spec import expr as E
from review.extract.cparse import call_arguments, text
from review.extract.simplify import mk_and, mk_not, mk_or
from review.extract.vocab import (
    BIT_TESTS, BITS, BOOL_CONSTS, CALLS, FIELDS, FLAG_PREFIXES, FLAGS, PRESENT_POINTERS, TRANSPARENT,
    A, level_condition,
)

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
        argv = call_arguments(node)
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
