"""The must-show cases of `mmreview check` on the fixture patches (fixtures/patches,
written against fixtures/ctree), end to end through the CLI, with small budgets and
fixed seeds."""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from mmreview.cli import main

PATCHES = {
    "drop-pin-check": "0001-mm-rmap-share-exclusive-pages-at-fork.patch",
    "ro-pins-skip-unshare": "0002-mm-gup-unshare-only-for-longterm-ro-pins.patch",
    "true-nfc": "0003-mm-memory-convert-copy_present_pte-to-folios.patch",
    "nfc-guard-change": "0004-mm-memory-simplify-do_wp_page-reuse-checks.patch",
}
BUDGET = "3"
ROOT = Path(__file__).resolve().parents[3]


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """Each fixture patch checked once for the whole module: {name: (exit, report)}."""
    cache: dict = {}
    traces = tmp_path_factory.mktemp("traces")

    def get(name: str) -> tuple[int, dict]:
        if name not in cache:
            patch = ROOT / "fixtures" / "patches" / PATCHES[name]
            code, out, err = run_cli(["check", str(patch), "--tree", str(ROOT / "fixtures" / "ctree"),
                                      "--format", "json", "--budget", BUDGET, "--max-examples", "150", "--seed", "0",
                                      "--out", str(traces)])
            assert code in (0, 1), err
            cache[name] = (code, json.loads(out))
        return cache[name]
    return get


def changed_lines(patch_text: str) -> tuple[set, set]:
    """(post-image lines added, pre-image lines removed) of a one-file patch."""
    from review.report.locate import walk
    added, removed = set(), set()
    for pos in walk(patch_text.splitlines()):
        if pos.kind == "added":
            added.add((pos.path, pos.new))
        elif pos.kind == "removed":
            removed.add((pos.path, pos.old))
    return added, removed


def on_changed_line(fixtures_dir, name, f) -> bool:
    added, removed = changed_lines((fixtures_dir / "patches" / PATCHES[name]).read_text())
    return (f["file"], f["line"]) in (added if f["image"] == "post" else removed)


def failing(report):
    return [f for p in report["patches"] for f in p["findings"] if f["severity"] in ("error", "warning")]


def the_finding(checked, fixtures_dir, name: str, fid: str, severity: str, file: str, point: str) -> dict:
    """The first failing finding `fid` of patch `name`: of `severity`, in `file`, on a
    line the patch changed, and implicating the rule of decision point `point`."""
    code, rep = checked(name)
    assert code == 1
    found = [f for f in failing(rep) if f["id"] == fid]
    assert found, failing(rep)
    f = found[0]
    assert f["severity"] == severity and f["file"] == file
    assert on_changed_line(fixtures_dir, name, f), f
    assert point in f["rule"]
    return f


def test_dropped_pin_check_at_fork_breaks_pin_coherence(checked, fixtures_dir):
    f = the_finding(checked, fixtures_dir, "drop-pin-check", "pin-coherence", "error",
                    "include/linux/rmap.h", "fork.anon_pte")
    assert any(s.startswith("fork") for s in f["steps"]) and any(s.startswith("pin") for s in f["steps"])
    assert f["replay"].endswith(f["trace_file"]) and "--patch 1 --replay" in f["replay"]


def test_replay_of_a_finding_reproduces_it(checked, fixtures_dir, capsys):
    _, rep = checked("drop-pin-check")
    f = [f for f in failing(rep) if f["id"] == "pin-coherence"][0]
    patch = fixtures_dir / "patches" / PATCHES["drop-pin-check"]
    code = main(["check", str(patch), "--tree", str(fixtures_dir / "ctree"),
                 "--patch", "1", "--replay", f["trace_file"]])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    runs = out["runs"]
    assert "pin-coherence" in {v["id"] for v in runs["current+post"]["violations"]}
    assert "pin-coherence" not in {v["id"] for v in runs["current+pre"]["violations"]}


def test_ro_pins_skipping_unshare_is_a_finding(checked):
    code, rep = checked("ro-pins-skip-unshare")
    assert code == 1
    bad = failing(rep)
    assert bad and all(f["file"] == "include/linux/mm.h" for f in bad)
    assert any(f["id"] == "pin-coherence" for f in bad), [f["id"] for f in bad]
    assert any("gup.unshare" in f["rule"] for f in bad)


def test_true_nfc_refactor_is_clean(checked):
    code, rep = checked("true-nfc")
    p = rep["patches"][0]
    assert code == 0, failing(rep)
    assert p["nfc_claim"] == "No functional change intended"
    assert any("equivalent" in c or "no observable pre/post difference" in c for c in p["checked"])


def test_nfc_labelled_guard_change_is_a_finding(checked, fixtures_dir):
    f = the_finding(checked, fixtures_dir, "nfc-guard-change", "nfc-claim", "warning", "mm/memory.c", "wp.reuse")
    assert f["detail"]  # where pre and post differ


def test_same_seed_same_result(tmp_path):
    """A budget that the searches do not exhaust: --max-examples decides, not the clock."""
    patch = ROOT / "fixtures" / "patches" / PATCHES["ro-pins-skip-unshare"]
    runs = []
    for _ in range(2):
        code, out, err = run_cli(["check", str(patch), "--tree", str(ROOT / "fixtures" / "ctree"),
                                  "--format", "json", "--budget", "5", "--max-examples", "25",
                                  "--seed", "5", "--out", str(tmp_path)])
        assert code == 1, err
        runs.append([(f["id"], f["file"], f["line"], f["trace"]["steps"]) for f in failing(json.loads(out))])
    assert runs[0] == runs[1] and runs[0]
