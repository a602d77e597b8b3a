"""spec/ imports in one direction: every import at module level, no cycle among spec
modules, spec never imports review, tui or mmreview, and the operations never import
spec.kernel (the kernel dispatches to them)."""
from __future__ import annotations

import ast
from pathlib import Path

SPEC = Path(__file__).resolve().parents[2] / "spec"


def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted(SPEC.rglob("*.py")):
        parts = path.relative_to(SPEC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = ast.parse(path.read_text(), str(path))
    return out


MODULES = _modules()


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The modules an import statement names (`from spec.ops import fault` names
    spec.ops.fault when that is a module, else spec.ops)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = node.module or ""
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]


def _imports(tree: ast.Module) -> set[str]:
    return {m for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
            for m in _imported(node)}


def test_every_import_is_at_module_level():
    nested = [f"{name}:{node.lineno}" for name, tree in MODULES.items()
              for top in tree.body if not isinstance(top, (ast.Import, ast.ImportFrom))
              for node in ast.walk(top) if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert nested == []


def test_no_import_cycle_among_spec_modules():
    graph = {name: {m for m in _imports(tree) if m in MODULES}
             for name, tree in MODULES.items()}
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, " -> ".join(path + (name,))
        if name in done:
            return
        for dep in sorted(graph[name]):
            visit(dep, path + (name,))
        done.add(name)

    for name in graph:
        visit(name, ())


def test_spec_imports_nothing_above_it_and_ops_not_the_kernel():
    for name, tree in MODULES.items():
        imported = _imports(tree)
        assert not {m for m in imported if m.split(".")[0] in ("review", "tui", "mmreview")}, name
        if name.startswith("spec.ops"):
            assert "spec.kernel" not in imported, name
