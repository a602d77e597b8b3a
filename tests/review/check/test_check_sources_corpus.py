"""The real thread "[PATCH v1 00/15] mm: COW fixes part 2" against a kernel tree near
its base (../shared; skipped without it), extracted and checked as `mmreview check`
does: whole files from the index lines' blobs where they match and from context
elsewhere, said per file; the hunks of 06/15 attributed where they land; 14/15's
pin-coherence finding; mail only, whole functions suggested once."""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

import pytest

from review.check import run as C
from review.extract.rules import PatchRules
from review.report.types import PatchResult
from mmreview.cli import main

THREAD = "cow-fixes-part2-v1.mbox"


@dataclass
class Run:
    rules: dict[int, PatchRules]        # by the patch's counter
    checked: dict[int, PatchResult]     # the patches checked


@pytest.fixture(scope="module")
def kernel_repo(tmp_path_factory, kernel_tree):
    """A throwaway repository of the kernel subset: its files in one commit."""
    path = tmp_path_factory.mktemp("linux") / "linux"
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.org", GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    subprocess.run(["cp", "-r", str(kernel_tree), str(path)], check=True)
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "v5.17-rc5 subset"]):
        subprocess.run(cmd, cwd=path, env=env, check=True, capture_output=True)
    return path


@pytest.fixture(scope="module")
def runs(kernel_repo, kernel_tree, corpus_dir, tmp_path_factory) -> dict[str, Run]:
    """The thread's jobs made with each source, 14/15 checked with each and 06/15 with
    the repository (a small budget: 14/15's finding comes from the quick pass)."""
    loaded = C.load_inputs([str(corpus_dir / THREAD)])
    out = {}
    for where, kwargs in (("repo", {"repo": str(kernel_repo)}), ("tree", {"tree": str(kernel_tree)}), ("mail", {})):
        opts = C.Options(budget=0.5, max_examples=30, seed=0, out_dir=tmp_path_factory.mktemp(where), **kwargs)
        with C.open_base(opts) as base:
            jobs = C.make_jobs(loaded, base=base)
        wanted = (6, 14) if where == "repo" else (14,)
        out[where] = Run({j.patch.counter: j.rules for j in jobs},
                         {j.patch.counter: C.check_patch(j, opts) for j in jobs if j.patch.counter in wanted})
    return out


def sources(rules: PatchRules) -> dict[str, tuple[str, str]]:
    return {s.path: (s.origin, s.describe()) for s in rules.sources}


def touched(rules: PatchRules) -> set[str]:
    return {k.split(" -> ")[0].rsplit(":", 1)[1] for k in rules.bound + rules.unbound}


def test_repo_blobs_where_they_match_context_elsewhere(runs):
    rules = runs["repo"].rules
    assert sources(rules[1])["mm/rmap.c"] == (
        "blob", "pre-image of mm/rmap.c: blob 6a1e8c7f6213 (index line), hunk in place")
    assert sources(rules[12])["mm/gup.c"][0] == "blob"
    assert sources(rules[10])["include/linux/page-flags.h"][0] == "blob"
    origin, text = sources(rules[2])["include/linux/mm.h"]
    assert origin == "revision" and text.startswith("pre-image of include/linux/mm.h: HEAD:include/linux/mm.h, hunks at +")
    # 14/15's mm/gup.c is 12/15's post-image, which its index line names
    assert "(its blob matches the index line)" in sources(rules[14])["mm/gup.c"][1]
    assert sources(runs["tree"].rules[1])["mm/rmap.c"] == (
        "tree", "pre-image of mm/rmap.c: the tree's mm/rmap.c, hunk in place")


@pytest.mark.parametrize("where", ["repo", "tree"])
def test_0615_touches_the_functions_its_hunks_land_in(runs, where):
    six = runs[where].rules[6]
    assert {"unuse_pte", "remove_migration_pmd"} <= touched(six)
    assert not {"swap_type_of", "split_huge_pages_write"} & touched(six)
    assert sources(six)["mm/swapfile.c"][1].endswith("mm/swapfile.c, hunk at +104")


def test_check_says_per_file_where_the_pre_image_came_from(runs):
    six = runs["repo"].checked[6]
    (line,) = [c for c in six.checked if c.startswith("pre-images: ")]
    files = dict(part.split(" ", 1) for part in line[len("pre-images: "):].split("; "))
    assert files["mm/ksm.c"] == "blob c20bd4d9a0d9"
    assert files["mm/swapfile.c"] == "HEAD +104" and files["mm/huge_memory.c"] == "HEAD +84"
    assert files["mm/rmap.c"] == "blob 6a1e8c7f6213 + series, hunk 2 of 2 from the mail"
    assert files["include/linux/rmap.h"] == "HEAD, its hunks from the mail"
    assert {t["function"] for t in six.touched} >= {"unuse_pte", "remove_migration_pmd"}


@pytest.mark.parametrize("where", ["repo", "tree"])
def test_1415s_gup_must_unshare_is_read_whole(runs, where):
    fourteen = runs[where].rules[14]
    assert "include/linux/mm.h:gup_must_unshare -> gup.unshare" in fourteen.bound
    (fr,) = [fr for fr in fourteen.functions if fr.function == "gup_must_unshare" and fr.image == "post"]
    assert fr.complete and not fr.window
    cases = {(str(c.guard), c.outcome) for d in fr.decisions for c in d.cases}
    assert ("foll_pin && !foll_write && !anon", "pin") in cases


@pytest.mark.parametrize("where", ["repo", "tree", "mail"])
def test_1415s_pin_coherence_error_stands(runs, where):
    """R/O longterm pins of memory never written (not anonymous): the known limit of
    the series, an error of the patch's own rule on its era."""
    errors = {f.id for f in runs[where].checked[14].findings if f.severity == "error"}
    assert errors == {"pin-coherence"}


def test_mail_only_names_no_pre_image_per_file(runs, capsys, corpus_dir):
    assert all(r.told_sources() == [] for r in runs["mail"].rules.values())
    assert not any(c.startswith("pre-images") for c in runs["mail"].checked[14].checked)
    assert main(["extract", str(corpus_dir / THREAD)]) == 0
    out = capsys.readouterr().out
    assert out.count("for whole functions") == 1 and "  source " not in out
