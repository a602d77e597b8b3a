"""The timeline has a cell for every op of the trace format: each step of every
scenario shows up in some column, with what the later vocabulary adds (the mapping's
kind and protection, GUP-fast and FOLL_FORCE, the queries' answers, swapoff's own
column)."""
from __future__ import annotations

import json
from pathlib import Path

from spec.presets import PRESETS
from spec.run import run_trace
from spec.trace import OPS, parse_trace
from tui.widgets.rules.timeline import timeline_rows

SCENARIOS = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"


def _cells(model, i):
    return [c.plain for c in model.rows[i][1:-1] if c.plain]


def test_every_step_of_every_scenario_has_a_cell_and_every_op_is_covered():
    seen = set()
    for path in sorted(SCENARIOS.glob("*.json")):
        trace = parse_trace(json.loads(path.read_text()))
        report = run_trace(trace, PRESETS["current"])
        steps = [s.to_json() for s in trace.steps]
        results = [(r.status, r.value) for r in report.results]
        model = timeline_rows(steps, results)
        for i, s in enumerate(steps):
            assert _cells(model, i), (path.name, i, s)
            seen.add(s["op"])
    # the rest (writeback, unpin, put, split_folio) in the tests below and in
    # test_fuzz_worker.py
    assert set(OPS) - seen <= {"writeback", "unpin", "put", "split_folio"}


def test_ops_without_a_scenario():
    steps = [{"op": "mmap", "mm": 0, "vpn": 0, "npages": 4, "thp": True},
             {"op": "pin", "mm": 0, "vpn": 0, "write": False, "longterm": False, "id": "p0"},
             {"op": "get", "mm": 0, "vpn": 1, "id": "g1"},
             {"op": "split_folio", "mm": 0, "vpn": 0},
             {"op": "unpin", "id": "p0"}, {"op": "put", "id": "g1"}]
    model = timeline_rows(steps, [("ok", None)] * len(steps))
    assert [" | ".join(_cells(model, i)) for i in range(3, 6)] == [
        "split_folio [0]", "unpin", "put"]


def test_the_later_vocabulary_in_the_cells():
    steps = [
        {"op": "mmap", "mm": 0, "vpn": 0, "npages": 1, "backing": "file", "shared": True,
         "prot": "r"},
        {"op": "mmap", "mm": 0, "vpn": 4, "npages": 4, "hugetlb": True},
        {"op": "mmap", "mm": 0, "vpn": 8, "npages": 4, "thp": True, "thp_order": 1},
        {"op": "mprotect", "mm": 0, "vpn": 0, "npages": 1, "prot": "none"},
        {"op": "pin", "mm": 0, "vpn": 4, "write": True, "longterm": False, "id": "p0",
         "fast": True},
        {"op": "get", "mm": 0, "vpn": 8, "id": "g1", "write": True, "force": True},
        {"op": "poke", "mm": 0, "vpn": 8, "value": 3},
        {"op": "clear_softdirty", "mm": 0},
        {"op": "softdirty", "mm": 0, "vpn": 8},
        {"op": "mremap", "mm": 0, "vpn": 8, "npages": 2, "new_vpn": 16},
        {"op": "swapoff"},
        {"op": "writeback", "mm": 0, "vpn": 0},
        {"op": "pte", "mm": 0, "vpn": 16},
        {"op": "pfn", "mm": 0, "vpn": 16},
    ]
    trace = parse_trace({"ruleset": "current", "steps": steps})
    report = run_trace(trace, PRESETS["current"])
    model = timeline_rows(steps, [(r.status, r.value) for r in report.results])
    assert model.columns == ["#", "mm0", "ref p0", "ref g1", "system", "seen"]
    text = [" | ".join(_cells(model, i)) for i in range(len(steps))]
    assert text[0] == "mmap 0+1 file shared ro"
    assert text[1] == "mmap 4+4 hugetlb" and text[2] == "mmap 8+4 mthp"
    assert text[3] == "mprotect 0+1 none"
    assert text[4] == "pin rw fast [4] as p0 | rw fast mm0[4]"
    assert text[5] == "get rw force [8] as g1 | get rw force mm0[8]"
    assert text[6] == "poke[8]=3"
    assert text[7] == "clear soft-dirty"
    assert text[8] == "SD[8] → 0"    # cleared after the poke
    assert text[9] == "mremap 8+2 → 16"
    assert text[10] == "swapoff"
    assert text[11].startswith("writeback [0]")
    assert text[12].startswith("pte [16] → present")
    assert text[13] == "pfn [16] → " + str(report.results[13].value)
