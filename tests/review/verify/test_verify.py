"""mmreview verify: the breadth-first engine (on a toy model whose answers are known by
hand) and the exploration of the spec (preset bugs as shortest traces, `current`
clean within bounds, canonical keys that only merge states that behave the same)."""
from __future__ import annotations

import json

import pytest

from review.verify.search import Bounds, explore


# --- the engine on a toy model ----------------------------------------------------------

class Counters:
    """Two counters below `limit`; steps add one to either or reset both. A violation
    whenever a == 3 and b == 2: the shortest violating sequence has 5 steps."""

    def __init__(self, limit=6, bad=(3, 2)):
        self.limit = limit
        self.bad = bad
        self.expanded = 0

    def initial(self):
        return (0, 0), [{"op": "setup"}], []

    def successors(self, state):
        self.expanded += 1
        a, b = state
        for name, nxt in (("a", (a + 1, b)), ("b", (a, b + 1)), ("reset", (0, 0))):
            if max(nxt) >= self.limit:
                yield {"op": name}, None, ()
                continue
            bad = ["boom"] if nxt == self.bad else []
            yield {"op": name}, nxt, bad

    def key(self, state):
        return state


def test_engine_returns_a_shortest_violating_sequence():
    r = explore(Counters(), "toy", Bounds(depth=10))
    assert r.status == "violation"
    assert r.trace[0] == {"op": "setup"}
    ops = [s["op"] for s in r.trace[1:]]
    assert len(ops) == 5 and ops.count("a") == 3 and ops.count("b") == 2
    assert r.depth_verified == 4  # every sequence of 4 steps was clean


def test_engine_verifies_one_step_short_of_the_violation():
    r = explore(Counters(), "toy", Bounds(depth=4))
    assert r.status == "verified" and r.ok and r.depth_verified == 4
    # distinct (a, b) with a + b <= 4, counted per level
    assert r.states_per_depth == [1, 2, 3, 4, 5]
    assert r.states == 15
    assert "verified up to depth 4 (15 distinct states)" == r.summary()


def test_engine_reports_exhaustion_when_no_new_state_appears():
    r = explore(Counters(limit=2, bad=None), "toy", Bounds(depth=50))
    assert r.status == "exhausted" and r.ok
    assert r.states == 4 and r.depth_verified == 3


def test_engine_stops_at_the_state_budget_with_the_depth_reached():
    r = explore(Counters(), "toy", Bounds(depth=4, max_states=7))
    assert r.status == "max_states" and not r.ok and not r.complete
    assert r.depth_verified == 2 and r.states == 7
    assert "state budget of 7 reached: verified up to depth 2 only" in r.summary()


def test_engine_stops_when_asked_and_reports_progress():
    calls = []
    model = Counters(limit=50, bad=None)
    r = explore(model, "toy", Bounds(depth=40), on_progress=calls.append,
                should_stop=lambda: model.expanded >= 30, progress_every=0.0)
    assert r.status == "stopped"
    assert 0 < r.depth_verified < 40
    assert calls and calls[-1].states == r.states


# --- the spec ---------------------------------------------------------------------------

from spec.presets import PRESETS  # noqa: E402
from spec.run import run_trace  # noqa: E402
from spec.trace import parse_trace  # noqa: E402

from review.verify import canon  # noqa: E402
from review.verify.search import ADVICES, SpecModel, audit, verify  # noqa: E402

# The CVE-2020-29374 family needs a FOLL_GET reference, fork, writes on both sides of
# the fork and a device read; the alphabet is cut to those ops so that depth 6 stays
# small, and the search looks for that clause only.
CVE_OPS = ("write", "fork", "get", "put", "munmap", "exit", "dma_read", "read")
# The v5.9 R/O pin incoherence: short-term pins only, so that the R/O pin of
# never-written memory (allowed to go stale) is not what is found.
PIN_OPS = ("write", "fork", "pin", "unpin", "read", "dma_read", "exit")


def _replayed_clauses(result):
    report = run_trace(parse_trace(result.replay_trace()), PRESETS[result.rules])
    return report.clauses


def test_v57_foreign_data_is_found_as_a_shortest_trace():
    b = Bounds(depth=6, processes=2, pages=1, pins=1, ops=CVE_OPS)
    r = verify(PRESETS["v5.7"], b, clauses=["no-foreign-data"])
    assert r.status == "violation"
    assert [v.id for v in r.violations] == ["no-foreign-data"]
    steps = r.trace[1:]
    # write; get/fork in some order; writes on both sides (or a child exit); dma_read
    assert len(steps) == 6
    assert steps[-1]["op"] == "dma_read"
    assert {"fork", "get", "write"} <= {s["op"] for s in steps}
    # a replayable trace in the replay format that breaks the same clause
    assert "no-foreign-data" in _replayed_clauses(r)
    # the textbook trace (write; fork; child get; child exit; parent write; dma_read)
    # has the same length: it is one of the shortest, as BFS says
    textbook = {"ruleset": "v5.7", "steps": r.trace[:1] + [
        {"op": "write", "mm": 0, "vpn": 0, "value": 1}, {"op": "fork", "mm": 0, "child": 1},
        {"op": "get", "mm": 1, "vpn": 0, "id": "r0"}, {"op": "exit", "mm": 1},
        {"op": "write", "mm": 0, "vpn": 0, "value": 2}, {"op": "dma_read", "id": "r0"}]}
    assert len(textbook["steps"]) == len(r.trace)
    assert "no-foreign-data" in run_trace(parse_trace(textbook), PRESETS["v5.7"]).clauses
    # one step less: nothing breaks no-foreign-data (BFS: no shorter trace exists)
    clean = verify(PRESETS["v5.7"], Bounds(depth=5, processes=2, pages=1, pins=1, ops=CVE_OPS),
                   clauses=["no-foreign-data"])
    assert clean.status == "verified" and clean.depth_verified == 5


def test_v59_ro_pin_incoherence_is_found_as_a_shortest_trace():
    b = Bounds(depth=5, processes=2, pages=1, pins=1, ops=PIN_OPS, pin_kinds=("ro", "rw"))
    r = verify(PRESETS["v5.9"], b)
    assert r.status == "violation"
    assert [v.id for v in r.violations] == ["pin-coherence"]
    ops = [s["op"] for s in r.trace[1:]]
    # write; fork; R/O pin of the shared page; write (COW away from the pin); dma_read
    assert ops == ["write", "fork", "pin", "write", "dma_read"]
    pin = r.trace[3]
    assert pin["write"] is False and pin["longterm"] is False
    assert "pin-coherence" in _replayed_clauses(r)
    shorter = verify(PRESETS["v5.9"], Bounds(depth=4, processes=2, pages=1, pins=1, ops=PIN_OPS,
                                             pin_kinds=("ro", "rw")))
    assert shorter.status == "verified"
    # the same bounds on `current` (v6.x): clean, one step past the bug's length
    fixed = verify(PRESETS["current"], Bounds(depth=5, processes=2, pages=1, pins=1, ops=PIN_OPS,
                                             pin_kinds=("ro", "rw")))
    assert fixed.ok, fixed.summary()


def test_current_is_clean_on_every_op_two_processes_one_page_one_pin():
    r = verify(PRESETS["current"], Bounds(depth=3, processes=2, pages=1, pins=1))
    assert r.status == "verified", r.summary()
    assert r.states_per_depth[0] == 1 and len(r.states_per_depth) == 4
    assert r.states == sum(r.states_per_depth)


def test_current_is_clean_with_a_thp():
    r = verify(PRESETS["current"], Bounds(depth=2, processes=2, pages=2, thp=True, pins=1))
    assert r.status == "verified", r.summary()
    assert r.trace is None


def test_state_budget_stops_with_a_clear_verdict():
    r = verify(PRESETS["current"], Bounds(depth=4, max_states=50))
    assert r.status == "max_states" and r.states == 50
    assert r.summary().startswith("state budget of 50 reached: verified up to depth 1 only")


def test_canonical_key_merges_only_states_that_behave_the_same():
    for name in ("current", "v5.9"):
        compared, problems = audit(PRESETS[name], Bounds(depth=3, processes=2, pages=2, pins=1,
                                                         ops=PIN_OPS + ("swapout", "madvise")),
                                   samples=60)
        assert compared == 60 and problems == []


def _session_after(*steps, rules="current"):
    m = SpecModel(PRESETS[rules], Bounds(depth=1, pages=2))
    state, _, _ = m.initial()
    session = state[0]
    from spec.trace import step
    for s in steps:
        status, violations = canon.apply(session, step(**s))
        assert status == "ok" and not violations, (s, status, violations)
    return m, session


def test_key_abstracts_values_and_folio_ids_but_not_what_is_observable():
    w = lambda v, vpn=0: {"op": "write", "mm": 0, "vpn": vpn, "value": v}  # noqa: E731
    m, a = _session_after(w(5))
    _, b = _session_after(w(9))
    drv = (1, (0,), (), 1)
    assert m.keyer.key(a, drv) == m.keyer.key(b, drv)
    # a different folio id (an extra fault and zap first) and other values: same key
    _, c = _session_after(w(3, 1), {"op": "madvise", "mm": 0, "vpn": 1, "npages": 1,
                                    "advice": "dontneed"}, w(7))
    assert m.keyer.key(a, drv) == m.keyer.key(c, drv)
    # the same value in both pages is not two different values in them
    _, same = _session_after(w(4), w(4, 1))
    _, diff = _session_after(w(4), w(6, 1))
    assert m.keyer.key(same, drv) != m.keyer.key(diff, drv)
    # the contract is part of the key: same kernel, other logical expectations
    d = a.clone()
    d.contract.procs[0].mem[0] = 0
    assert m.keyer.key(d, drv) != m.keyer.key(a, drv)
    # and so is how many forks the alphabet has left
    assert m.keyer.key(a, (2, (0,), (), 1)) != m.keyer.key(a, drv)


def test_schema_guard_names_state_the_key_does_not_cover(monkeypatch):
    canon.check_schema()
    monkeypatch.setitem(canon.KNOWN_FIELDS, "Folio", canon.KNOWN_FIELDS["Folio"] - {"pincount"})
    with pytest.raises(canon.SchemaError, match="Folio: pincount"):
        canon.check_schema()


# --- the command line -------------------------------------------------------------------

def _cli(capsys, *argv):
    from mmreview.cli import main
    code = main(["verify", "--quiet", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_prints_a_replayable_shortest_trace_and_exits_1(capsys, tmp_path):
    out_file = tmp_path / "t.json"
    code, out, err = _cli(capsys, "--ruleset", "v5.9", "--depth", "5", "--ops", ",".join(PIN_OPS),
                          "--pin-kinds", "ro,rw", "--out", str(out_file))
    assert code == 1
    trace = json.loads(out)
    assert trace["ruleset"] == "v5.9" and len(trace["steps"]) == 6
    assert json.loads(out_file.read_text()) == trace
    assert "violation of pin-coherence by a shortest trace of 5 steps" in err
    assert "    3  pin mm=0 vpn=0 write=false longterm=false id=r0" in err
    # `mmreview replay` reproduces it from the file
    from mmreview.cli import main
    assert main(["replay", str(out_file)]) == 1
    replayed = json.loads(capsys.readouterr().out)
    assert [v["id"] for v in replayed["violations"]] == ["pin-coherence"]


def test_cli_verified_exits_0_with_the_depth_and_states(capsys):
    code, out, err = _cli(capsys, "--depth", "2", "--ops", "write,fork,read")
    assert code == 0
    assert out.startswith("verify: verified up to depth 2 (") and "distinct states)" in out


def test_cli_json_and_budget(capsys):
    code, out, _ = _cli(capsys, "--depth", "3", "--max-states", "10", "--json")
    assert code == 3
    d = json.loads(out)
    assert d["status"] == "max_states" and d["states"] == 10


@pytest.mark.parametrize("argv, what", [
    (["--depth", "2", "--ops", "write,frob"], "--ops: unknown frob"),
    (["--depth", "2", "--ruleset", "v9.9"], "--ruleset 'v9.9': unknown"),
    (["--depth", "-1"], "bounds: depth must be >= 0"),
    (["--depth", "2", "--thp", "--pages", "5"], "bounds: pages must be 1..4"),
    (["--depth", "2", "--only", "no-such-clause"], "--only: unknown no-such-clause"),
])
def test_cli_bad_usage_exits_2_with_one_line(capsys, argv, what):
    code, out, err = _cli(capsys, *argv)
    assert code == 2
    assert what in err and err.count("\n") == 1 and "Traceback" not in err


def test_audit_catches_a_key_that_forgets_state(monkeypatch):
    real = canon.Keyer.raw

    def forgetful(self, session, driver):  # forgets how many forks the alphabet has left
        return real(self, session, driver)[:-1]

    monkeypatch.setattr(canon.Keyer, "raw", forgetful)
    compared, problems = audit(PRESETS["current"], Bounds(depth=3, processes=3,
                                                          ops=("write", "fork", "exit")),
                               samples=200)
    assert problems


def test_packed_frontier_explores_the_same_states():
    from review.verify.search import explore
    b = Bounds(depth=3, processes=2, pages=1, pins=1, ops=PIN_OPS + ("swapout",))
    plain = explore(SpecModel(PRESETS["current"], b), "current", b, compact_after=None)
    packed = explore(SpecModel(PRESETS["current"], b), "current", b, compact_after=1)
    assert plain.ok and packed.ok
    assert packed.states_per_depth == plain.states_per_depth
    bug = Bounds(depth=5, processes=2, pages=1, pins=1, ops=PIN_OPS, pin_kinds=("ro", "rw"))
    found = explore(SpecModel(PRESETS["v5.9"], bug), "v5.9", bug, compact_after=1)
    assert [s["op"] for s in found.trace[1:]] == ["write", "fork", "pin", "write", "dma_read"]


def test_overlay_rule_sets_are_explored_and_their_valuation_kept_for_replay():
    from spec.decisions import ExtractedDecision, GuardedOutcome
    from spec import expr as E
    # a "patch" that reuses any R/O anon page on a write fault while an unmodelled
    # condition holds: with the condition true, fork + write breaks isolation
    patch = ExtractedDecision("wp.reuse", (GuardedOutcome(E.Free("page_is_lucky"), "reuse"),))
    rules = PRESETS["current"].with_overlay((patch,), free={"page_is_lucky": True})
    b = Bounds(depth=4, processes=2, pages=1, pins=0, ops=("write", "fork", "read"))
    r = verify(rules, b)
    assert r.status == "violation" and r.rules == "current+patch"
    trace = r.replay_trace()
    assert trace["free"] == {"page_is_lucky": True}
    assert [s["op"] for s in trace["steps"][1:]][:2] == ["write", "fork"]
    clean = verify(PRESETS["current"].with_overlay((patch,), free={"page_is_lucky": False}), b)
    assert clean.ok


def test_cli_ctrl_c_gives_the_depth_verified_so_far(tmp_path):
    import signal
    import subprocess
    import sys
    import time
    proc = subprocess.Popen([sys.executable, "-m", "mmreview.cli", "verify", "--depth", "30",
                             "--pages", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # the first progress line means the search (and its SIGINT handler) is running
    first = proc.stderr.readline()
    assert first.startswith("verify: depth "), first
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert out.startswith("verify: interrupted: verified up to depth "), out
    assert "Traceback" not in err


def test_all_clauses_keeps_the_shortest_trace_of_each_clause():
    b = Bounds(depth=6, processes=2, pages=1, pins=1, ops=CVE_OPS + ("pin", "unpin"),
               pin_kinds=("ro-longterm",))
    r = verify(PRESETS["v5.7"], b, all_clauses=True)
    lengths = {f.id: f.length for f in r.findings}
    # the stale R/O longterm pin of never-written memory needs 3 steps and would stop a
    # plain search there; the foreign-data trace still comes out, at its own minimum
    assert lengths["pin-coherence"] == 3
    assert lengths["no-foreign-data"] == 6
    assert r.status == "violation" and r.trace == r.findings[0].trace["steps"]
    for f in r.findings:
        assert f.id in _replayed_clauses_of(r, f.trace)


def _replayed_clauses_of(result, trace):
    return run_trace(parse_trace(trace), PRESETS[result.rules]).clauses


def test_cli_all_writes_one_trace_per_clause(capsys, tmp_path):
    code, out, err = _cli(capsys, "--ruleset", "v5.7", "--depth", "6", "--all",
                          "--ops", ",".join(CVE_OPS + ("pin", "unpin")),
                          "--pin-kinds", "ro-longterm", "--out", str(tmp_path / "found"))
    assert code == 1
    traces = json.loads(out)
    assert {len(t["steps"]) - 1 for t in traces} >= {3, 6}
    names = sorted(p.name for p in (tmp_path / "found").iterdir())
    assert "v5.7-no-foreign-data.json" in names and "v5.7-pin-coherence.json" in names
    assert "violations, each by a shortest trace: " in err


def test_unchanged_shortcut_explores_exactly_the_same_states():
    from review.verify.search import explore
    for name, b in (("current", Bounds(depth=3, processes=2, pages=1, pins=1)),
                    ("v5.9", Bounds(depth=3, processes=2, pages=1, pins=1)),
                    ("v5.7", Bounds(depth=3, processes=2, pages=2, pins=1)),
                    ("current", Bounds(depth=2, processes=2, pages=2, thp=True, pins=1))):
        fast = explore(SpecModel(PRESETS[name], b), name, b, all_clauses=True)
        slow = explore(SpecModel(PRESETS[name], b, fast_same=False), name, b, all_clauses=True)
        assert fast.states_per_depth == slow.states_per_depth
        assert [(f.id, f.length) for f in fast.findings] == [(f.id, f.length) for f in slow.findings]


def test_unchanged_sees_a_change_in_any_keyed_part():
    m, a = _session_after({"op": "write", "mm": 0, "vpn": 0, "value": 1})
    assert canon.unchanged(a, a.clone())
    for mutate in (
        lambda s: s.kernel.state.folios[next(iter(s.kernel.state.folios))].data.__setitem__(0, 2),
        lambda s: setattr(s.kernel.state.mms[0].ptes[0], "dirty", not s.kernel.state.mms[0].ptes[0].dirty),
        lambda s: s.kernel.state.mms[0].vmas.__setitem__(0, 0),
        lambda s: s.contract.procs[0].written.clear(),
        lambda s: setattr(s.kernel.state.mms[0], "has_pinned", True),
    ):
        b = a.clone()
        mutate(b)
        assert not canon.unchanged(a, b)


def test_unchanged_tells_a_flip_of_unread_flags_from_a_real_change():
    from spec.state import VM_HUGEPAGE, VM_NOHUGEPAGE, VM_WRITE
    m, a = _session_after({"op": "write", "mm": 0, "vpn": 0, "value": 1})
    unread = m.keyer.unread_vma_flags
    assert unread == VM_HUGEPAGE | VM_NOHUGEPAGE          # 2 small pages: no THP
    assert canon.unchanged(a, a.clone(), unread) == canon.IDENTICAL
    huge = a.clone()
    huge.kernel.state.mms[0].vmas[0] |= VM_NOHUGEPAGE
    assert canon.unchanged(a, huge, unread) == canon.UP_TO_UNREAD_FLAGS
    assert not canon.unchanged(a, huge)                    # not without the mask
    both = huge.clone()
    both.kernel.state.mms[0].vmas[1] &= ~VM_WRITE          # and a flag that is read
    assert not canon.unchanged(a, both, unread)


def test_fresh_values_do_not_make_new_states_so_small_spaces_exhaust():
    # write; write; ... only ever renames the value: the space is finite and the
    # search says so instead of running to the depth bound
    r = verify(PRESETS["current"], Bounds(depth=10, processes=1, pins=0,
                                          ops=("write", "read", "madvise"),
                                          advices=("dontneed", "pageout")))
    assert r.status == "exhausted" and r.ok and r.depth_verified < 10
    assert r.states == sum(r.states_per_depth) < 20


def test_cli_explores_from_a_given_trace(capsys, tmp_path):
    start = tmp_path / "start.json"
    start.write_text(json.dumps({"ruleset": "v5.9", "steps": [
        {"op": "mmap", "mm": 0, "vpn": 0, "npages": 1},
        {"op": "write", "mm": 0, "vpn": 0, "value": 7},
        {"op": "fork", "mm": 0, "child": 1}]}))
    code, out, err = _cli(capsys, "--from", str(start), "--depth", "3", "--ops", ",".join(PIN_OPS),
                          "--pin-kinds", "ro,rw")
    assert code == 1
    trace = json.loads(out)
    assert trace["ruleset"] == "v5.9"  # taken from the start trace
    assert trace["steps"][:3] == [  # the start trace, defaults filled in
        {"op": "mmap", "mm": 0, "vpn": 0, "npages": 1, "thp": False},
        {"op": "write", "mm": 0, "vpn": 0, "value": 7}, {"op": "fork", "mm": 0, "child": 1}]
    assert [s["op"] for s in trace["steps"][3:]] == ["pin", "write", "dma_read"]
    assert trace["steps"][4]["value"] == 8  # fresh: past every value of the start trace
    assert "by a shortest trace of 3 steps" in err
    # the same continuation space is clean on current
    code, out, _ = _cli(capsys, "--from", str(start), "--ruleset", "current", "--depth", "3",
                        "--ops", ",".join(PIN_OPS), "--pin-kinds", "ro,rw")
    assert code == 0 and "verified up to depth 3" in out


def test_cli_bad_start_trace_exits_2(capsys, tmp_path):
    missing = tmp_path / "nope.json"
    code, _, err = _cli(capsys, "--from", str(missing), "--depth", "1")
    assert code == 2 and f"--from {missing}" in err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"steps": [{"op": "frob"}]}))
    code, _, err = _cli(capsys, "--from", str(bad), "--depth", "1")
    assert code == 2 and "unknown op 'frob'" in err
    stuck = tmp_path / "stuck.json"
    stuck.write_text(json.dumps({"steps": [{"op": "mmap", "mm": 0, "vpn": 0, "npages": 1},
                                           {"op": "unpin", "id": "x"}]}))
    code, _, err = _cli(capsys, "--from", str(stuck), "--depth", "1")
    assert code == 2 and "start step 1 (unpin) cannot be applied" in err


def test_findings_count_steps_after_a_longer_start():
    start = ({"op": "mmap", "mm": 0, "vpn": 0, "npages": 1}, {"op": "write", "mm": 0, "vpn": 0, "value": 7},
             {"op": "fork", "mm": 0, "child": 1})
    r = verify(PRESETS["v5.9"], Bounds(depth=3, ops=PIN_OPS, pin_kinds=("ro", "rw"), start=start),
               all_clauses=True)
    assert {f.id: f.length for f in r.findings} == {"pin-coherence": 3}
    assert r.summary().startswith("violation of pin-coherence by a shortest trace of 3 steps")


def test_library_start_steps_are_checked_and_completed():
    from review.verify.search import StartError
    r = verify(PRESETS["current"], Bounds(depth=1, ops=("read",),
                                          start=({"op": "mmap", "mm": 0, "vpn": 0, "npages": 1},)))
    assert r.ok and r.states == 2  # the start, and the start after a read fault
    with pytest.raises(StartError, match="step 0: write: missing argument 'value'"):
        verify(PRESETS["current"], Bounds(depth=1, start=({"op": "write", "mm": 0, "vpn": 0},)))


def test_enabled_steps_follow_the_kernel_state_not_the_bookkeeping():
    m = SpecModel(PRESETS["current"], Bounds(depth=1, pins=1))
    state, _, _ = m.initial()
    session, driver = state
    from spec.trace import step
    canon.apply(session, step("pin", mm=0, vpn=0, write=True, longterm=False, id="r0"))
    ops = {(obj["op"], obj.get("id")) for _, obj, _ in m.enabled((session, driver))}
    assert ("unpin", "r0") in ops and ("dma_write", "r0") in ops
    assert ("pin", "r0") not in ops  # the only reference id is taken


def test_full_symmetry_merges_more_and_the_audit_finds_no_difference():
    b = Bounds(depth=3, processes=3, pages=1, pins=1, ops=PIN_OPS)
    full = Bounds(depth=3, processes=3, pages=1, pins=1, ops=PIN_OPS, symmetry=True)
    plain_r = verify(PRESETS["current"], b)
    full_r = verify(PRESETS["current"], full)
    assert plain_r.ok and full_r.ok and full_r.states < plain_r.states
    compared, problems = audit(PRESETS["v5.8"], full, samples=80)
    assert compared == 80 and problems == []


def test_key_tells_apart_references_to_one_address_that_were_or_were_not_bound_together():
    # r0 is pinned, unbound by munmap, and the address mapped again and pinned as r1:
    # the two windows do not overlap, so a device write through r0 is not r1's to see
    # (Contract._dma_write). The same state with r1 taken while r0 was still bound
    # differs in that only, and must not share r0/r1's key.
    pin = lambda rid: {"op": "pin", "mm": 0, "vpn": 0, "write": True,  # noqa: E731
                       "longterm": False, "id": rid}
    m, a = _session_after(pin("r0"), {"op": "munmap", "mm": 0, "vpn": 0, "npages": 1},
                          {"op": "mmap", "mm": 0, "vpn": 0, "npages": 1}, pin("r1"))
    b = a.clone()
    b.contract.refs["r1"].taken = a.contract.refs["r0"].taken
    drv = (1, (0,), (("r0", "pin_rw"), ("r1", "pin_rw")), 10)
    assert canon.Keyer(2).key(a, drv) != canon.Keyer(2).key(b, drv)
    # and the difference is one the contract acts on
    from spec.trace import step
    for s in (a, b):
        status, _ = canon.apply(s, step("dma_write", id="r0", value=99))
        assert status == "ok"
    assert 99 not in a.contract.refs["r1"].device and 99 in b.contract.refs["r1"].device


def test_reused_clones_give_the_same_traces_and_messages_as_fresh_ones():
    # a step that changes nothing hands its clone on to the next step (SpecModel
    # .transitions): step indices, counters and the contract's log are put back, so
    # every finding (trace, clause, message with its step numbers) is as without reuse
    from review.verify.search import explore
    b = Bounds(depth=4, processes=2, pages=1, pins=1, ops=CVE_OPS + ("pin", "madvise"),
               pin_kinds=("ro-longterm", "rw"), advices=("dontneed", "pageout"))
    for name in ("v5.7", "v5.8"):
        fast = explore(SpecModel(PRESETS[name], b), name, b, all_clauses=True)
        slow = explore(SpecModel(PRESETS[name], b, fast_same=False), name, b, all_clauses=True)
        assert fast.findings, name
        assert [(f.id, f.trace, [(v.id, v.step, v.message) for v in f.violations])
                for f in fast.findings] == \
               [(f.id, f.trace, [(v.id, v.step, v.message) for v in f.violations])
                for f in slow.findings]
        assert fast.states_per_depth == slow.states_per_depth


def test_key_does_not_depend_on_which_name_each_reference_got():
    pin = lambda rid, vpn, write: {"op": "pin", "mm": 0, "vpn": vpn,  # noqa: E731
                                   "write": write, "longterm": False, "id": rid}
    m, a = _session_after(pin("r0", 0, True), pin("r1", 1, False))
    _, b = _session_after(pin("r0", 1, False), pin("r1", 0, True))
    _, c = _session_after(pin("r0", 1, True), pin("r1", 0, False))
    keyer = canon.Keyer(2)
    drv = (1, (0,), (), 1)
    assert keyer.key(a, drv) == keyer.key(b, drv)
    assert keyer.key(a, drv) != keyer.key(c, drv)  # other pins at the pages: other state
    # and the merged states behave the same (two references, mapping changes included)
    ops = ("write", "fork", "pin", "unpin", "dma_write", "dma_read", "munmap", "mmap")
    compared, problems = audit(PRESETS["current"], Bounds(depth=3, processes=2, pages=1, pins=2,
                                                          ops=ops, pin_kinds=("rw", "ro")),
                               samples=60)
    assert compared == 60 and problems == []


def test_key_names_swap_cache_folios_by_their_slot_not_by_allocation_order():
    # After a THP is swapped out and the process forked, the parent's swap-in faults
    # on pages 0 and 1 leave one small folio per slot in the swap cache. Faulting 1
    # then 0, or 0 then 1, gives the same state with the folio ids swapped; the key
    # must not tell them apart (the sleep-set reduction explores one order only).
    from review.verify import canon
    from review.verify.model import SpecModel
    from spec.presets import PRESETS
    from spec.trace import parse_step

    start = ({"op": "mmap", "mm": 0, "vpn": 0, "npages": 4, "thp": True},
             {"op": "write", "mm": 0, "vpn": 0, "value": 1},
             {"op": "swapout", "mm": 0, "vpn": 0},
             {"op": "fork", "mm": 0, "child": 1})
    model = SpecModel(PRESETS["current"], Bounds(depth=2, pages=2, thp=True, start=start),
                      digest=False)
    (session, driver), _, _ = model.initial()

    def after(*objs):
        s = session.clone()
        for i, obj in enumerate(objs):
            assert canon.apply(s, parse_step(obj, 4 + i))[0] == "ok"
        return s

    w0 = {"op": "write", "mm": 0, "vpn": 0, "value": 3}
    w1 = {"op": "write", "mm": 0, "vpn": 1, "value": 2}
    one_first, zero_first = after(w1, w0), after(w0, w1)
    cached = [f for f in one_first.kernel.state.folios.values() if f.swapcache]
    assert len(cached) == 2  # the precondition: two folios only the swap cache holds
    assert model.keyer.key(one_first, driver) == model.keyer.key(zero_first, driver)


# --- VMA flags nothing reads: VM_HUGEPAGE / VM_NOHUGEPAGE without a possible THP ------

_NO_THP_ADVICE = tuple(a for a in ADVICES if a not in ("hugepage", "nohugepage"))


def _key_after(bounds, *steps):
    m = SpecModel(PRESETS["current"], bounds)
    (session, driver), _, _ = m.initial()
    from spec.trace import step
    for s in steps:
        status, _v = canon.apply(session, step(**s))
        assert status == "ok", (s, status)
    return m.key((session, driver))


def test_key_leaves_out_thp_advice_flags_only_where_no_thp_can_form():
    huge = {"op": "madvise", "mm": 0, "vpn": 0, "npages": 1, "advice": "hugepage"}
    nohuge = dict(huge, advice="nohugepage")
    dontfork = dict(huge, advice="dontfork")
    small = Bounds(depth=1, pages=2)
    assert _key_after(small, huge) == _key_after(small, nohuge) == _key_after(small)
    assert _key_after(small, dontfork) != _key_after(small)   # fork reads VM_DONTCOPY
    thp = Bounds(depth=1, pages=2, thp=True)                   # the flags decide THP faults
    assert _key_after(thp, nohuge) != _key_after(thp)
    four = Bounds(depth=1, pages=4)                            # a whole block can get VM_HUGEPAGE
    assert _key_after(four, huge) != _key_after(four)


@pytest.mark.parametrize("preset", ["v5.7", "current"])
def test_unread_thp_flags_merge_states_without_changing_any_finding(preset):
    b = Bounds(depth=3, pages=2)
    merged = verify(PRESETS[preset], b, all_clauses=True)
    # the same search with the flags in the key
    model = SpecModel(PRESETS[preset], b)
    model.keyer.unread_vma_flags = 0
    kept = explore(model, preset, b, all_clauses=True)
    assert merged.states < 0.8 * kept.states
    assert {f.id: f.length for f in merged.findings} == {f.id: f.length for f in kept.findings}
    # nothing reads the flags: the merged states are those of the alphabet without
    # MADV_HUGEPAGE and MADV_NOHUGEPAGE, level by level
    without = verify(PRESETS[preset], Bounds(depth=3, pages=2, advices=_NO_THP_ADVICE),
                     all_clauses=True)
    assert merged.states_per_depth == without.states_per_depth


def test_audit_finds_no_difference_between_states_merged_by_unread_flags():
    compared, problems = audit(PRESETS["current"],
                               Bounds(depth=3, pages=2,
                                      ops=("write", "fork", "madvise", "swapout")),
                               samples=80)
    assert compared == 80 and problems == []


def test_audit_catches_thp_flags_left_out_where_a_thp_can_form(monkeypatch):
    init = canon.Keyer.__init__

    def always(self, *args, **kwargs):
        init(self, *args, **dict(kwargs, thp_impossible=True))
    monkeypatch.setattr(canon.Keyer, "__init__", always)
    compared, problems = audit(PRESETS["current"],
                               Bounds(depth=3, pages=2, thp=True, ops=("write", "madvise")),
                               samples=200)
    assert problems


def test_ksm_merge_is_tried_in_both_orders_which_reach_different_states():
    # ksmd makes the page it is scanning the KSM page: merging the parent's page that
    # fork shared with the child into a private one, or the other way round, leaves
    # a KSM page mapped three times or twice
    b = Bounds(depth=1, pages=2)
    m = SpecModel(PRESETS["current"], b)
    (_, driver), _, _ = m.initial()
    merges = [(s["mm"], s["vpn"], s["mm2"], s["vpn2"]) for _st, s, _a in m.alphabet(driver)
              if s["op"] == "ksm_merge"]
    assert (0, 0, 0, 1) in merges and (0, 1, 0, 0) in merges
    adv = lambda vpn: {"op": "madvise", "mm": 0, "vpn": vpn, "npages": 1,  # noqa: E731
                       "advice": "mergeable"}
    zero_filled = lambda vpn: [  # noqa: E731  (an anon page of zeroes: no value written)
        {"op": "pin", "mm": 0, "vpn": vpn, "write": True, "longterm": False, "id": "r0"},
        {"op": "unpin", "id": "r0"}]
    setup = [adv(0), adv(1), *zero_filled(0), {"op": "fork", "mm": 0, "child": 1},
             *zero_filled(1)]
    shared_first = {"op": "ksm_merge", "mm": 0, "vpn": 0, "mm2": 0, "vpn2": 1}
    private_first = {"op": "ksm_merge", "mm": 0, "vpn": 1, "mm2": 0, "vpn2": 0}
    b3 = Bounds(depth=1, pages=2, processes=3)
    assert _key_after(b3, *setup, shared_first) != _key_after(b3, *setup, private_first)
