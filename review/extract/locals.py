"""Which local variables the path walk (review/extract/paths.py) tracks: those whose
assigned values can reach a condition, a return value or an assertion. Any other
local would split paths for nothing, since the vocabulary reads calls by name and
never a local's value.

    relevant_variables(body) -> set of names
    assignments(node) -> (name, value node) pairs a statement assigns
"""
from __future__ import annotations

import re

from tree_sitter import Node

from review.extract.cparse import callee, text
from review.extract.vocab import ASSERT_RE, TRANSPARENT


def assignments(node: Node):
    """(variable, value node) pairs assigned by a declaration or expression statement."""
    if node.type == "declaration":
        for d in node.children_by_field_name("declarator"):
            if d.type == "init_declarator":
                target = d.child_by_field_name("declarator")
                while target is not None and target.type == "pointer_declarator":
                    target = target.child_by_field_name("declarator")
                if target is not None and target.type == "identifier":
                    yield text(target), d.child_by_field_name("value")
        return
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "assignment_expression":
            op = text(n.child_by_field_name("operator"))
            left = n.child_by_field_name("left")
            if op == "=" and left is not None and left.type in ("identifier", "field_expression"):
                yield re.sub(r"\s+", "", text(left)), n.child_by_field_name("right")
                continue
        if n.type in ("call_expression",):
            continue
        stack.extend(n.children)


def _bare_names(node: Node | None, out: set[str]) -> None:
    """Variables read directly (not only as arguments of a call) under `node`: the
    vocabulary reads calls by name, so only these can change a condition."""
    stack = [node] if node is not None else []
    while stack:
        n = stack.pop()
        t = n.type
        if t == "identifier":
            out.add(text(n))
        elif t == "field_expression":
            out.add(re.sub(r"\s+", "", text(n)))
        elif t == "call_expression":
            name = callee(n)
            if name in TRANSPARENT or ASSERT_RE.match(name):
                args = n.child_by_field_name("arguments")
                if args is not None:
                    stack.extend(args.named_children[:1])
        else:
            stack.extend(n.named_children)


def relevant_variables(body: Node) -> set[str]:
    """Local names whose assigned values can reach a condition, a return value or an
    assertion: the only ones the walk tracks (others would split paths for nothing)."""
    roots: set[str] = set()
    assigns: dict[str, list[Node]] = {}
    stack = [body]
    while stack:
        n = stack.pop()
        t = n.type
        if t in ("if_statement", "while_statement", "do_statement", "for_statement", "switch_statement",
                 "conditional_expression"):
            _bare_names(n.child_by_field_name("condition"), roots)
        elif t == "return_statement":
            for c in n.named_children:
                _bare_names(c, roots)
        elif t == "call_expression":
            if ASSERT_RE.match(callee(n)):
                args = n.child_by_field_name("arguments")
                if args is not None:
                    _bare_names(args.named_children[0] if args.named_children else None, roots)
        if t in ("declaration", "expression_statement"):
            for name, rhs in assignments(n):
                if rhs is not None:
                    assigns.setdefault(name, []).append(rhs)
        stack.extend(n.children)
    relevant = set(roots)
    frontier = list(relevant)
    while frontier:
        name = frontier.pop()
        for rhs in assigns.get(name, ()):
            found: set[str] = set()
            _bare_names(rhs, found)
            for f in found - relevant:
                relevant.add(f)
                frontier.append(f)
    return relevant
