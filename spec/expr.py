"""A tiny typed expression language for conditions: the guards of decision rules and
the conditions of assertion rules.

Extraction (review/extract) turns the C condition of a kernel function into one of
these trees; the spec evaluates it against a DecisionContext. Nothing here ever calls
Python's eval: a tree is data, built from a closed set of node types, and evaluating
it only reads named context fields and the fixed valuation of free atoms.

Node types:
    Const(value)              true/false/an integer literal
    Atom(name)                a vocabulary atom: a field of DecisionContext
    Free(name)                an identifier the vocabulary lacks ("unmodelled"): its
                              truth value is a free choice, fixed per run by the
                              valuation (the fuzzer explores both ways)
    Not(arg)                  !
    And(args) / Or(args)      && / || (n-ary, short-circuit)
    Cmp(op, left, right)      == != < <= > >=
    Arith(op, left, right)    + - (counts: refcount > mapcount + 1 ...)

Values follow C: an integer used as a condition is true when non-zero.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Union

# Trees deeper than this are rejected when built from JSON; extraction caps depth
# the same way, so evaluation never hits Python's recursion limit.
MAX_DEPTH = 200

CMP_OPS = ("==", "!=", "<", "<=", ">", ">=")
ARITH_OPS = ("+", "-")


class ExprError(ValueError):
    """A malformed expression tree (bad JSON shape, unknown node or operator)."""


@dataclass(frozen=True, slots=True)
class Const:
    value: int | bool

    def __str__(self) -> str:
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        return str(self.value)


@dataclass(frozen=True, slots=True)
class Atom:
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Free:
    name: str

    def __str__(self) -> str:
        return f"?{self.name}"


@dataclass(frozen=True, slots=True)
class Not:
    arg: "Expr"

    def __str__(self) -> str:
        return f"!{_paren(self.arg)}"


@dataclass(frozen=True, slots=True)
class And:
    args: tuple["Expr", ...]

    def __str__(self) -> str:
        return " && ".join(_paren(a) for a in self.args) if self.args else "true"


@dataclass(frozen=True, slots=True)
class Or:
    args: tuple["Expr", ...]

    def __str__(self) -> str:
        return " || ".join(_paren(a) for a in self.args) if self.args else "false"


@dataclass(frozen=True, slots=True)
class Cmp:
    op: str
    left: "Expr"
    right: "Expr"

    def __post_init__(self) -> None:
        if self.op not in CMP_OPS:
            raise ExprError(f"unknown comparison {self.op!r}")

    def __str__(self) -> str:
        return f"{_paren(self.left)} {self.op} {_paren(self.right)}"


@dataclass(frozen=True, slots=True)
class Arith:
    op: str
    left: "Expr"
    right: "Expr"

    def __post_init__(self) -> None:
        if self.op not in ARITH_OPS:
            raise ExprError(f"unknown arithmetic operator {self.op!r}")

    def __str__(self) -> str:
        return f"{_paren(self.left)} {self.op} {_paren(self.right)}"


Expr = Union[Const, Atom, Free, Not, And, Or, Cmp, Arith]
TRUE = Const(True)
FALSE = Const(False)


def _paren(e: Expr) -> str:
    return f"({e})" if isinstance(e, (And, Or, Cmp, Arith)) else str(e)


def evaluate(e: Expr, ctx: Any, free: Mapping[str, bool] | None = None) -> int | bool:
    """Value of `e` with atoms read from `ctx` (attribute access by field name) and
    free atoms from `free` (missing free atoms are false)."""
    t = type(e)
    if t is Atom:
        return getattr(ctx, e.name)
    if t is Const:
        return e.value
    if t is Not:
        return not evaluate(e.arg, ctx, free)
    if t is And:
        return all(evaluate(a, ctx, free) for a in e.args)
    if t is Or:
        return any(evaluate(a, ctx, free) for a in e.args)
    if t is Cmp:
        l, r = evaluate(e.left, ctx, free), evaluate(e.right, ctx, free)
        op = e.op
        if op == "==":
            return l == r
        if op == "!=":
            return l != r
        if op == "<":
            return l < r
        if op == "<=":
            return l <= r
        if op == ">":
            return l > r
        return l >= r
    if t is Arith:
        l, r = evaluate(e.left, ctx, free), evaluate(e.right, ctx, free)
        return l + r if e.op == "+" else l - r
    if t is Free:
        return bool(free.get(e.name, False)) if free else False
    raise ExprError(f"not an expression node: {e!r}")


def atoms(e: Expr) -> set[str]:
    """Names of the vocabulary atoms `e` reads."""
    return {n.name for n in walk(e) if type(n) is Atom}


def free_atoms(e: Expr) -> set[str]:
    """Names of the unmodelled (free) atoms in `e`."""
    return {n.name for n in walk(e) if type(n) is Free}


def walk(e: Expr):
    stack = [e]
    while stack:
        n = stack.pop()
        yield n
        t = type(n)
        if t is Not:
            stack.append(n.arg)
        elif t in (And, Or):
            stack.extend(n.args)
        elif t in (Cmp, Arith):
            stack.extend((n.left, n.right))


# --- JSON form: {"const": true} {"atom": "anon"} {"free": "x"} {"not": e}
#     {"and": [e...]} {"or": [e...]} {"cmp": "==", "l": e, "r": e} {"arith": "+", "l": e, "r": e}

def to_json(e: Expr) -> Any:
    t = type(e)
    if t is Const:
        return {"const": e.value}
    if t is Atom:
        return {"atom": e.name}
    if t is Free:
        return {"free": e.name}
    if t is Not:
        return {"not": to_json(e.arg)}
    if t is And:
        return {"and": [to_json(a) for a in e.args]}
    if t is Or:
        return {"or": [to_json(a) for a in e.args]}
    if t is Cmp:
        return {"cmp": e.op, "l": to_json(e.left), "r": to_json(e.right)}
    if t is Arith:
        return {"arith": e.op, "l": to_json(e.left), "r": to_json(e.right)}
    raise ExprError(f"not an expression node: {e!r}")


def from_json(obj: Any, depth: int = 0) -> Expr:
    if depth > MAX_DEPTH:
        raise ExprError(f"expression nested deeper than {MAX_DEPTH}")
    if not isinstance(obj, dict) or not obj:
        raise ExprError(f"expression must be a non-empty object, got {type(obj).__name__}")
    d = depth + 1
    if "const" in obj:
        v = obj["const"]
        if not isinstance(v, (bool, int)):
            raise ExprError("const must be a boolean or an integer")
        return Const(v)
    if "atom" in obj or "free" in obj:
        key = "atom" if "atom" in obj else "free"
        name = obj[key]
        if not isinstance(name, str) or not name:
            raise ExprError(f"{key} must name an identifier")
        return Atom(name) if key == "atom" else Free(name)
    if "not" in obj:
        return Not(from_json(obj["not"], d))
    for key, cls in (("and", And), ("or", Or)):
        if key in obj:
            args = obj[key]
            if not isinstance(args, list):
                raise ExprError(f"{key} takes a list")
            return cls(tuple(from_json(a, d) for a in args))
    for key, cls in (("cmp", Cmp), ("arith", Arith)):
        if key in obj:
            if "l" not in obj or "r" not in obj:
                raise ExprError(f"{key} needs l and r")
            return cls(obj[key], from_json(obj["l"], d), from_json(obj["r"], d))
    raise ExprError(f"unknown expression node {sorted(obj)}")
