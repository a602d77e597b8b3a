"""`mmreview check` on a real mm thread, mail only and with whole files: time per patch,
coverage and findings.

    .venv/bin/python bench/real_series.py [--workers 2] [--budget S] [--only MODE ...]
                                          [--padding N] [--padded-dir DIR]

Modes (each the whole thread, as `mmreview check THREAD ...` runs it, in process):
  mail    the mail alone
  tree    --tree KERNEL (the kernel tree beside the project)
  repo    --repo R, R a throwaway repository of that tree (one commit, made here)
  padded  --tree P, P that tree plus N (default 80,000) generated, unrelated C files
          under drivers/gen/ (generated once, reused while their count matches)

Targets on 2 cores with the default budget: mail under 10 s, tree under 20 s,
padded tree under 30 s. Not part of the test suite; skipped when the thread or the
kernel tree is absent.
"""
from __future__ import annotations

import argparse
import shutil
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
from review.check.patch import PatchJob  # noqa: E402
from review.extract.rules import extract_patch  # noqa: E402
from review.extract.sources import SeriesFiles  # noqa: E402

KERNEL = ROOT.parent / "shared" / "kernel" / "linux-5.17-rc5"
TARGETS = {"mail": 10.0, "tree": 20.0, "repo": 20.0, "padded": 30.0}
_GIT_ENV = ["-c", "user.name=bench", "-c", "user.email=bench@example.org"]


def make_repo(where: Path) -> Path:
    """A repository holding the kernel tree in one commit."""
    shutil.copytree(KERNEL, where)
    for args in (["init", "-q"], ["add", "-A"], [*_GIT_ENV, "commit", "-q", "-m", "kernel tree"]):
        subprocess.run(["git", "-C", str(where), *args], check=True, capture_output=True)
    return where


def generated_c(i: int) -> str:
    """A plausible, unrelated driver file: includes, a struct, a few functions that
    call kernel APIs with the usual error paths."""
    name = f"gen{i:05d}"
    return (f"/* Generated for a benchmark: driver {name}. */\n"
            "#include <linux/module.h>\n#include <linux/slab.h>\n#include <linux/spinlock.h>\n\n"
            f"struct {name}_dev {{\n\tspinlock_t lock;\n\tunsigned long flags;\n\tvoid *buf;\n\tint users;\n}};\n\n"
            f"static int {name}_open(struct {name}_dev *dev)\n{{\n\tunsigned long irqflags;\n\n"
            "\tspin_lock_irqsave(&dev->lock, irqflags);\n\tif (dev->users++ == 0 && !dev->buf) {\n"
            "\t\tdev->buf = kzalloc(PAGE_SIZE, GFP_ATOMIC);\n\t\tif (!dev->buf) {\n\t\t\tdev->users--;\n"
            "\t\t\tspin_unlock_irqrestore(&dev->lock, irqflags);\n\t\t\treturn -ENOMEM;\n\t\t}\n\t}\n"
            "\tspin_unlock_irqrestore(&dev->lock, irqflags);\n\treturn 0;\n}\n\n"
            f"static void {name}_release(struct {name}_dev *dev)\n{{\n\tif (--dev->users == 0) {{\n"
            "\t\tkfree(dev->buf);\n\t\tdev->buf = NULL;\n\t}\n}\n\n"
            f"int {name}_probe(void)\n{{\n\tstruct {name}_dev *dev = kzalloc(sizeof(*dev), GFP_KERNEL);\n\n"
            "\tif (!dev)\n\t\treturn -ENOMEM;\n\tspin_lock_init(&dev->lock);\n"
            f"\tif ({name}_open(dev)) {{\n\t\tkfree(dev);\n\t\treturn -ENODEV;\n\t}}\n"
            f"\t{name}_release(dev);\n\tkfree(dev);\n\treturn 0;\n}}\n")


def padded_tree(where: Path, count: int) -> Path:
    """The kernel tree plus `count` generated files, made once and reused."""
    marker = where / "drivers" / "gen" / ".count"
    if marker.is_file() and marker.read_text().strip() == str(count):
        return where
    if where.exists():
        shutil.rmtree(where)
    shutil.copytree(KERNEL, where)
    gen = where / "drivers" / "gen"
    gen.mkdir(parents=True)
    t0 = time.monotonic()
    for i in range(count):
        (gen / f"{i:05d}.c").write_text(generated_c(i))
    marker.write_text(f"{count}\n")
    print(f"(generated {count} files under {gen} in {time.monotonic() - t0:.0f} s)")
    return where


def run_mode(mode: str, opts: Options, workers: int) -> float:
    """The thread checked as `mmreview check` does it, timed per stage and per patch."""
    t0 = time.monotonic()
    loaded = C.load_inputs([str(REAL_THREAD)], repo=opts.repo)
    t_load = time.monotonic() - t0
    extract_times, jobs = [], []
    with C.open_base(opts) as base:
        series = SeriesFiles()
        for k, (p, src, mail) in enumerate(zip(loaded.patches, loaded.sources, loaded.mail_lines), 1):
            t = time.monotonic()
            rules = extract_patch(p, base=base, series=series)
            extract_times.append(time.monotonic() - t)
            jobs.append(PatchJob(C.patch_ref(p, k, len(loaded.patches), src), p, rules, mail, ""))
    t_extract = sum(extract_times)
    results = C.run_jobs(jobs, opts, workers)
    wall = time.monotonic() - t0
    target = TARGETS[mode]
    print(f"{mode}: {wall:.1f} s wall ({'within' if wall < target else 'OVER'} the {target:g} s target); "
          f"load {t_load:.1f} s, extract {t_extract:.1f} s, check {wall - t_load - t_extract:.1f} s "
          f"on {workers} worker(s)")
    for job, res, t_ex in zip(jobs, results, extract_times):
        c = res.counts()
        ids = sorted({f.id for f in res.findings if f.severity != "note"})
        print(f"  [{job.ref.label or job.ref.index}] extract {t_ex:5.2f} s  check {res.seconds:5.2f} s  "
              f"{c['error']}E {c['warning']}W {c['note']}N {' '.join(ids)}")
        print(f"      coverage {job.rules.coverage.line() if job.rules else '-'}")
        if res.skipped:
            print(f"      not fuzzed: {res.skipped[:100]}")
    return wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--budget", type=float, default=DEFAULT_BUDGET)
    ap.add_argument("--only", nargs="*", choices=list(TARGETS), default=list(TARGETS))
    ap.add_argument("--padding", type=int, default=80_000)
    ap.add_argument("--padded-dir", type=Path,
                    default=Path(tempfile.gettempdir()) / "mmreview-bench" / "padded-kernel")
    a = ap.parse_args()
    if not REAL_THREAD.is_file() or not KERNEL.is_dir():
        print(f"{REAL_THREAD} or {KERNEL} absent: benchmark skipped")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        where = {"mail": {}, "tree": {"tree": str(KERNEL)}}
        if "repo" in a.only:
            where["repo"] = {"repo": str(make_repo(Path(tmp) / "linux"))}
        if "padded" in a.only:
            where["padded"] = {"tree": str(padded_tree(a.padded_dir, a.padding))}
        for mode in a.only:
            opts = Options(budget=a.budget, max_examples=DEFAULT_MAX_EXAMPLES, seed=0,
                           out_dir=Path(tmp) / mode, **where[mode])
            run_mode(mode, opts, a.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
