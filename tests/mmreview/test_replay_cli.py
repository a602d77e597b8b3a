"""`mmreview replay`: JSON out, exit codes 0/1/2, one-line errors naming file and step."""
from __future__ import annotations

import io
import json

import pytest

from mmreview.cli import main

CVE = {"ruleset": "v5.7", "steps": [
    {"op": "mmap", "mm": 0, "vpn": 0, "npages": 1},
    {"op": "write", "mm": 0, "vpn": 0, "value": 1},
    {"op": "fork", "mm": 0, "child": 1},
    {"op": "get", "mm": 1, "vpn": 0, "id": "g"},
    {"op": "exit", "mm": 1},
    {"op": "write", "mm": 0, "vpn": 0, "value": 2},
    {"op": "dma_read", "id": "g"},
]}


def replay(tmp_path, capsys, obj, *extra, raw=None):
    path = tmp_path / "t.json"
    path.write_text(raw if raw is not None else json.dumps(obj))
    code = main(["replay", str(path), *extra])
    out, err = capsys.readouterr()
    return code, out, err, str(path)


def test_violation_exit_1_with_ids_and_steps(tmp_path, capsys):
    code, out, err, _ = replay(tmp_path, capsys, CVE)
    assert code == 1, err
    doc = json.loads(out)
    assert doc["ruleset"] == "v5.7"
    assert [r["status"] for r in doc["results"]] == ["ok"] * 7
    assert doc["results"][6]["value"] == 2          # the parent's post-fork write
    assert [(v["id"], v["kind"], v["step"]) for v in doc["violations"]] == \
        [("no-foreign-data", "contract", 6)]


def test_clean_exit_0_and_ruleset_override(tmp_path, capsys):
    code, out, err, _ = replay(tmp_path, capsys, CVE, "--ruleset", "current")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["ruleset"] == "current"
    assert doc["violations"] == []
    assert doc["results"][6]["value"] == 1          # the reference stays with the child's data


def test_refused_and_failing_steps_are_results_not_errors(tmp_path, capsys):
    t = {"steps": [{"op": "mmap", "mm": 0, "vpn": 0, "npages": 1},
                   {"op": "mprotect", "mm": 0, "vpn": 0, "npages": 1, "write": False},
                   {"op": "write", "mm": 0, "vpn": 0, "value": 5},
                   {"op": "read", "mm": 0, "vpn": 3},
                   {"op": "read", "mm": 0, "vpn": 0}]}
    code, out, err, _ = replay(tmp_path, capsys, t)
    assert code == 0, err
    results = json.loads(out)["results"]
    assert results[2]["status"] == "SIGSEGV"
    assert results[3]["status"] == "SIGSEGV"
    assert results[4] == {"step": 4, "op": "read", "status": "ok", "value": 0}


@pytest.mark.parametrize("obj, raw, words", [
    ({"steps": [{"op": "mmap", "mm": 0, "vpn": 0, "npages": 1}, {"op": "frob"}]}, None,
     "step 1: unknown op 'frob'"),
    ({"steps": [{"op": "mmap", "mm": 0, "vpn": 0, "npages": 1},
                {"op": "pin", "mm": 0, "vpn": 0, "write": 1, "longterm": False, "id": "p"}]},
     None, "step 1: pin: write must be true or false"),
    ({"steps": [{"op": "mmap", "mm": 0, "vpn": 0, "npages": 1}, {"op": "dma_read", "id": "nope"}]},
     None, "step 1: "),
    ({"steps": [{"op": "mmap", "mm": 0, "vpn": 0, "npages": 1}, {"op": "exit", "mm": 0},
                {"op": "read", "mm": 0, "vpn": 0}]}, None, "step 2: "),
    ({"ruleset": "v9.9", "steps": []}, None, "unknown ruleset 'v9.9'"),
    (None, '{"steps": [', "not JSON"),
    (None, "\xff\xfe", "not"),
])
def test_bad_input_exit_2_one_line(tmp_path, capsys, obj, raw, words):
    code, out, err, path = replay(tmp_path, capsys, obj, raw=raw)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"mmreview replay: {path}: ")
    assert words in err


def test_a_number_of_too_many_digits_is_one_line_exit_2(tmp_path, capsys):
    raw = '{"steps": [{"op": "read", "mm": 0, "vpn": 1' + "0" * 5000 + '}]}'
    code, out, err, path = replay(tmp_path, capsys, None, raw=raw)
    assert (code, out) == (2, "")
    assert err == f"mmreview replay: {path}: a number of more than 4300 digits\n"


def test_missing_file(tmp_path, capsys):
    code = main(["replay", str(tmp_path / "absent.json")])
    err = capsys.readouterr().err
    assert code == 2 and "absent.json: cannot read" in err and "Traceback" not in err


def test_stdin(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(CVE)))
    assert main(["replay", "-"]) == 1
    assert json.loads(capsys.readouterr().out)["trace"] == "<stdin>"
    monkeypatch.setattr("sys.stdin", io.StringIO("[]"))
    assert main(["replay", "-"]) == 2
    assert "<stdin>: a trace is a JSON object" in capsys.readouterr().err


def test_a_check_trace_points_to_check_replay_or_runs_on_a_named_preset(tmp_path, capsys):
    patched = {**CVE, "ruleset": "current+post@5a27548289", "source": "A..B patch 1/1"}
    code, out, err, path = replay(tmp_path, capsys, patched)
    assert code == 2 and err.count("\n") == 1
    assert "patch's extracted rules" in err and "A..B patch 1/1" in err
    assert "--patch N --replay" in err
    code, out, err, path = replay(tmp_path, capsys, patched, "--ruleset", "v5.7")
    assert code == 1 and json.loads(out)["violations"]
