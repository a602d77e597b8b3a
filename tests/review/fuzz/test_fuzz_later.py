"""The fuzzer and the later vocabulary: it draws every op and argument of the trace
format, its traces round-trip through the replay format, the first vocabulary's
examples stay what they were, and it finds the soft-dirty bug v6.0 fixed (bounded
runs, fixed seeds)."""
from __future__ import annotations

import json

import pytest

import review.fuzz.strategies as strategies
from mmreview.cli import main
from review.fuzz.search import _Runner, search
from review.fuzz.shrink import _simpler
from spec.presets import PRESETS
from spec.run import run_trace
from spec.trace import OPS, Step, parse_trace, step

LATER_OPS = {"poke", "clear_softdirty", "softdirty", "mremap", "swapoff", "pte", "pfn",
             "writeback"}
LATER_ARGS = {"prot", "backing", "shared", "hugetlb", "thp_order"}
GUP_FLAGS = {"fast", "force"}     # drawn in every example


def _record(rules="current", n=400, seed=3):
    traces: list = []
    search(PRESETS[rules], seed=seed, max_examples=n, database=None, _record=traces)
    return traces


@pytest.fixture(scope="module")
def traces():
    return _record()


def test_every_op_and_argument_is_drawn(traces):
    ops = {s["op"] for t in traces for s in t["steps"]}
    assert ops >= set(OPS) - {"put"} and "unpin" in ops
    args = {k for t in traces for s in t["steps"] for k in s}
    assert LATER_ARGS | GUP_FLAGS <= args
    assert any(s["op"] == "get" and s.get("write") for t in traces for s in t["steps"])
    assert any(s["op"] == "mprotect" and "prot" in s for t in traces for s in t["steps"])


def test_drawn_traces_round_trip_through_the_replay_format(traces):
    for t in traces:
        parsed = parse_trace(json.loads(json.dumps(t)))
        assert [s.to_json() for s in parsed.steps] == t["steps"]
        # the later arguments appear only when set (as a hand-written trace has them)
        for s in t["steps"]:
            assert not any(s.get(k) is False for k in ("fast", "force", "shared", "hugetlb"))
            assert s.get("prot") != "rw" or s["op"] == "mprotect"
            assert s.get("backing") != "anon"
        run_trace(parsed, PRESETS["current"])   # replays (TraceError would raise)


def test_without_the_later_flag_an_example_is_the_first_vocabulary(monkeypatch):
    monkeypatch.setattr(strategies, "P_LATER", 0.0)
    flags = set()
    for t in _record(n=150):
        for s in t["steps"]:
            assert s["op"] not in LATER_OPS
            assert not LATER_ARGS & set(s) and not (s["op"] == "get" and "write" in s)
            flags |= GUP_FLAGS & set(s)
    assert flags == GUP_FLAGS, "GUP-fast and FOLL_FORCE belong to every example"


def test_v5_19_soft_dirty_bug_found_and_fixed_in_v6_0(tmp_path, capsys):
    code = main(["fuzz", "--ruleset", "v5.19", "--seed", "3", "--max-examples", "1500",
                 "--no-db", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1 and "softdirty [shared mapping] (contract) on v5.19" in out
    path = tmp_path / "softdirty--shared-mapping.json"
    trace = json.loads(path.read_text())
    ops = [s["op"] for s in trace["steps"]]
    assert ops[-1] == "softdirty" and "clear_softdirty" in ops and "mprotect" in ops
    assert len(ops) <= 8
    assert main(["replay", str(path)]) == 1
    capsys.readouterr()
    # the same trace on v6.0 (76aefad628aa): clean; and a run on v6.0 finds no soft-dirty bug
    assert main(["replay", "--ruleset", "v6.0", str(path)]) == 0
    found = search(PRESETS["v6.0"], seed=3, max_examples=1500, database=None)
    assert "softdirty" not in {f.id for f in found}


def test_probe_asks_the_soft_dirty_bit_of_written_pages():
    r = _Runner(PRESETS["v5.19"], None, "invariants", frozenset(), frozenset(), {}, 0)
    steps = [step("mmap", mm=0, vpn=0, npages=1, backing="file", shared=True),
             step("write", mm=0, vpn=0, value=1), step("clear_softdirty", mm=0),
             step("mprotect", mm=0, vpn=0, npages=1, prot="r"),
             step("mprotect", mm=0, vpn=0, npages=1, prot="rw"),
             step("write", mm=0, vpn=0, value=2)]
    probes = []
    for s in steps:
        r.run(s)
        probes.append(r.probe())
    assert probes[:-1] == [None] * 5
    assert probes[-1] == Step("softdirty", {"mm": 0, "vpn": 0})


def test_differential_compares_only_the_status_of_kernel_internal_queries():
    # v5.8's GUP breaks COW for a R/O pin where v5.7 leaves the page shared with the
    # child: the child's pfn (and the entries' bits) differ, no value does
    steps = [step("mmap", mm=0, vpn=0, npages=1), step("write", mm=0, vpn=0, value=1),
             step("fork", mm=0, child=1),
             step("pin", mm=0, vpn=0, write=False, longterm=False, id="p"),
             step("pfn", mm=1, vpn=0), step("pte", mm=0, vpn=0), step("read", mm=1, vpn=0)]
    a = run_trace(parse_trace({"ruleset": "v5.7", "steps": [s.to_json() for s in steps]}))
    b = run_trace(parse_trace({"ruleset": "v5.8", "steps": [s.to_json() for s in steps]}))
    assert a.results[4].value != b.results[4].value and a.results[5].value != b.results[5].value
    r = _Runner(PRESETS["v5.8"], PRESETS["v5.7"], "differential", frozenset(),
                frozenset({("outcome-difference", "")}), {}, 0)
    for s in steps:
        r.run(s)          # no observable-difference raised


def test_shrink_tries_each_later_argument_away():
    s = Step("mmap", {"mm": 0, "vpn": 0, "npages": 2, "thp": False, "backing": "file",
                      "shared": True, "prot": "r"})
    simpler = _simpler(s)
    assert Step("mmap", {"mm": 0, "vpn": 0, "npages": 2, "thp": False, "backing": "file",
                         "shared": True}) in simpler
    assert Step("mmap", {"mm": 0, "vpn": 0, "npages": 1, "thp": False, "backing": "file",
                         "shared": True, "prot": "r"}) in simpler
    pin = Step("pin", {"mm": 0, "vpn": 0, "write": True, "longterm": False, "id": "p0",
                       "fast": True, "force": True})
    assert {tuple(sorted(x.args)) for x in _simpler(pin)} >= {
        ("force", "id", "longterm", "mm", "vpn", "write"),
        ("fast", "id", "longterm", "mm", "vpn", "write")}
    thp = Step("mmap", {"mm": 0, "vpn": 0, "npages": 4, "thp": True, "thp_order": 1})
    assert Step("mmap", {"mm": 0, "vpn": 0, "npages": 4, "thp": False}) in _simpler(thp)
