"""Benchmark of `mmreview check`: a 15-patch series with the default budget.

    .venv/bin/python bench/check_bench.py [--workers N] [--budget S] [--corpus]

The series is a git range over the fixture C tree (fixtures/ctree): the fixture
patches (fixtures/patches/*.patch) each followed by its revert, to 15 commits, so that
every commit applies and has whole functions to extract and fuzz. Prints the wall-clock time of the whole
check, the time per patch (min/median/max) and the findings. Target: under 60 s on
2 cores with the default budget. `--corpus` also times the real thread when it is
present. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_util import REAL_THREAD  # noqa: E402
from review.check import run as C  # noqa: E402
from review.check.options import DEFAULT_BUDGET, DEFAULT_MAX_EXAMPLES, Options  # noqa: E402


def build_repo(where: Path, n: int = 15) -> str:
    """A git repository with the fixture C tree and a series of n commits on top:
    each fixture patch, then its revert, and so on (reverts are patches too, and
    they keep every commit applicable). Returns the range."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(where), *args], check=True, capture_output=True,
                              text=True).stdout.strip()
    shutil.copytree(ROOT / "fixtures" / "ctree", where)
    git("init", "-q")
    git("config", "user.email", "bench@example.org")
    git("config", "user.name", "bench")
    git("add", "-A")
    git("commit", "-q", "-m", "base")
    base = git("rev-parse", "HEAD")
    sources = [p for p in sorted((ROOT / "fixtures" / "patches").glob("*.patch"))
               if "hostile" not in p.name]
    i = 0
    while int(git("rev-list", "--count", f"{base}..HEAD")) < n:
        git("am", "-q", str(sources[i % len(sources)]))
        if int(git("rev-list", "--count", f"{base}..HEAD")) < n:
            git("revert", "--no-edit", "HEAD")
        i += 1
    return f"{base}..HEAD"


def run(inputs: list[str], budget: float, workers: int, label: str, repo: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        opts = Options(budget=budget, max_examples=DEFAULT_MAX_EXAMPLES, seed=0,
                         out_dir=Path(tmp) / "traces")
        t0 = time.monotonic()
        report, _ = C.check(inputs, opts, workers=workers, repo=repo)
        wall = time.monotonic() - t0
    per = [p.seconds for p in report.patches]
    fuzzed = [p.seconds for p in report.patches if not p.skipped]
    c = report.counts()
    print(f"{label}: {len(per)} patches, workers={workers}, budget={budget:g}s/patch")
    print(f"  wall clock          {wall:7.2f} s   (target < 60 s on 2 cores)")
    if per:
        print(f"  per patch           min {min(per):.2f}  median {statistics.median(per):.2f}  "
              f"max {max(per):.2f} s  ({len(fuzzed)} fuzzed, {len(per) - len(fuzzed)} not)")
        print(f"  wall / patch        {wall / len(per):7.2f} s")
    print(f"  findings            {c['error']} errors, {c['warning']} warnings, {c['note']} notes")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--budget", type=float, default=DEFAULT_BUDGET)
    ap.add_argument("--corpus", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "linux"
        rng = build_repo(repo, 15)
        run([rng], a.budget, a.workers, "15-patch series (git range over fixtures/ctree)", str(repo))
    if a.corpus and REAL_THREAD.is_file():
        run([str(REAL_THREAD)], a.budget, a.workers, "real thread (cow-fixes-part2-v1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
