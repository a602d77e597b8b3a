"""Benchmark of `mmreview check`: a 15-patch series with the default budget.

    .venv/bin/python bench/check_bench.py [--workers N] [--budget S] [--corpus]

The series is built from the fixture patches (fixtures/patches/*.patch, written
against fixtures/ctree), cycled to 15 mails numbered [PATCH n/15] in one mbox, so
every patch has rules to extract and fuzz. Prints the wall-clock time of the whole
check, the time per patch (min/median/max) and the findings. Target: under 60 s on
2 cores with the default budget. `--corpus` also times the real thread
(../shared/corpus) when it is present. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import email
import email.policy
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from review import check as C  # noqa: E402


def build_series(n: int = 15) -> bytes:
    sources = sorted((ROOT / "fixtures" / "patches").glob("*.patch"))
    if not sources:
        raise SystemExit("fixtures/patches/*.patch not found")
    out = []
    for i in range(1, n + 1):
        src = sources[(i - 1) % len(sources)]
        msg = email.message_from_bytes(src.read_bytes(), policy=email.policy.compat32)
        subject = " ".join(str(msg.get("Subject", src.stem)).split())
        if subject.startswith("["):
            subject = subject.split("]", 1)[1].strip()
        del msg["Subject"]
        msg["Subject"] = f"[PATCH {i}/{n}] {subject} (copy {i})"
        del msg["Message-Id"]
        msg["Message-Id"] = f"<bench-{i}@mmreview.invalid>"
        if i > 1:
            del msg["In-Reply-To"]
            msg["In-Reply-To"] = "<bench-1@mmreview.invalid>"
        text = msg.as_bytes()
        out.append(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + text.rstrip(b"\n") + b"\n\n")
    return b"".join(out)


def run(inputs: list[str], budget: float, workers: int, label: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        opts = C.Options(budget=budget, max_examples=C.DEFAULT_MAX_EXAMPLES, seed=0,
                         out_dir=Path(tmp) / "traces")
        t0 = time.monotonic()
        report, _ = C.check(inputs, opts, workers=workers)
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
    ap.add_argument("--budget", type=float, default=C.DEFAULT_BUDGET)
    ap.add_argument("--corpus", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        mbox = Path(tmp) / "series.mbox"
        mbox.write_bytes(build_series(15))
        run([str(mbox)], a.budget, a.workers, "15-patch fixture series")
    corpus = ROOT.parent / "shared" / "corpus" / "cow-fixes-part2-v1.mbox"
    if a.corpus and corpus.is_file():
        run([str(corpus)], a.budget, a.workers, "real thread (cow-fixes-part2-v1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
