"""The real thread (../shared/corpus): checked to completion, with a per-patch
account of what was checked and found. Small budget: this is about completeness and
the explanations, not about search depth."""
from __future__ import annotations

import json

from review.cli import main


def test_real_thread_checked_to_completion(capsys, corpus_dir, tmp_path):
    mbox = corpus_dir / "cow-fixes-part2-v1.mbox"
    code = main(["check", str(mbox), "--format", "json", "--budget", "0.6", "--max-examples", "40",
                 "--seed", "0", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    rep = json.loads(out)
    patches = rep["patches"]
    assert [p["label"] for p in patches] == [f"v1 {n:02d}/15" for n in (1, 2, 3, 6, 7, 9, 10, 12, 14)]
    for p in patches:
        # every patch says what was checked, or why it was not fuzzed
        assert p["checked"] or p["skipped"], p["label"]
    by = {p["label"]: p for p in patches}
    ten = by["v1 10/15"]
    assert any("SetPageAnonExclusive" in c for c in ten["checked"])
    assert any("contract and invariants" in c for c in ten["checked"])
    unmodelled = [f for f in ten["findings"] if f["id"] == "unmodelled"]
    assert unmodelled and all(f["file"] in ("include/linux/page-flags.h", "mm/page_alloc.c")
                              and f["line"] > 0 and "explored both ways" in f["message"]
                              for f in unmodelled)
    assert any("unmodelled atoms" in c and "valuations" in c for c in ten["checked"])
    fourteen = by["v1 14/15"]
    assert any("gup.unshare" in c for c in fourteen["checked"])
    assert any("pre- vs post-image" in c for c in fourteen["checked"])
    partial = by["v1 03/15"]
    assert "seen only in part" in partial["skipped"] and "copy_present_pte" in partial["skipped"]


def test_real_thread_text_report_explains_each_patch(capsys, corpus_dir, tmp_path):
    mbox = corpus_dir / "cow-fixes-part2-v1.mbox"
    main(["check", str(mbox), "--budget", "0.3", "--max-examples", "20", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    heads = [l for l in out.splitlines() if l.startswith("[")]
    assert len(heads) == 9 and heads[6].startswith("[7/9] (v1 10/15) mm/page-flags")
    assert out.rstrip().splitlines()[-1].startswith("total: ")
