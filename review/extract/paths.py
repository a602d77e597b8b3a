"""Path conditions of one C function: which conditions lead to each outcome marker,
which conditions make each assertion macro fire, and what the function returns under
which condition (used to inline small helpers into their callers' conditions).

A bounded symbolic walk over the tree-sitter tree: each live path carries its path
condition (a spec.expr tree) and the values of the local variables assigned so far.
`if` splits paths; `return`, `goto` and markers end them; forward gotos resume at
their label. Loops and switches are read once, under their condition, for the
markers, returns and assertions in them, and the paths that skip them go on; a
backward goto (a retry loop written with a label) ends its path the same way.
Limits (paths, nesting, inlining depth) give warnings, never hangs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from tree_sitter import Node

from spec import expr as E
from review.extract.bindings import DecisionBinding, Marker
from review.extract.cparse import CFunction, call_arguments, callee, text
from review.extract.expr import INT_ATOMS, Converter, Guarded, Lazy, Unmodelled
from review.extract.locals import assignments, relevant_variables
from review.extract.simplify import mk_and, mk_not, mk_or
from review.extract.vocab import ASSERT_RE, level_condition

MAX_PATHS = 64
MAX_NESTING = 120
MAX_INLINE_DEPTH = 4
MAX_INLINE_LINES = 200
# A function bigger than this (branch points, conditions per path) is read up to the
# limit and reported partial: path conditions grow with every branch.
MAX_BRANCHES = 400
MAX_CONJUNCTS = 120
MAX_VARIABLES = 64


@dataclass
class PathState:
    pc: E.Expr
    env: dict


@dataclass
class Reached:
    guard: E.Expr
    outcome: str
    line: int
    text: str


@dataclass
class FoundAssertion:
    macro: str
    condition: E.Expr
    line: int
    text: str


@dataclass
class Returned:
    guard: E.Expr
    value: E.Expr      # the returned value as a condition ("returned non-zero")
    line: int
    raw: object = None  # the value itself: an integer, a count, a condition, or an
                        # inlined callee's Guarded returns


@dataclass
class WalkResult:
    reached: list[Reached] = field(default_factory=list)
    assertions: list[FoundAssertion] = field(default_factory=list)
    returns: list[Returned] = field(default_factory=list)
    fallthrough: E.Expr = E.FALSE  # condition of reaching the end of the body
    at_lines: dict[int, E.Expr] = field(default_factory=dict)  # watched: statement line -> reaching it
    unmodelled: list[Unmodelled] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    truncated: bool = False  # a size limit stopped the walk: the rules are partial


class Walker:
    def __init__(self, fn: CFunction, binding: DecisionBinding | None = None,
                 helpers: Callable[[str], CFunction | None] | None = None,
                 inline_ok: Callable[[str], bool] | None = None,
                 inline_stack: tuple[str, ...] = (), arguments: dict | None = None,
                 watch_lines: bool = False):
        self.fn = fn
        self.watch_lines = watch_lines  # record the condition of reaching each statement
        self.arguments = arguments or {}  # parameter -> the caller's argument (Lazy)
        self.binding = binding
        self.helpers = helpers
        self.inline_ok = inline_ok or (lambda name: True)
        self.inline_stack = inline_stack + (fn.name,)
        self.result = WalkResult()
        self.conv = Converter(inline=self._inline, line_of=fn.file_line,
                              unmodelled=self.result.unmodelled, warnings=self.result.warnings,
                              file=fn.file)
        self.pending: dict[str, list[PathState]] = {}
        self.labels_seen: set[str] = set()   # labels the walk has passed: a goto to one jumps back
        self._inline_cache: dict[object, object] = {}
        self.markers = binding.markers if binding else ()
        self.inlined: set[str] = set()
        self.relevant = relevant_variables(fn.body)
        self.branches = 0
        self._breaks: list[list[PathState]] = []
        self._vars_warned = False

    # ---------------------------------------------------------------- entry
    def run(self) -> WalkResult:
        # a hunk's window is entered under "reaching the window", explored both ways
        entry = E.Free(self.fn.entry_atom) if self.fn.entry_atom else E.TRUE
        states = self._block(self.fn.body.children, [PathState(entry, dict(self.arguments))], 0)
        left = [s.pc for s in states]
        for label, st in self.pending.items():
            if not st:
                continue
            if self.fn.entry_atom:
                left += [s.pc for s in st]  # jumps out of the window: its unseen rest decides
            elif self.fn.complete:
                self.result.warnings.append(f"{self.fn.name}: goto {label}: no such label in the "
                                            f"function: path not followed")
        self.result.fallthrough = mk_or(*left) if left else E.FALSE
        return self.result

    # ---------------------------------------------------------------- helpers
    def _cond(self, node: Node | None, st: PathState) -> E.Expr:
        self.conv.env = st.env
        return self.conv.cond(node)

    def _value(self, node: Node | None, st: PathState):
        self.conv.env = st.env
        return self.conv.value(node)

    def _limit(self, states: list[PathState]) -> list[PathState]:
        if len(states) <= MAX_PATHS:
            return states
        merged = _join(states)
        if len(merged) > MAX_PATHS:
            self.result.warnings.append(f"{self.fn.name}: more than {MAX_PATHS} paths with different "
                                        f"local values: the rest are not followed")
            merged = merged[:MAX_PATHS]
        return merged

    def _reach(self, st: PathState, outcome: str, node: Node) -> None:
        self.result.reached.append(Reached(st.pc, outcome, self.fn.file_line(node), _one_line(node)))

    def _first_marker(self, node: Node) -> tuple[Marker, Node] | None:
        """The first call / or-assign marker inside `node`, in source order."""
        if not self.markers:
            return None
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type == "call_expression":
                name = callee(n)
                for m in self.markers:
                    if m.kind == "call" and m.name == name and (m.value_ok or _value_unused(n)):
                        return m, n
                    if m.kind == "call_with" and m.name == re.sub(r"\s+", "", text(n)):
                        return m, n
            elif n.type == "assignment_expression":
                op = n.child_by_field_name("operator")
                if op is not None and text(op) == "|=":
                    rhs = text(n.child_by_field_name("right"))
                    for m in self.markers:
                        if m.kind == "or_assign" and re.search(rf"\b{re.escape(m.name)}\b", rhs):
                            return m, n
            stack.extend(reversed(n.children))
        return None

    def _marker(self, kind: str, name: str) -> Marker | None:
        for m in self.markers:
            if m.kind == kind and m.name == name:
                return m
        return None

    def _assertions_in(self, node: Node, states: list[PathState]) -> None:
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type == "call_expression":
                name = callee(n)
                if ASSERT_RE.match(name):
                    argv = call_arguments(n)
                    for st in states:
                        cond = self._cond(argv[0], st) if argv else E.TRUE
                        self.result.assertions.append(FoundAssertion(
                            name, mk_and(st.pc, cond), self.fn.file_line(n),
                            _one_line(argv[0]) if argv else name))
                    continue
            if n.type in ("function_definition",):
                continue
            stack.extend(reversed(n.children))

    # ---------------------------------------------------------------- statements
    def _block(self, nodes, states: list[PathState], depth: int) -> list[PathState]:
        for node in nodes:
            if node.type == "labeled_statement":
                label = text(node.child_by_field_name("label"))
                self.labels_seen.add(label)
                states = _join(states + self.pending.pop(label, []))
                m = self._marker("label", label)
                if m is not None:
                    for st in states:
                        self._reach(st, m.outcome, node)
                    states = []
                    continue
                inner = [c for c in node.named_children if c.type != "statement_identifier"]
                states = self._block(inner, states, depth)
                continue
            if not states:
                # Dead code until a label revives paths; assertions there still count.
                if node.type not in ("{", "}", "comment"):
                    self._scan_dead(node)
                continue
            states = self._limit(self._statement(node, states, depth))
        return states

    def _scan_dead(self, node: Node) -> None:
        """Statements no path reaches (after return, before a label) may still hold
        labels that gotos jump to."""
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type == "labeled_statement":
                self._block([n], [], 0)
                continue
            stack.extend(n.children)

    def _statement(self, node: Node, states: list[PathState], depth: int) -> list[PathState]:
        t = node.type
        if self.watch_lines and states:
            line = self.fn.file_line(node)
            seen = self.result.at_lines.get(line, E.FALSE)
            self.result.at_lines[line] = mk_or(seen, *(s.pc for s in states))
        if depth > MAX_NESTING:
            self.result.warnings.append(f"{self.fn.name}: line {self.fn.file_line(node)}: statements nested "
                                        f"deeper than {MAX_NESTING}: not read")
            return states
        if t in ("{", "}", "comment", ";", "empty_statement"):
            return states
        if t == "compound_statement":
            return self._block(node.children, states, depth + 1)
        if t == "if_statement":
            return self._if(node, states, depth)
        if t == "return_statement":
            self._return(node, states)
            return []
        if t == "goto_statement":
            label = text(node.child_by_field_name("label"))
            m = self._marker("goto", label)
            for st in states:
                if m is not None:
                    self._reach(st, m.outcome, node)
                elif label not in self.labels_seen:
                    self.pending.setdefault(label, []).append(st)
                # else a backward goto (a retry loop's back edge): the path ends, as
                # a loop's second pass does, for loops are read once
            return []
        if t == "break_statement":
            if self._breaks:
                self._breaks[-1].extend(states)
            return []
        if t == "continue_statement":
            return []
        if t in ("for_statement", "while_statement", "do_statement", "switch_statement"):
            return self._loop(node, states, depth)
        if t in ("preproc_if", "preproc_ifdef", "preproc_elif", "preproc_else"):
            body = [c for c in node.named_children
                    if c.type not in ("preproc_else", "preproc_elif", "identifier", "preproc_defined",
                                      "binary_expression", "unary_expression", "call_expression",
                                      "number_literal", "parenthesized_expression")]
            return self._block(body, states, depth + 1)
        if t in ("declaration", "expression_statement", "ERROR"):
            return self._simple(node, states, depth)
        return states

    def _simple(self, node: Node, states: list[PathState], depth: int) -> list[PathState]:
        self._assertions_in(node, states)
        found = self._first_marker(node)
        if found is not None:
            for st in states:
                self._reach(st, found[0].outcome, found[1])
            return []
        if node.type == "ERROR":
            # A recovered parse: read what statements tree-sitter found inside.
            inner = [c for c in node.named_children if c.type.endswith("statement") or c.type == "declaration"]
            return self._block(inner, states, depth + 1) if inner else states
        assigned = [(n, rhs) for n, rhs in assignments(node) if n in self.relevant]
        if not assigned:
            return states
        out = []
        for st in states:
            env = dict(st.env)
            for name, rhs in assigned:
                if name not in env and len(env) >= MAX_VARIABLES:
                    if not self._vars_warned:
                        self._vars_warned = True
                        self.result.warnings.append(
                            f"{self.fn.name}: line {self.fn.file_line(node)}: more than {MAX_VARIABLES} local "
                            f"variables reach conditions: later ones are read as unmodelled")
                    continue
                env[name] = Lazy(rhs, dict(env))
            out.append(PathState(st.pc, env))
        return out

    def _over_budget(self, node: Node, states: list[PathState]) -> bool:
        self.branches += 1
        big = self.branches > MAX_BRANCHES or any(
            type(s.pc) is E.And and len(s.pc.args) > MAX_CONJUNCTS for s in states)
        if big and not self.result.truncated:
            self.result.truncated = True
            self.result.warnings.append(
                f"{self.fn.name}: line {self.fn.file_line(node)}: more than {MAX_BRANCHES} branches or "
                f"{MAX_CONJUNCTS} conditions on one path: the rest of the function is not read (partial)")
        return big

    def _if(self, node: Node, states: list[PathState], depth: int) -> list[PathState]:
        if self._over_budget(node, states):
            return []
        cond_node = node.child_by_field_name("condition")
        self._assertions_in(cond_node, states)
        cons = node.child_by_field_name("consequence")
        alt = node.child_by_field_name("alternative")
        then_states, else_states = [], []
        for st in states:
            c = self._cond(cond_node, st)
            if c != E.FALSE:
                then_states.append(PathState(mk_and(st.pc, c), st.env))
            nc = mk_not(c)
            if nc != E.FALSE:
                else_states.append(PathState(mk_and(st.pc, nc), st.env))
        out = self._statement(cons, then_states, depth + 1) if then_states and cons is not None else []
        if alt is not None and else_states:
            alt_body = [c for c in alt.named_children if c.type != "comment"]
            else_states = self._block(alt_body, else_states, depth + 1)
        return _join(out + else_states)

    def _loop(self, node: Node, states: list[PathState], depth: int) -> list[PathState]:
        if self._over_budget(node, states):
            return []
        cond_node = node.child_by_field_name("condition")
        body = node.child_by_field_name("body")
        if cond_node is not None:
            self._assertions_in(cond_node, states)
        inside = []
        one_pass = node.type == "do_statement"
        for st in states:
            c = self._cond(cond_node, st) if cond_node is not None and node.type != "switch_statement" else E.TRUE
            if node.type in ("for_statement", "do_statement") and E.free_atoms(c) and not E.atoms(c):
                # a counter over the pages of a batch (i < nr_pages): the model decides
                # one page at a time, so the body runs once for it
                c = E.TRUE
                one_pass = True
            if c != E.FALSE:
                inside.append(PathState(mk_and(st.pc, c), st.env))
        if node.type == "switch_statement":
            return self._switch(node, cond_node, body, states, depth) if body is not None else states
        if body is not None and inside:
            self._breaks.append([])
            through = self._statement(body, inside, depth + 1)
            broke = self._breaks.pop()
            return _join((through if one_pass else states) + broke)
        return states

    def _switch(self, node: Node, cond_node: Node | None, body: Node, states: list[PathState],
                depth: int) -> list[PathState]:
        """Cases in order, with C's fall-through; `break` leaves the switch."""
        value = text(cond_node).strip("() \t") if cond_node is not None else ""
        cases = [c for c in body.named_children if c.type == "case_statement"]
        guards: list[E.Expr | None] = []
        for case in cases:
            cv = case.child_by_field_name("value")
            if cv is None:
                guards.append(None)  # default
                continue
            g = level_condition(value, text(cv))
            guards.append(g if g is not None else self.conv._free(cv, f"{value} == {_one_line(cv)}"))
        named = [g for g in guards if g is not None]
        others = mk_not(mk_or(*named)) if named else E.TRUE
        self._breaks.append([])
        carry: list[PathState] = []
        for case, g in zip(cases, guards):
            guard = others if g is None else g
            entering = [PathState(mk_and(s.pc, guard), s.env) for s in states]
            entering = [s for s in entering if s.pc != E.FALSE]
            cv = case.child_by_field_name("value")
            stmts = [c for c in case.named_children if c is not cv]
            carry = self._block(stmts, _join(entering + carry), depth + 1)
        broke = self._breaks.pop()
        after = carry + broke
        if None not in guards:
            after += [PathState(mk_and(s.pc, others), s.env) for s in states]
        return _join([s for s in after if s.pc != E.FALSE])

    def _return(self, node: Node, states: list[PathState]) -> None:
        val = node.named_children[0] if node.named_children else None
        if val is not None:
            self._assertions_in(val, states)
            found = self._first_marker(val)
            if found is not None:
                for st in states:
                    self._reach(st, found[0].outcome, found[1])
                return
        if val is not None and val.type == "identifier":
            # `return retval;` where retval holds a call marker's value (v5.9 copy_present_pte)
            for st in states:
                held = st.env.get(text(val))
                if isinstance(held, Lazy) and held.node is not None and held.node.type == "call_expression":
                    m = self._marker("call", callee(held.node))
                    if m is not None:
                        self._reach(st, m.outcome, node)
                        continue
                self._return_one(node, val, st)
            return
        const = self._marker("return_const", text(val).strip()) if val is not None else None
        if const is not None:
            for st in states:
                self._reach(st, const.outcome, node)
            return
        for st in states:
            self._return_one(node, val, st)

    def _return_one(self, node: Node, val: Node | None, st: PathState) -> None:
        pred = self._marker("returns", "")
        raw = self._value(val, st) if val is not None else E.FALSE
        v = self.conv.truth(raw, val) if val is not None else E.FALSE
        self.result.returns.append(Returned(st.pc, v, self.fn.file_line(node), raw))
        if pred is not None and self.binding is not None:
            t, f = mk_and(st.pc, v), mk_and(st.pc, mk_not(v))
            line, src = self.fn.file_line(node), _one_line(node)
            if t != E.FALSE:
                self.result.reached.append(Reached(t, pred.outcome, line, src))
            if f != E.FALSE and self.binding.false_outcome:
                self.result.reached.append(Reached(f, self.binding.false_outcome, line, src))

    # ---------------------------------------------------------------- inlining
    def _inline(self, name: str, call: Node) -> object | None:
        """The value of a call to a callee whose body is known: its returns under
        their path conditions, with its parameters bound to this call's arguments.
        A condition when every return is one; else the returns kept apart (Guarded),
        so that the caller's comparisons of the value read exactly."""
        if self.helpers is None or name in self.inline_stack or not self.inline_ok(name):
            return None
        if len(self.inline_stack) > MAX_INLINE_DEPTH:
            return None
        helper = self.helpers(name)
        if helper is None or not helper.complete or helper.end_line - helper.start_line > MAX_INLINE_LINES:
            return None
        arguments = self._bind(helper, call)
        # a callee whose conditions read no parameter has one value, wherever called
        key = (name, call.start_byte, call.end_byte, tuple(sorted((k, id(v)) for k, v in self.conv.env.items()))) \
            if arguments else name
        if key in self._inline_cache:
            return self._inline_cache[key]
        self._inline_cache[key] = None  # guards recursion through this walker
        inner = Walker(helper, None, self.helpers, self.inline_ok, self.inline_stack, arguments)
        sub = inner.run()
        self.inlined |= inner.inlined
        value = None
        if sub.returns:
            self.inlined |= {name, helper.name}  # a macro name and the function it calls
            self.result.unmodelled.extend(sub.unmodelled)
            self.result.warnings.extend(sub.warnings)
            value = _returned_value(sub.returns)
        self._inline_cache[key] = value
        return value

    def _bind(self, helper: CFunction, call: Node) -> dict:
        """The callee's parameters that its conditions or returns read, bound to this
        call's arguments as the caller sees them."""
        argv = call_arguments(call)
        if not argv or not helper.params:
            return {}
        used = relevant_variables(helper.body)
        return {param: Lazy(arg, dict(self.conv.env), self.conv.line_of, self.conv.file)
                for param, arg in zip(helper.params, argv) if param in used}


def _returned_value(returns: list[Returned]) -> object:
    """A callee's value from its returns: a condition when they are all conditions,
    else Guarded returns (nested Guarded values flattened under their guards)."""
    cases: list[tuple[E.Expr, object]] = []
    for r in returns:
        raw = r.raw if r.raw is not None else r.value
        if isinstance(raw, Guarded):
            cases += [(mk_and(r.guard, g), v) for g, v in raw.cases]
        else:
            cases.append((r.guard, raw))
    if all(_is_condition(v) for _, v in cases):
        return mk_or(*(mk_and(g, v) for g, v in cases))
    return Guarded(tuple((g, v) for g, v in cases if g != E.FALSE))


def _is_condition(v: object) -> bool:
    t = type(v)
    return t in (E.And, E.Or, E.Not, E.Cmp, E.Free) or (t is E.Const and isinstance(v.value, bool)) \
        or (t is E.Atom and v.name not in INT_ATOMS)


def _join(states: list[PathState]) -> list[PathState]:
    """Merge paths with the same local values (their conditions are or-ed)."""
    out: list[PathState] = []
    for s in states:
        for m in out:
            if m.env == s.env:
                m.pc = mk_or(m.pc, s.pc)
                break
        else:
            out.append(PathState(s.pc, s.env))
    return out


def _one_line(node: Node | None) -> str:
    s = re.sub(r"\s+", " ", text(node)).strip()
    return s if len(s) <= 200 else s[:197] + "..."


def _value_unused(call: Node) -> bool:
    """Is a call's value dropped or returned (not assigned, compared or passed on)?"""
    n = call
    while n.parent is not None and n.parent.type in ("parenthesized_expression", "cast_expression"):
        n = n.parent
    return n.parent is None or n.parent.type in ("expression_statement", "return_statement", "comma_expression")
