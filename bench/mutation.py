"""Mutants of a preset's decision points, for bench/mutants.py. Not a benchmark itself.

A decision point of a preset is a small function over a DecisionContext (spec/presets.py),
which may call helpers of the same file (_refcount_after_free_swap, or another era's
decision function). Each mutant changes one node of one of those functions:

    drop      an operand of an `and` (a conjunct) or of an `or` (a disjunct)
    negate    an atom of a condition: a comparison (its operator inverted), a boolean
              attribute test, a call, a `not x` (becomes x)
    swap      a mapcount test for a refcount test and back (c.mapcount, c.thp_mapcount,
              c.folio_mapcount <-> c.refcount)
    boundary  >= into >, <= into <, > into >=, < into <=
    outcome   a returned outcome into another legal outcome of the point (DECISION_POINTS)

and comes back as a RuleSet: the preset with that point's function replaced by the
mutated one, compiled in spec.presets' namespace (with the other functions it reaches
recompiled beside it, so that they call the mutated helper).
"""
from __future__ import annotations

import ast
import copy
import inspect
import sys
import textwrap
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spec import presets  # noqa: E402
from spec.decisions import DECISION_POINTS, RuleSet  # noqa: E402

OPERATORS = ("drop", "negate", "swap", "boundary", "outcome")
# attribute of the context -> what a swapped test reads instead
SWAPS = {"mapcount": "refcount", "thp_mapcount": "refcount", "folio_mapcount": "refcount",
         "refcount": "mapcount"}
BOUNDARY = {ast.GtE: ast.Gt, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.Lt: ast.LtE}
INVERSE = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt,
           ast.Gt: ast.LtE, ast.LtE: ast.Gt, ast.In: ast.NotIn, ast.NotIn: ast.In,
           ast.Is: ast.IsNot, ast.IsNot: ast.Is}


@dataclass(frozen=True)
class Change:
    """One mutation of one function: the operator, where (line in the function's
    file), what, and the mutated function's source."""
    operator: str
    line: int
    what: str
    source: str


@dataclass(frozen=True)
class Mutant:
    point: str
    root: str        # the decision function the preset wires to the point
    function: str    # the function changed: root or a helper it reaches
    change: Change
    rules: RuleSet

    @property
    def label(self) -> str:
        return f"{self.point}: {self.function} line {self.change.line}: {self.change.what}"


# ---------------------------------------------------------------- operators
def mutate(func: ast.FunctionDef, outcomes: tuple[str, ...] = (),
           first_line: int = 1) -> list[Change]:
    """Every single-node mutation of `func` (an ast.FunctionDef whose line 1 is line
    `first_line` of its file), without duplicates. `outcomes`: the legal outcomes of
    the decision point; returned strings among them are replaced by the others."""
    out: list[Change] = []
    seen = {ast.unparse(func)}
    nodes = list(ast.walk(func))
    for index, node in enumerate(nodes):
        for operator, what, new in _mutations(node, func, outcomes):
            mutated = _substituted(func, index, new)
            text = ast.unparse(mutated)
            if text in seen:
                continue
            seen.add(text)
            line = first_line + getattr(node, "lineno", func.lineno) - func.lineno
            out.append(Change(operator, line, what, text))
    return sorted(out, key=lambda c: c.line)


def _mutations(node: ast.AST, func: ast.FunctionDef,
               outcomes: tuple[str, ...]) -> Iterator[tuple[str, str, ast.AST]]:
    """(operator, description, replacement node) for each mutation at `node`."""
    if isinstance(node, ast.BoolOp):
        for i, operand in enumerate(node.values):
            rest = node.values[:i] + node.values[i + 1:]
            new = rest[0] if len(rest) == 1 else ast.BoolOp(node.op, rest)
            yield "drop", f"drop '{ast.unparse(operand)}'", new
    if _is_atom(node) and any(node in _atoms(c) for c in _conditions(func)):
        yield "negate", f"negate '{ast.unparse(node)}'", _negated(node)
    if isinstance(node, ast.Attribute) and node.attr in SWAPS and isinstance(node.ctx, ast.Load):
        new = ast.Attribute(node.value, SWAPS[node.attr], ast.Load())
        yield "swap", f"'{ast.unparse(node)}' -> '{ast.unparse(new)}'", new
    if isinstance(node, ast.Compare):
        for j, op in enumerate(node.ops):
            if type(op) in BOUNDARY:
                ops = list(node.ops)
                ops[j] = BOUNDARY[type(op)]()
                new = ast.Compare(node.left, ops, node.comparators)
                yield "boundary", f"'{ast.unparse(node)}' -> '{ast.unparse(new)}'", new
    if isinstance(node, ast.Constant) and node.value in outcomes \
            and any(node in _returned(r.value) for r in ast.walk(func) if isinstance(r, ast.Return)):
        for other in outcomes:
            if other != node.value:
                yield "outcome", f"return '{other}' for '{node.value}'", ast.Constant(other)


def _conditions(func: ast.FunctionDef) -> Iterator[ast.AST]:
    """The expressions `func` tests: if/while/conditional-expression tests, and a
    returned boolean expression (a helper predicate)."""
    for node in ast.walk(func):
        if isinstance(node, (ast.If, ast.IfExp, ast.While)):
            yield node.test
        elif isinstance(node, ast.Return) and _is_boolean(node.value):
            yield node.value


def _is_boolean(value: ast.AST | None) -> bool:
    return isinstance(value, (ast.BoolOp, ast.Compare)) or \
        isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not)


def _is_atom(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not isinstance(node.operand, ast.BoolOp)
    return isinstance(node, (ast.Compare, ast.Attribute, ast.Call, ast.Name))


def _atoms(cond: ast.AST) -> list[ast.AST]:
    if isinstance(cond, ast.BoolOp):
        return [a for v in cond.values for a in _atoms(v)]
    if isinstance(cond, ast.UnaryOp) and isinstance(cond.op, ast.Not) and \
            isinstance(cond.operand, ast.BoolOp):
        return _atoms(cond.operand)
    return [cond] if _is_atom(cond) else []


def _negated(atom: ast.AST) -> ast.AST:
    if isinstance(atom, ast.UnaryOp) and isinstance(atom.op, ast.Not):
        return atom.operand
    if isinstance(atom, ast.Compare) and len(atom.ops) == 1 and type(atom.ops[0]) in INVERSE:
        return ast.Compare(atom.left, [INVERSE[type(atom.ops[0])]()], atom.comparators)
    return ast.UnaryOp(ast.Not(), atom)


def _returned(value: ast.AST | None) -> list[ast.AST]:
    """The nodes a return statement may hand back as its value: the value, or the
    branches of a conditional expression."""
    if isinstance(value, ast.IfExp):
        return _returned(value.body) + _returned(value.orelse)
    return [value] if value is not None else []


def _substituted(func: ast.FunctionDef, index: int, new: ast.AST) -> ast.FunctionDef:
    """A copy of `func` with its `index`-th node (ast.walk order) replaced by `new`."""
    tree = copy.deepcopy(func)
    target = list(ast.walk(tree))[index]
    for parent in ast.walk(tree):
        for name, value in ast.iter_fields(parent):
            if value is target:
                setattr(parent, name, new)
            elif isinstance(value, list) and any(v is target for v in value):
                setattr(parent, name, [new if v is target else v for v in value])
    return ast.fix_missing_locations(tree)


# ---------------------------------------------------------------- decision points
def reached(fn: Callable) -> list[Callable]:
    """`fn` and every function of spec/presets.py it calls, transitively, callers first."""
    out = [fn]
    i = 0
    while i < len(out):
        for node in ast.walk(_parsed(out[i])):
            if isinstance(node, ast.Name):
                g = getattr(presets, node.id, None)
                if inspect.isfunction(g) and g.__module__ == presets.__name__ and g not in out:
                    out.append(g)
        i += 1
    return out


def _parsed(fn: Callable) -> ast.FunctionDef:
    return ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]


def mutants(preset: RuleSet, points: tuple[str, ...] | None = None) -> list[Mutant]:
    """Every mutant of every decision point of `preset` (or of `points`)."""
    out = []
    for point in points or tuple(DECISION_POINTS):
        root = preset.decide[point]
        functions = reached(root)
        for fn in functions:
            first_line = inspect.getsourcelines(fn)[1]
            for change in mutate(_parsed(fn), DECISION_POINTS[point].outcomes, first_line):
                rules = _compiled(preset, point, functions, fn, change.source)
                out.append(Mutant(point, root.__name__, fn.__name__, change, rules))
    return out


def _compiled(preset: RuleSet, point: str, functions: list[Callable], changed: Callable,
              source: str) -> RuleSet:
    namespace = dict(vars(presets))
    for fn in functions:
        text = source if fn is changed else ast.unparse(_parsed(fn))
        exec(compile(text, f"{presets.__file__} (mutant)", "exec"), namespace)
    decide = dict(preset.decide)
    decide[point] = namespace[functions[0].__name__]
    return replace(preset, name=f"{preset.name}-mutant", decide=decide)
