"""Input reading speed: a generated 1,000-message mbox (loaded, threaded, series
built, quotes anchored) and a 200-commit range of a generated repository (patches
with full pre/post images).

    .venv/bin/python bench/input_bench.py [--messages 1000] [--commits 200] [--repeat 3]

Targets: mbox < 2 s, git range < 20 s (best of --repeat runs).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_util import timed  # noqa: E402
from review.inputs.git import load_range  # noqa: E402
from review.inputs.load import from_mbox_bytes  # noqa: E402


def _file(n: int, lines: int = 120) -> list[str]:
    return [f"\tfrob_step_{n}_{i}(folio);" for i in range(lines)]


def _patch_body(s: int, p: int) -> str:
    """A two-hunk patch of a synthetic file, with correct @@ counts."""
    path = f"mm/gen_{s}_{p}.c"
    base = _file(s * 100 + p)
    out = [f"Commit message of series {s} patch {p}.", "", "Signed-off-by: Gen Author <gen@example.org>",
           "---", f" {path} | 4 ++--", "", f"diff --git a/{path} b/{path}", "--- a/" + path, "+++ b/" + path]
    for start in (10, 60):
        ctx = base[start - 1:start + 6]
        out.append(f"@@ -{start},7 +{start},7 @@ int gen_fn_{start}(struct folio *folio)")
        out += [" " + x for x in ctx[:3]]
        out.append("-" + ctx[3])
        out.append("+" + ctx[3].replace("frob", "frob_new"))
        out += [" " + x for x in ctx[4:7]]
    return "\n".join(out) + "\n"


def generate_mbox(n_messages: int) -> bytes:
    per_series = 20  # cover + 9 patches + 10 replies
    chunks = []
    count = 0
    s = 0
    while count < n_messages:
        cover = f"<s{s}-0@gen.example>"
        def add(headers: list[tuple[str, str]], body: str) -> None:
            nonlocal count
            if count >= n_messages:
                return
            h = "\n".join(f"{k}: {v}" for k, v in headers)
            chunks.append(f"From mboxrd@z Thu Jan  1 00:00:00 1970\n{h}\n\n{body}\n")
            count += 1
        date = f"Mon, {1 + s % 28:02d} Jun 2026 10:00:00 +0000"
        add([("From", "Gen Author <gen@example.org>"), ("Date", date), ("Message-Id", cover),
             ("Subject", f"[PATCH v{1 + s % 3} 0/9] mm/gen: series {s}")], f"Cover letter {s}.\n")
        for p in range(1, 10):
            add([("From", "Gen Author <gen@example.org>"), ("Date", date), ("Message-Id", f"<s{s}-{p}@gen.example>"),
                 ("In-Reply-To", cover), ("References", cover),
                 ("Subject", f"[PATCH v{1 + s % 3} {p}/9] mm/gen: change {p} of series {s}")], _patch_body(s, p))
        for r in range(per_series - 10):
            p = 1 + r % 9
            ctx = _file(s * 100 + p)
            body = (f"On {date}, Gen Author wrote:\n> @@ -60,7 +60,7 @@ int gen_fn_60(struct folio *folio)\n"
                    f">  {ctx[59]}\n> [...]\n> +{ctx[62].replace('frob', 'frob_new')}\n\n"
                    f"Why this one?\n\nReviewed-by: Rev {r} <rev{r}@example.net>\n")
            add([("From", f"Rev {r} <rev{r}@example.net>"), ("Date", date), ("Message-Id", f"<s{s}-r{r}@gen.example>"),
                 ("In-Reply-To", f"<s{s}-{p}@gen.example>"), ("References", f"{cover} <s{s}-{p}@gen.example>"),
                 ("Subject", f"Re: [PATCH v{1 + s % 3} {p}/9] mm/gen: change {p} of series {s}")], body)
        s += 1
    return "".join(chunks).encode()


def generate_repo(path: Path, commits: int) -> None:
    """A linear history of `commits` commits over 20 files, written with git fast-import."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    files = {f"mm/gen_{i}.c": _file(i, 400) for i in range(20)}
    stream = []
    mark = 0
    for c in range(commits + 1):
        touched = [f"mm/gen_{(c * 7 + k) % 20}.c" for k in range(3)] if c else list(files)
        for name in touched:
            lines = files[name]
            if c:
                at = (c * 13) % (len(lines) - 5)
                lines[at] = lines[at] + f" /* c{c} */"
                lines.insert(at + 3, f"\tfrob_added_{c}(folio);")
        stream.append("commit refs/heads/main")
        mark += 1
        stream.append(f"mark :{mark}")
        stream.append(f"author Gen Author <gen@example.org> {1767600000 + c * 60} +0000")
        stream.append(f"committer Gen Author <gen@example.org> {1767600000 + c * 60} +0000")
        msg = f"mm/gen: commit {c}\n\nSigned-off-by: Gen Author <gen@example.org>\n"
        stream.append(f"data {len(msg.encode())}\n{msg}")
        if mark > 1:
            stream.append(f"from :{mark - 1}")
        for name in touched:
            data = "\n".join(files[name]) + "\n"
            stream.append(f"M 100644 inline {name}\ndata {len(data.encode())}\n{data}")
        stream.append("")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input="\n".join(stream).encode(), check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--commits", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    data = generate_mbox(args.messages)
    coll, times = timed(lambda: from_mbox_bytes(data, "generated.mbox"), args.repeat)
    secs = min(times)
    anchored = sum(1 for c in coll.comments if c.anchor is not None)
    print(f"mbox: {len(coll.messages)} messages ({len(data) / 1e6:.1f} MB), {len(coll.series)} series, "
          f"{len(coll.patches)} patches, {anchored} anchored comments: {secs:.2f} s (target < 2 s)")

    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        t = time.perf_counter()
        generate_repo(repo, args.commits)
        gen = time.perf_counter() - t
        coll, times = timed(lambda: load_range(str(repo), f"-{args.commits}"), args.repeat)
        secs = min(times)
        images = sum(1 for p in coll.patches for f in p.files if f.pre_image is not None and f.post_image is not None)
        print(f"git: {len(coll.patches)} commits, {images} files with pre+post images: {secs:.2f} s "
              f"(target < 20 s; repository generated in {gen:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
