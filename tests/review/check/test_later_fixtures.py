"""`mmreview check` on the later vocabulary's fixture patches (fixtures/patches-later,
written against fixtures/ctree-later, a v6.5-era tree): each brings back a historical
bug, and check flags it on the changed line with a shrunk trace that replays. Small
budgets, fixed seed; the shortest-trace pass finds these within its depth."""
from __future__ import annotations

import json

import pytest

from tests.review.check.test_check_fixtures import ROOT, run_cli

TREE = ROOT / "fixtures" / "ctree-later"
PATCHES = ROOT / "fixtures" / "patches-later"
CASES = {
    # pre-v4.9 FOLL_FORCE: a forced write follows any R/O entry of a private mapping
    "foll-force": ("0001-mm-gup-forced-write-follows-ro-entry.patch", "mm/gup.c",
                   "gup.follow_write", "file-integrity", ("poke",)),
    # v5.12: the child's hugetlb entry installed writable at fork
    "hugetlb-fork": ("0002-mm-hugetlb-fork-child-entry-writable.patch", "mm/hugetlb.c",
                     "hugetlb.fork", "isolation", ("fork",)),
    # GUP-fast without the unshare check
    "gup-fast": ("0003-mm-gup-fast-without-unshare-check.patch", "mm/gup.c",
                 "gup.fast", "pin-coherence", ("fork", "pin")),
}


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    cache: dict = {}
    traces = tmp_path_factory.mktemp("traces")

    def get(name: str) -> tuple[int, dict]:
        if name not in cache:
            patch = PATCHES / CASES[name][0]
            code, out, err = run_cli(["check", str(patch), "--tree", str(TREE), "--format", "json",
                                      "--budget", "3", "--max-examples", "150", "--seed", "0",
                                      "--out", str(traces)])
            assert code in (0, 1), err
            cache[name] = (code, json.loads(out))
        return cache[name]
    return get


def failing(report):
    return [f for p in report["patches"] for f in p["findings"]
            if f["severity"] in ("error", "warning")]


@pytest.mark.parametrize("name", CASES)
def test_each_reintroduced_bug_is_flagged_with_a_shrunk_trace(checked, name):
    patch_name, path, point, clause, ops = CASES[name]
    code, rep = checked(name)
    assert code == 1
    (p,) = rep["patches"]
    assert any(c.startswith("bound") and point in c for c in p["checked"]), p["checked"]
    hits = [f for f in failing(rep) if f["id"] == clause]
    assert hits, [(f["id"], f["severity"]) for f in failing(rep)]
    f = hits[0]
    assert f["severity"] == "error" and f["file"] == path and point in f["rule"]
    steps = f["trace"]["steps"]
    assert len(steps) <= 6 and all(any(s["op"] == op for s in steps) for op in ops)
    # the trace replays under the patch's rules and shows the clause again
    code, out, _ = run_cli(["check", str(PATCHES / patch_name), "--tree", str(TREE),
                            "--patch", "1", "--replay", f["trace_file"]])
    runs = json.loads(out)["runs"]
    # the tree is v6.5: its patches land in v6.6, the era of the v6.8 preset
    (post,) = [r for name, r in runs.items() if name.endswith("+post")]
    (pre,) = [r for name, r in runs.items() if name.endswith("+pre")]
    assert clause in {v["id"] for v in post["violations"]}
    assert clause not in {v["id"] for v in pre["violations"]}


def test_the_unpatched_tree_breaks_nothing(checked):
    # the pre-image rules (the tree as it is) break no clause on any trace check shows
    for name in CASES:
        _, rep = checked(name)
        findings = [f for p in rep["patches"] for f in p["findings"]]
        assert findings and not [f for f in findings if "pre-image rules break" in f["message"]
                                 or "not introduced by this patch" in f["message"]]
