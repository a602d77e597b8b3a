"""--exhaustive DEPTH: a definite verdict within the bound (review/verify's engine with
the pre-image beside the post-image), shortest traces."""
from __future__ import annotations

import json

from mmreview.cli import main


def _check(capsys, fixtures_dir, tmp_path, name, depth):
    code = main(["check", str(fixtures_dir / "patches" / name), "--tree", str(fixtures_dir / "ctree"),
                 "--exhaustive", str(depth), "--budget", "1", "--max-examples", "10",
                 "--format", "json", "--out", str(tmp_path)])
    return code, json.loads(capsys.readouterr().out)["patches"][0]


def test_exhaustive_finds_the_shortest_introduced_violation(capsys, fixtures_dir, tmp_path):
    code, p = _check(capsys, fixtures_dir, tmp_path,
                     "0002-mm-gup-unshare-only-for-longterm-ro-pins.patch", 3)
    assert code == 1
    line = [c for c in p["checked"] if c.startswith("exhaustive to depth 3")]
    assert line and "violation of pinned-exclusive" in line[0], p["checked"]
    # the shortest trace that shows what the patch introduces: the setup mmap, a
    # write, a fork and the R/O pin that no longer unshares (any shorter one is clean)
    traces = [f["trace"]["steps"] for f in p["findings"] if f["id"] == "pinned-exclusive"]
    assert traces and min(len(t) for t in traces) <= 4


def test_exhaustive_verifies_a_true_refactor(capsys, fixtures_dir, tmp_path):
    code, p = _check(capsys, fixtures_dir, tmp_path,
                     "0003-mm-memory-convert-copy_present_pte-to-folios.patch", 3)
    assert code == 0
    line = [c for c in p["checked"] if c.startswith("exhaustive to depth 3")]
    assert line and ("verified up to depth 3" in line[0] or "exhausted" in line[0]), line
