"""tui/worker/protocol.py: what the fuzz child writes is what the TUI reads, and the
worker's modules import one way (protocol <- runs <- child)."""
from __future__ import annotations

import ast
from pathlib import Path

from review.report.types import CheckFinding, PatchRef, PatchResult
from tui.worker import protocol

WORKER = Path(__file__).resolve().parents[2] / "tui" / "worker"


def _finding(**kw) -> CheckFinding:
    base = dict(severity="error", id="pin-coherence", message="dma_read sees 1", file="mm/memory.c",
                line=42, image="pre", trace={"ruleset": "current+post@abc", "steps": [{"op": "fork"}]},
                steps=["fork mm=0 child=1"], related=[{"file": "mm/memory.c", "line": 43}])
    base.update(kw)
    return CheckFinding(**base)


def test_progress_lines_carry_findings_only_when_given():
    up = protocol.read(protocol.progress_line(1.5, 3.0))
    assert (up.done, up.total, up.findings, up.result) == (1.5, 3.0, None, None)
    up = protocol.read(protocol.progress_line(2.0, 3.0, [_finding()]))
    assert up.findings == [_finding()]


def test_result_line_round_trips_the_patch_result():
    result = PatchResult(PatchRef(2, 3, "mm: x", source="t.mbox", msgid="a@b", label="v1 2/3"),
                         [_finding(), _finding(id="nfc-claim", severity="warning")],
                         checked=["bound functions: f"], modes=["invariants"], nfc_claim="No functional change",
                         examples=12, seconds=0.5, warnings=["hunk 2 lies about its length"])
    up = protocol.read(protocol.result_line(result, stopped=True))
    assert up.stopped and up.result == result


def test_error_line():
    assert protocol.read(protocol.error_line("x.mbox: no patch abc")).error == "x.mbox: no patch abc"


def test_command_names_the_child_and_its_options():
    cmd = protocol.command("/t/x.mbox", "a@b", seed=3, repo="/r", tree="/k", budget=2.5)
    assert cmd[1:] == ["-m", "tui.worker.child", "/t/x.mbox", "a@b", "--seed", "3",
                       "--repo", "/r", "--tree", "/k", "--budget", "2.5"]


def _imports(module: str) -> set[str]:
    tree = ast.parse((WORKER / f"{module}.py").read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m.startswith("tui.worker.")}


def test_worker_imports_point_one_way():
    assert _imports("protocol") == set()
    assert _imports("runs") <= {"tui.worker.protocol", "tui.worker.protocol.Progress"}
    assert "tui.worker.child" not in _imports("runs")
