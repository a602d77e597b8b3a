"""`mmreview verify`: a replayable shortest trace and exit 1, verdicts and budgets,
one trace per clause, start traces, bad usage in one line with exit 2, Ctrl-C."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from mmreview.cli import main
from tests.review.verify.verify_util import CVE_OPS, PIN_OPS


def _cli(capsys, *argv):
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


def test_cli_ctrl_c_gives_the_depth_verified_so_far(tmp_path):
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


def test_a_from_trace_nested_too_deeply_is_one_line_and_exit_2(tmp_path, capsys):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    code = main(["verify", "--from", str(deep), "--depth", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == [f"mmreview verify: --from {deep}: JSON nested too deeply"]
