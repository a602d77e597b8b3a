"""Kernel C parsing with tree-sitter: function definitions in whole files and in diff
fragments.

tree-sitter-c is error-tolerant, so partial C (a hunk) and unknown macros still give a
tree; what it cannot read well are the kernel's attribute macros in declarations
(`static __always_inline bool f(...)` parses `__always_inline` as the return type).
Those are blanked out (replaced by spaces, so lines and columns stay put) before
parsing. Condition macros (likely, unlikely, READ_ONCE, IS_ENABLED, VM_BUG_ON*) parse
as ordinary calls; review/extract/vocab.py gives them meaning.

Nothing here evaluates C; it only locates text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import tree_sitter_c
from tree_sitter import Language, Node, Parser

_LANGUAGE = Language(tree_sitter_c.language())

# Attribute-like macros that sit in declarations: blanked before parsing.
_ATTRIBUTES = (
    "__always_inline", "__must_check", "noinline", "__noinline", "__maybe_unused",
    "__init", "__exit", "__read_mostly", "__cold", "__hot", "__weak", "notrace",
    "__sched", "__ref", "__meminit", "__pure", "__attribute_const__", "__visible",
    "noinstr", "__no_sanitize_address", "__flatten", "__latent_entropy",
    "__cpuidle", "asmlinkage", "__user", "__rcu", "__percpu", "__iomem", "__force",
)
_ATTR_RE = re.compile(r"\b(?:" + "|".join(map(re.escape, _ATTRIBUTES)) + r")\b")
# Annotations with an argument list: __releases(x), __acquires(x), __must_hold(x).
_ATTR_CALL_RE = re.compile(r"\b(?:__releases|__acquires|__must_hold|__attribute__)\s*\(\([^()\n]*\)\)|"
                           r"\b(?:__releases|__acquires|__must_hold)\s*\([^()\n]*\)")


def mask_attributes(source: str) -> str:
    """`source` with declaration attributes replaced by spaces (same length)."""
    blank = lambda m: " " * len(m.group(0))  # noqa: E731
    return _ATTR_CALL_RE.sub(blank, _ATTR_RE.sub(blank, source))


def parse(source: str):
    """The tree-sitter tree of `source` (attributes masked). Never raises on bad C."""
    parser = Parser(_LANGUAGE)
    return parser.parse(mask_attributes(source).encode("utf-8", "surrogateescape"))


def text(node: Node) -> str:
    return node.text.decode("utf-8", "replace") if node is not None else ""


@dataclass
class CFunction:
    """A function definition located in some text.

    `start_line`/`end_line` are 1-based lines of that text plus `line_offset` (so for a
    fragment they are file lines when the fragment is contiguous). `complete` is False
    when the definition's body is cut off or tree-sitter had to recover from errors in
    it (the extraction then reports it partial)."""

    name: str
    start_line: int
    end_line: int
    body: Node
    node: Node
    source: str
    complete: bool = True
    params: list[str] = field(default_factory=list)
    line_map: dict[int, int] | None = None  # text line (1-based) -> file line
    file: str = ""  # the path it was read from, when the reader knows it
    # Read from a hunk's window only: the unmodelled atom its paths start under
    # ("reaching the window"); see review/extract/hunks.py.
    entry_atom: str = ""

    def file_line(self, node: Node) -> int:
        """The file line of a node inside this function."""
        row = node.start_point[0] + 1
        if self.line_map is not None:
            return self.line_map.get(row, 0)
        return row

    @property
    def text(self) -> str:
        return text(self.node)


def _declarator_name(decl: Node | None) -> tuple[str | None, Node | None]:
    """Name and function_declarator of a definition's declarator chain."""
    seen = 0
    while decl is not None and seen < 50:
        seen += 1
        if decl.type == "function_declarator":
            inner = decl.child_by_field_name("declarator")
            while inner is not None and inner.type in ("parenthesized_declarator", "pointer_declarator"):
                inner = inner.child_by_field_name("declarator") or (inner.named_children[0] if inner.named_children else None)
            if inner is not None and inner.type in ("identifier", "field_identifier"):
                return text(inner), decl
            return None, decl
        decl = decl.child_by_field_name("declarator")
    return None, None


def _params(fdecl: Node | None) -> list[str]:
    out: list[str] = []
    if fdecl is None:
        return out
    plist = fdecl.child_by_field_name("parameters")
    for p in plist.named_children if plist is not None else ():
        d = p.child_by_field_name("declarator")
        while d is not None and d.type != "identifier":
            d = d.child_by_field_name("declarator")
        if d is not None:
            out.append(text(d))
    return out


def _body_complete(body: Node) -> bool:
    if body.has_error:
        return False
    last = body.children[-1] if body.children else None
    return last is not None and last.type == "}" and not last.is_missing


def functions(source: str, line_map: dict[int, int] | None = None, tree=None) -> list[CFunction]:
    """Every function definition in `source`, in order, including `static inline`
    helpers in headers. Definitions nested in ERROR nodes (recovered parses) count.
    `tree`: `parse(source)`, when the caller has it already."""
    tree = tree or parse(source)
    out: list[CFunction] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "function_definition":
            name, fdecl = _declarator_name(node.child_by_field_name("declarator"))
            body = node.child_by_field_name("body")
            if name and body is not None:
                start = node.start_point[0] + 1
                end = node.end_point[0] + 1
                if line_map is not None:
                    start, end = line_map.get(start, 0), line_map.get(end, 0)
                out.append(CFunction(name, start, end, body, node, source,
                                     complete=_body_complete(body), params=_params(fdecl),
                                     line_map=line_map))
            continue  # no nested definitions in C
        if node.type == "ERROR":
            recovered = _recovered_definition(node, source, line_map)
            if recovered is not None:
                out.append(recovered)
                continue
        stack.extend(reversed(node.children))
    return out


def _recovered_definition(node: Node, source: str, line_map: dict[int, int] | None) -> CFunction | None:
    """A definition tree-sitter could not close (unbalanced braces): an ERROR node
    holding a function declarator followed by statements. Read as an incomplete
    function whose body is the ERROR node."""
    kids = node.children
    for i, k in enumerate(kids):
        if k.type == "function_declarator":
            name, fdecl = _declarator_name(k)
            if not name or not any(c.type.endswith("statement") or c.type == "declaration" for c in kids[i + 1:]):
                return None
            start, end = node.start_point[0] + 1, node.end_point[0] + 1
            if line_map is not None:
                start, end = line_map.get(start, 0), line_map.get(end, 0)
            return CFunction(name, start, end, node, node, source, complete=False,
                             params=_params(fdecl), line_map=line_map)
    return None


def callee(call: Node) -> str:
    """The text of what a call_expression calls ("" when it has none)."""
    return text(call.child_by_field_name("function"))


def call_arguments(call: Node) -> list[Node]:
    """The arguments of a call_expression, comments left out."""
    args = call.child_by_field_name("arguments")
    return [a for a in args.named_children if a.type != "comment"] if args is not None else []


def called_names(node: Node) -> set[str]:
    """Names of the functions/macros called anywhere under `node`."""
    out: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "call_expression":
            fn = n.child_by_field_name("function")
            if fn is not None and fn.type == "identifier":
                out.add(text(fn))
        stack.extend(n.children)
    return out


_ALIAS_BODY = re.compile(r"^\s*\(?\s*([A-Za-z_]\w*)\s*\(.*\)\s*\)?\s*;?\s*$", re.S)


def macro_aliases(source: str, tree=None) -> dict[str, str]:
    """Function-like macros whose body is one call: `#define folio_try_dup_anon_rmap_pte(
    folio, page, vma) folio_try_dup_anon_rmap_ptes(folio, page, 1, vma)` -> the name of
    the function they call (so that a caller's condition can inline it). `tree`:
    `parse(source)`, when the caller has it already."""
    out: dict[str, str] = {}
    if "#define" not in source:
        return out
    stack = [(tree or parse(source)).root_node]
    while stack:
        node = stack.pop()
        if node.type == "preproc_function_def":
            name = text(node.child_by_field_name("name"))
            body = text(node.child_by_field_name("value")).replace("\\\n", " ")
            m = _ALIAS_BODY.match(body)
            if name and m and m.group(1) != name:
                out[name] = m.group(1)
            continue
        if node.type in ("function_definition",):
            continue
        stack.extend(node.children)
    return out
