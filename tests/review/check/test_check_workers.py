"""--workers N: patches checked in forked processes give the report one process gives."""
from __future__ import annotations

import json

from mmreview.cli import main


def test_workers_do_not_change_the_result(fixtures_dir, tmp_path, capsys):
    patches = [str(fixtures_dir / "patches" / n) for n in (
        "0002-mm-gup-unshare-only-for-longterm-ro-pins.patch",
        "0005-mm-page-flags-warn-when-clearing-exclusive-on-pinned-page.patch")]
    reports = []
    for workers in ("1", "2"):
        code = main(["check", *patches, "--tree", str(fixtures_dir / "ctree"), "--format", "json",
                     "--budget", "5", "--max-examples", "15", "--seed", "3", "--workers", workers,
                     "--out", str(tmp_path)])
        rep = json.loads(capsys.readouterr().out)
        reports.append((code, [sorted((f["id"], f["line"], json.dumps(f["trace"] and f["trace"]["steps"]))
                                      for f in p["findings"]) for p in rep["patches"]]))
    assert reports[0] == reports[1]
    assert len(reports[0][1]) == 2
