"""The layout is part of the product: these tests keep it readable.

- arrows point one way: spec <- review <- tui <- mmreview (the command line);
- no import cycle among project modules, counting imports inside functions;
- an import inside a function says why (start-up time) in a comment beside it;
- no function over 100 lines;
- the code speaks of the product, not of the work that made it;
- docs/architecture.md has one line per module, so a new module comes with its line.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("spec", "review", "tui", "mmreview")
LAYER = {name: rank for rank, name in enumerate(PACKAGES)}
MAX_FUNCTION_LINES = 100


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path):
    """(imported project module, line, the first line of the function it is imported
    in, or 0 at module level) for every import."""
    tree = ast.parse(path.read_text())
    is_pkg = path.name == "__init__.py"

    def visit(node, function_line):
        for child in ast.iter_child_nodes(node):
            inner = function_line
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and not function_line:
                inner = child.lineno
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield _owner(alias.name), child.lineno, function_line
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    here = name.split(".") if is_pkg else name.split(".")[:-1]
                    here = here[:len(here) - (child.level - 1)]
                    base = ".".join(here + ([base] if base else []))
                for alias in child.names:
                    full = f"{base}.{alias.name}"
                    yield (full if full in MODULES else _owner(base)), child.lineno, function_line
            yield from visit(child, inner)

    for target, line, function_line in visit(tree, 0):
        if target in MODULES and target != name:
            yield target, line, function_line


def _owner(dotted: str) -> str:
    while dotted and dotted not in MODULES and "." in dotted:
        dotted = dotted.rsplit(".", 1)[0]
    return dotted


EDGES = {name: list(_imports(name, path)) for name, path in MODULES.items()}


def test_arrows_point_one_way():
    upward = [f"{src} -> {dst} ({MODULES[src].relative_to(ROOT)}:{line})"
              for src, targets in EDGES.items() for dst, line, _ in targets
              if LAYER[dst.split(".")[0]] > LAYER[src.split(".")[0]]]
    assert upward == []


def test_no_import_cycles_even_through_function_level_imports():
    graph = {src: {dst for dst, _, _ in targets} for src, targets in EDGES.items()}
    cycles = []
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()

    def strongly_connected(v):   # Tarjan; the graph is small enough for recursion
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strongly_connected(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            strongly_connected(v)
    assert cycles == []


def test_function_level_imports_say_why():
    """Imports inside functions are for start-up time only (Textual, hypothesis,
    tree-sitter and the spec behind a sub-command), and the function says so in a
    comment above them."""
    silent = []
    for name, path in MODULES.items():
        lines = path.read_text().splitlines()
        for _, line, function_line in EDGES[name]:
            above = " ".join(lines[function_line - 1:line]).lower() if function_line else ""
            if function_line and "start-up" not in above:
                silent.append(f"{path.relative_to(ROOT)}:{line}")
    assert silent == []


def test_no_function_over_100_lines():
    long = []
    for path in list(MODULES.values()) + sorted((ROOT / "bench").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    assert long == []


PROCESS_WORDS = re.compile(r"[Ii]ssue \d+|\bH\d'?s\b|search tool|DESIGN\.md|\.\./shared|\bsubagent|\bhelper-\d")


@pytest.mark.parametrize("folder", PACKAGES + ("bench", "docs"))
def test_code_and_docs_speak_of_the_product(folder):
    found = []
    paths = sorted((ROOT / folder).rglob("*")) + ([ROOT / "README.md"] if folder == "docs" else [])
    for path in paths:
        if path.suffix in (".py", ".md", ".yml", ".tcss") and path.is_file():
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if PROCESS_WORDS.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert found == []


def _only_a_docstring(path: Path) -> bool:
    """A package's __init__.py that only names its package needs no line of its own."""
    body = ast.parse(path.read_text()).body
    return path.name == "__init__.py" and all(
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) for node in body)


def test_every_module_has_its_line_in_the_architecture_doc():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    listed = set(re.findall(r"`((?:spec|review|tui|mmreview)/[\w/]+\.py)`", doc))
    present = {str(p.relative_to(ROOT)) for p in MODULES.values() if not _only_a_docstring(p)}
    assert sorted(present - listed) == [], "modules without a line in docs/architecture.md"
    assert sorted(listed - present) == [], "docs/architecture.md lists modules that do not exist"
