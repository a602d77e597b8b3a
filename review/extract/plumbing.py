"""Is a function the same code before and after a patch, once plumbing is followed?

Patches that pass flags differently, rename a function or drop a wrapper change
the text of many callers without changing what they do. Each version of a
function is written in a normal form and the two forms are compared:

  - comments and layout are dropped;
  - a call of a one-call wrapper (a function whose body is one call of another, its
    parameters passed on) becomes that call, the caller's arguments substituted;
  - a function the patch renamed is called by its old name (the post-image body
    equals a pre-image body under another name);
  - `true ? A : B` and `false ? A : B` fold to A and B; `!true`, `!false` fold.

Equal normal forms are an equivalence for every input: nothing was reinterpreted,
only rewritten. Unequal forms prove nothing (the comparison is not semantic); the
caller then classifies the function by other means.
"""
from __future__ import annotations

from typing import Callable

from tree_sitter import Node

from review.extract import cparse
from review.extract.cparse import CFunction

Lookup = Callable[[str], CFunction | None]
MAX_EXPANSIONS = 8   # wrappers followed per call, at most (wrappers of wrappers...)
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0", "NULL"})
_BODY_FORMS: dict[bytes, str] = {}   # body source -> body_text(); a form depends on nothing else
_MAX_BODY_FORMS = 20_000


def one_call_wrapper(fn: CFunction) -> tuple[str, list[Node]] | None:
    """(callee, argument nodes) when `fn`'s body is a single call statement or a
    `return` of one call; None otherwise."""
    stmts = [c for c in fn.body.named_children if c.type != "comment"]
    if len(stmts) != 1:
        return None
    s = stmts[0]
    expr = s.named_children[0] if s.type in ("expression_statement", "return_statement") and s.named_children \
        else None
    if expr is None or expr.type != "call_expression":
        return None
    return cparse.callee(expr), cparse.call_arguments(expr)


def body_text(fn: CFunction) -> str:
    """The body in normal form, without following anything: the basis of renames.
    Kept by the body's source: a series' patches read the same files, whose
    functions mostly stay as they were."""
    key = fn.body.text
    form = _BODY_FORMS.get(key)
    if form is None:
        if len(_BODY_FORMS) >= _MAX_BODY_FORMS:
            _BODY_FORMS.clear()
        form = _BODY_FORMS[key] = _Normaliser(lambda name: None, {}).form(fn.body)
    return form


class _Normaliser:
    def __init__(self, wrappers: Lookup, renames: dict[str, str]):
        self.wrappers = wrappers
        self.renames = renames
        self.expansions = 0

    def form(self, node: Node | None, env: dict[str, str] | None = None) -> str:
        if node is None:   # e.g. GNU C's `a ?: b` has no middle operand
            return ""
        env = env or {}
        t = node.type
        if t == "comment":
            return ""
        if t == "identifier" and node.text.decode("utf-8", "replace") in env:
            return env[node.text.decode("utf-8", "replace")]
        if t == "call_expression":
            return self._call(node, env)
        if t == "conditional_expression":
            return self._conditional(node, env)
        if t == "parenthesized_expression" and len(node.named_children) == 1:
            inner = self.form(node.named_children[0], env)
            return inner if _atomic(inner) else f"({inner})"
        if t == "unary_expression" and cparse.text(node.child_by_field_name("operator")) == "!":
            arg = self.form(node.child_by_field_name("argument"), env)
            if arg in _TRUE:
                return "false"
            if arg in _FALSE:
                return "true"
        if not node.children:
            return cparse.text(node)
        return " ".join(p for p in (self.form(c, env) for c in node.children) if p)

    def _call(self, node: Node, env: dict[str, str]) -> str:
        name = cparse.callee(node)
        args = [self.form(a, env) for a in cparse.call_arguments(node)]
        name = self.renames.get(name, name)
        wrapper = self.wrappers(name) if name else None
        shape = one_call_wrapper(wrapper) if wrapper is not None else None
        if shape is not None and self.expansions < MAX_EXPANSIONS and len(wrapper.params) == len(args):
            self.expansions += 1
            callee, inner_args = shape
            bound = dict(zip(wrapper.params, args))
            callee = self.renames.get(callee, callee)
            return f"{callee} ( " + " , ".join(self.form(a, bound) for a in inner_args) + " )"
        return f"{name or self.form(node.child_by_field_name('function'), env)} ( " + " , ".join(args) + " )"

    def _conditional(self, node: Node, env: dict[str, str]) -> str:
        cond = self.form(node.child_by_field_name("condition"), env)
        then = self.form(node.child_by_field_name("consequence"), env)
        other = self.form(node.child_by_field_name("alternative"), env)
        if cond in _TRUE:
            return then or cond
        if cond in _FALSE:
            return other
        return f"{cond} ? {then} : {other}"


def _atomic(form: str) -> bool:
    return " " not in form or form.endswith(")") and form.count("(") == 1


def renames(pre: dict[str, CFunction], post: dict[str, CFunction]) -> dict[str, str]:
    """post name -> pre name, for post-image functions whose body is a pre-image body
    under another name (a function the patch renamed), when that body is not also
    still there under its old name."""
    by_body: dict[str, str] = {}
    for name, fn in pre.items():
        by_body.setdefault(body_text(fn), name)
    out = {}
    for name, fn in post.items():
        old = by_body.get(body_text(fn))
        if old is not None and old != name and old not in post:
            out[name] = old
    return out


def same_code(pre: CFunction, post: CFunction, pre_lookup: Lookup, post_lookup: Lookup,
              post_renames: dict[str, str]) -> bool:
    """Do the two versions have equal normal forms (their bodies, with pre-image
    wrappers followed in the pre-image and post-image wrappers and renames in the
    post-image)?"""
    a = _Normaliser(pre_lookup, {}).form(pre.body)
    b = _Normaliser(post_lookup, post_renames).form(post.body)
    return a == b
