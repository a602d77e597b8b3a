"""Simplification of condition trees as extraction builds them: constant folding,
duplicate and complementary conjuncts, and the joins of if/else arms
((X && c) || (X && !c) -> X). Pure functions over spec.expr trees; bounded work.
"""
from __future__ import annotations

from spec import expr as E


def mk_not(a: E.Expr) -> E.Expr:
    if type(a) is E.Const:
        return E.Const(not a.value)
    if type(a) is E.Not:
        return a.arg
    return E.Not(a)


def mk_and(*args: E.Expr) -> E.Expr:
    out = _operands(args, E.And, absorbing=False)
    if out is None:
        return E.FALSE
    if not out:
        return E.TRUE
    return out[0] if len(out) == 1 else E.And(tuple(out))


def mk_or(*args: E.Expr) -> E.Expr:
    out = _operands(args, E.Or, absorbing=True)
    if out is None:
        return E.TRUE
    out = _merge_complements(out)
    out = _absorb_negations(out)
    if not out:
        return E.FALSE
    return out[0] if len(out) == 1 else E.Or(tuple(out))


def _operands(args, kind: type, absorbing: bool) -> list[E.Expr] | None:
    """The distinct operands of a conjunction (kind E.And, absorbing False) or a
    disjunction (E.Or, True), nested ones of the same kind flattened and the neutral
    constant dropped; None when the result is the absorbing constant: an operand is
    that constant, or the complement of another."""
    out: list[E.Expr] = []
    seen: set[E.Expr] = set()
    for a in args:
        parts = a.args if type(a) is kind else (a,)
        for p in parts:
            if type(p) is E.Const:
                if bool(p.value) is absorbing:
                    return None
                continue
            if p not in seen:
                seen.add(p)
                out.append(p)
    for p in out:
        if mk_not(p) in seen:
            return None
    return out


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
