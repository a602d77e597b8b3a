"""When are two extracted decisions the same rule? Decided by truth tables over the
context fields their guards read, never by how the C is written.

    compare(a, b) -> Comparison     equivalent | differs | undecided, with a witness
    same_decision(a, b) -> bool     compare(a, b).equivalent

Unmodelled atoms (spec.expr.Free) stand for C the model cannot read: they may take
either value, and may depend on the context. So a difference counts only where it
survives every valuation of them: "differs" needs a context in which no valuation
makes the two pick the same outcome. Where some valuation always reconciles them,
the verdict is "undecided": the rules may be equal, depending on what the unmodelled
C computes (the atoms say what). The atom a hunk's window is entered under is not
unseen code but a fact about the state ("the window is reached"): it is enumerated
with the context.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from spec import expr as E
from spec.decisions import INT_FIELDS, DecisionContext, ExtractedDecision

from review.extract.hunks import is_entry_atom
from review.extract.simplify import mk_or

# Contexts x valuations enumerated at most; past it the answer is "undecided".
MAX_CONTEXTS = 200_000


@dataclass(frozen=True)
class Comparison:
    verdict: str                 # "equivalent" | "differs" | "undecided"
    contexts: int = 0            # how many contexts the truth table covered
    witness: dict | None = None  # differs: a context where every valuation differs
    depends_on: tuple[str, ...] = ()  # undecided: the unmodelled atoms it hinges on
    why: str = ""                # undecided: too many contexts, or the atoms

    @property
    def equivalent(self) -> bool:
        return self.verdict == "equivalent"

    def describe(self) -> str:
        if self.verdict == "equivalent":
            return f"equivalent (truth table over {self.contexts} contexts)"
        if self.verdict == "differs":
            where = ", ".join(f"{k}={_show(v)}" for k, v in sorted((self.witness or {}).items()))
            return f"differs (for example when {where or 'always'})"
        return f"undecided: {self.why}"


def _show(v) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


def outcome_guard(d: ExtractedDecision, outcome: str) -> E.Expr:
    return mk_or(*(c.guard for c in d.cases if c.outcome == outcome))


def _domains(atoms: set[str], consts: set[int]) -> list[tuple[str, tuple]]:
    ints = sorted({v for c in consts for v in (c - 1, c, c + 1) if v >= 0} | set(range(0, 5)))
    return [(n, tuple(ints) if n in INT_FIELDS else (False, True)) for n in sorted(atoms)]


def _contexts(domains: list[tuple[str, tuple]]):
    names = [n for n, _ in domains]
    for values in product(*(d for _, d in domains)):
        ctx = DecisionContext()
        for n, v in zip(names, values):
            if not is_entry_atom(n):
                setattr(ctx, n, v)
        yield dict(zip(names, values)), ctx


def _pick(d: ExtractedDecision, ctx, free) -> str | None:
    for c in d.cases:
        if E.evaluate(c.guard, ctx, free):
            return c.outcome
    return d.default


def compare(a: ExtractedDecision, b: ExtractedDecision) -> Comparison:
    """Booleans both ways, counts over 0..4 and around every constant the guards
    compare with, unmodelled atoms both ways (matched by name across the two)."""
    if a.point != b.point:
        return Comparison("differs", why="different decision points")
    if a.default == b.default and [(c.guard, c.outcome) for c in a.cases] == [(c.guard, c.outcome) for c in b.cases]:
        return Comparison("equivalent", 1)  # the same rules, whatever their provenance
    atoms: set[str] = set()
    frees: set[str] = set()
    consts: set[int] = set()
    for d in (a, b):
        for c in d.cases:
            atoms |= E.atoms(c.guard)
            frees |= E.free_atoms(c.guard)
            consts |= {n.value for n in E.walk(c.guard)
                       if type(n) is E.Const and not isinstance(n.value, bool)}
    entries = {n for n in frees if is_entry_atom(n)}
    frees -= entries
    domains = _domains(atoms, consts) + [(n, (False, True)) for n in sorted(entries)]
    size = 2 ** len(frees)
    for _, dom in domains:
        size *= len(dom)
    if size > MAX_CONTEXTS:
        return Comparison("undecided", why=f"more than {MAX_CONTEXTS} contexts to enumerate")
    names = sorted(frees)
    valuations = [{n: bool(bits >> i & 1) for i, n in enumerate(names)} for bits in range(2 ** len(names))]
    contexts = 0
    differs_somewhere = False
    for shown, ctx in _contexts(domains):
        contexts += 1
        entry = {n: shown[n] for n in entries}
        agree = [_pick(a, ctx, {**val, **entry}) == _pick(b, ctx, {**val, **entry}) for val in valuations]
        if not any(agree):
            return Comparison("differs", contexts, witness=shown)
        differs_somewhere |= not all(agree)
    if differs_somewhere:
        return Comparison("undecided", contexts, depends_on=tuple(names),
                          why="equal only for some values of " + ", ".join(f"`{n}`" for n in names))
    return Comparison("equivalent", contexts)


def same_decision(a: ExtractedDecision, b: ExtractedDecision) -> bool:
    """Do two extracted decisions pick the same outcome (or both none) in every
    context and for every valuation of their unmodelled atoms? When the space is too
    large to enumerate, answers False: "may differ", so that callers go on to fuzz
    rather than trust an unproven equality."""
    return compare(a, b).equivalent
