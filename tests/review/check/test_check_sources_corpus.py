"""The real thread "[PATCH v1 00/15] mm: COW fixes part 2" against a kernel tree near
its base (../shared; skipped without it): whole files from the index lines' blobs
where they match and from context elsewhere, said per file; the hunks of 06/15
attributed where they land; 14/15's error stands; mail only, whole functions are
suggested once."""
from __future__ import annotations

import os
import subprocess

import pytest

from review.check import run as C
from review.extract.rules import extract_series
from review.inputs.load import load
from mmreview.cli import main

THREAD = "cow-fixes-part2-v1.mbox"


@pytest.fixture(scope="module")
def kernel_repo(tmp_path_factory, request):
    """A throwaway repository of the kernel subset: its files in one commit."""
    tree = request.getfixturevalue("kernel_tree")
    path = tmp_path_factory.mktemp("linux") / "linux"
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.org", GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    subprocess.run(["cp", "-r", str(tree), str(path)], check=True)
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "v5.17-rc5 subset"]):
        subprocess.run(cmd, cwd=path, env=env, check=True, capture_output=True)
    return path


@pytest.fixture(scope="module")
def thread(request):
    corpus = request.getfixturevalue("corpus_dir")
    return [p for p in load(str(corpus / THREAD)).patches if not p.inline]


def by_counter(rules, counter: int):
    return next(r for r in rules if r.patch.counter == counter)


def sources(rules) -> dict[str, tuple[str, str]]:
    return {s.path: (s.origin, s.describe()) for s in rules.sources}


def touched(rules) -> set[str]:
    return {k.split(" -> ")[0].rsplit(":", 1)[1] for k in rules.bound + rules.unbound}


def test_repo_blobs_where_they_match_context_elsewhere(kernel_repo, thread):
    rules = extract_series(thread, repo=str(kernel_repo))
    assert sources(by_counter(rules, 1))["mm/rmap.c"] == (
        "blob", "pre-image of mm/rmap.c: blob 6a1e8c7f6213 (index line), hunk in place")
    assert sources(by_counter(rules, 12))["mm/gup.c"][0] == "blob"
    assert sources(by_counter(rules, 10))["include/linux/page-flags.h"][0] == "blob"
    origin, text = sources(by_counter(rules, 2))["include/linux/mm.h"]
    assert origin == "revision" and text.startswith("pre-image of include/linux/mm.h: HEAD:include/linux/mm.h, hunks at +")
    # 14/15's mm/gup.c is 12/15's post-image, which its index line names
    assert "(its blob matches the index line)" in sources(by_counter(rules, 14))["mm/gup.c"][1]


@pytest.mark.parametrize("where", ["repo", "tree"])
def test_0615_touches_the_functions_its_hunks_land_in(kernel_repo, kernel_tree, thread, where):
    kwargs = {"repo": str(kernel_repo)} if where == "repo" else {"tree": str(kernel_tree)}
    six = by_counter(extract_series(thread, **kwargs), 6)
    assert {"unuse_pte", "remove_migration_pmd"} <= touched(six)
    assert not {"swap_type_of", "split_huge_pages_write"} & touched(six)
    text = sources(six)["mm/swapfile.c"][1]
    assert text.endswith("mm/swapfile.c, hunk at +104")


@pytest.fixture(scope="module")
def results(kernel_repo, request, tmp_path_factory):
    """The thread extracted as a series with each source; 01/15, 06/15 and 14/15
    checked (with a small budget: the error of 14/15 is found by the quick pass)."""
    corpus, tree = request.getfixturevalue("corpus_dir"), request.getfixturevalue("kernel_tree")
    loaded = C.load_inputs([str(corpus / THREAD)])
    out = {}
    for where, kwargs in (("repo", {"repo": str(kernel_repo)}), ("tree", {"tree": str(tree)}), ("mail", {})):
        opts = C.Options(budget=0.5, max_examples=30, seed=0, out_dir=tmp_path_factory.mktemp(where), **kwargs)
        with C.open_base(opts) as base:
            jobs = C.make_jobs(loaded, base=base)
        out[where] = {job.ref.label[-5:]: C.check_patch(job, opts) for job in jobs
                      if job.ref.label.endswith(("01/15", "06/15", "14/15"))}
    return out


@pytest.mark.parametrize("where", ["repo", "tree"])
def test_check_says_per_file_where_the_pre_image_came_from(results, where):
    first, six = results[where]["01/15"], results[where]["06/15"]
    if where == "repo":
        assert "pre-image of mm/rmap.c: blob 6a1e8c7f6213 (index line), hunk in place" in first.checked
    else:
        assert "pre-image of mm/rmap.c: the tree's mm/rmap.c, hunk in place" in first.checked
    assert any(c.startswith("pre-image of mm/swapfile.c:") and c.endswith("hunk at +104") for c in six.checked)
    assert any("mm/swapfile.c:unuse_pte" in c and "mm/huge_memory.c:remove_migration_pmd" in c
               for c in six.checked)


@pytest.mark.parametrize("where", ["repo", "tree", "mail"])
def test_1415s_pin_coherence_error_stands(results, where):
    errors = [f for f in results[where]["14/15"].findings if f.severity == "error"]
    assert [f.id for f in errors] == ["pin-coherence"]
    assert errors[0].file == "include/linux/mm.h"


def test_mail_only_names_no_pre_image_per_file(results, capsys, corpus_dir):
    assert not any(c.startswith("pre-image of") for r in results["mail"].values() for c in r.checked)
    assert main(["extract", str(corpus_dir / THREAD)]) == 0
    out = capsys.readouterr().out
    assert out.count("for whole functions") == 1 and "  source " not in out
