"""review/extract/rules.py on the fixture tree: the exact guards and outcomes before and after
each fixture patch (tree mode), what hunk-only mode reports, and provenance."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from spec import expr as E
from spec.decisions import DecisionContext, RuleSet
from review.extract.equivalence import outcome_guard, same_decision
from review.extract.rules import extract_patch, extract_series
from review.inputs.load import load


def rules(fixtures_dir, name, tree=True):
    (patch,) = load(str(next((fixtures_dir / "patches").glob(name + "*")))).patches
    return extract_patch(patch, tree=str(fixtures_dir / "ctree") if tree else None)


def cases(pr, image, point):
    (d,) = [d for d in pr.image(image).decisions if d.point == point]
    return [(c.outcome, str(c.guard), c.provenance.line) for c in d.cases]


def test_fork_pin_check_dropped(fixtures_dir):
    pr = rules(fixtures_dir, "0001")
    assert pr.bound == ["include/linux/rmap.h:page_try_dup_anon_rmap -> fork.anon_pte, try_dup_anon_rmap"]
    assert cases(pr, "pre", "fork.anon_pte") == [
        ("copy", "anon_exclusive && cow_mapping && mm_has_pinned && maybe_pinned", 22),
        ("share", "!(cow_mapping && mm_has_pinned && maybe_pinned) || !anon_exclusive", 27),
    ]
    assert cases(pr, "post", "fork.anon_pte") == [("share", "true", 23)]
    assert pr.changed_points() == ["fork.anon_pte"]
    # the assertion of the helper is bound to its primitive in both images
    assert [(a.primitive, str(a.condition), a.provenance.line) for a in pr.post.assertions] == [
        ("try_dup_anon_rmap", "!anon", 15)]
    c = pr.pre.decisions[0].cases[0].provenance
    assert (c.file, c.function, c.image, c.text) == (
        "include/linux/rmap.h", "page_try_dup_anon_rmap", "pre", "return -EBUSY;")
    assert c.hunk.startswith("@@ -17,10 +17,6 @@ static inline int page_try_dup_anon_rmap(")  # line 22 of the pre-image is in the hunk
    assert pr.post.decisions[0].cases[0].provenance.hunk == ""  # post line 23 is after it


def test_ro_pins_skip_unshare(fixtures_dir):
    pr = rules(fixtures_dir, "0002")
    assert cases(pr, "pre", "gup.unshare") == [
        ("pin", "!(foll_pin && !foll_write)", 36),
        ("pin", "foll_pin && !foll_write && !anon", 39),
        ("unshare", "foll_pin && !foll_write && anon && !anon_exclusive", 45),
        ("pin", "foll_pin && !foll_write && anon && anon_exclusive", 45),
    ]
    assert cases(pr, "post", "gup.unshare") == [
        ("pin", "!(foll_pin && !foll_write)", 36),
        ("pin", "foll_pin && !foll_write && !foll_longterm", 40),
        ("pin", "foll_pin && !foll_write && foll_longterm && !anon", 43),
        ("unshare", "foll_pin && !foll_write && foll_longterm && anon && !anon_exclusive", 49),
        ("pin", "foll_pin && !foll_write && foll_longterm && anon && anon_exclusive", 49),
    ]
    assert pr.changed_points() == ["gup.unshare"]


def test_folio_conversion_changes_nothing(fixtures_dir):
    pr = rules(fixtures_dir, "0003")
    assert "mm/memory.c:copy_present_pte -> fork.anon_pte" in pr.bound
    pre, post = pr.pre.decisions[0], pr.post.decisions[0]
    # the caller inlines the new folio helper, so its rules are the ones kept
    assert pre.cases[0].provenance.function == post.cases[0].provenance.function == "copy_present_pte"
    assert str(outcome_guard(pre, "copy")) == str(outcome_guard(post, "copy")) == (
        "!zero_page && anon && anon_exclusive && cow_mapping && mm_has_pinned && maybe_pinned")
    assert same_decision(pre, post)
    assert pr.changed_points() == []
    assert pr.unmodelled == []


def test_nfc_that_changes_a_guard(fixtures_dir):
    pr = rules(fixtures_dir, "0004")
    pre = cases(pr, "pre", "wp.reuse")
    post = cases(pr, "post", "wp.reuse")
    assert ("reuse", "!zero_page && anon && anon_exclusive", 83) in pre and \
        ("reuse", "!zero_page && anon && anon_exclusive", 83) in post
    assert ("copy", "!zero_page && anon && !anon_exclusive && (ksm || (refcount > 3))", 87) in pre
    assert ("copy", "!zero_page && anon && !anon_exclusive && (ksm || (mapcount > 1))", 87) in post
    assert pr.changed_points() == ["wp.reuse"]
    # the difference a reviewer cares about: a page mapped once but referenced twice
    ctx = DecisionContext(anon=True, refcount=2, mapcount=1)
    pick = lambda d: next(c.outcome for c in d.cases if E.evaluate(c.guard, ctx))  # noqa: E731
    assert (pick(pr.pre.decisions[0]), pick(pr.post.decisions[0])) == ("copy", "reuse")


def test_new_assertion_is_bound_to_its_primitive(fixtures_dir):
    pr = rules(fixtures_dir, "0005")
    pre = [(a.primitive, a.macro, str(a.condition), a.provenance.line) for a in pr.pre.assertions]
    post = [(a.primitive, a.macro, str(a.condition), a.provenance.line) for a in pr.post.assertions]
    assert pre == [("clear_anon_exclusive", "VM_BUG_ON_PGFLAGS", "!anon || ksm", 37)]
    assert post == pre + [("clear_anon_exclusive", "VM_WARN_ON_ONCE_PAGE", "maybe_pinned", 39)]


def test_untouched_decisions_are_not_extracted(fixtures_dir):
    pr = rules(fixtures_dir, "0002")
    assert {d.point for d in pr.pre.decisions + pr.post.decisions} == {"gup.unshare"}


def test_hunk_only_mode_reads_the_windows(fixtures_dir):
    pr = rules(fixtures_dir, "0001", tree=False)
    assert {(fn, image) for fn, _, _, _, image in pr.windows} == {
        ("page_try_dup_anon_rmap", "pre"), ("page_try_dup_anon_rmap", "post")}
    assert pr.partial == [] and pr.partial_decisions == []
    # the window's rules are kept, entered under "reaching the window"
    for image in (pr.pre, pr.post):
        (d,) = image.decisions
        assert all(any(a.startswith("reaching page_try_dup_anon_rmap at @@") for a in E.free_atoms(c.guard))
                   for c in d.cases)
    # a function the hunk shows whole is read whole
    pr5 = rules(fixtures_dir, "0005", tree=False)
    assert pr5.partial == []
    assert [str(a.condition) for a in pr5.post.assertions] == ["!anon || ksm", "maybe_pinned"]


def test_series_state_carries_earlier_patches(fixtures_dir):
    """With a tree, patch 2's pre-image is the tree after patch 1."""
    (p1,) = load(str(next((fixtures_dir / "patches").glob("0002*")))).patches
    (p2,) = load(str(next((fixtures_dir / "patches").glob("0006*")))).patches
    r1, r2 = extract_series([p1, p2], tree=str(fixtures_dir / "ctree"))
    assert any("foll_longterm" in str(c.guard) for c in r2.pre.decisions[0].cases)
    assert not any("foll_longterm" in str(c.guard) for c in r1.pre.decisions[0].cases)


def test_overlay_replaces_the_decision(fixtures_dir):
    base = RuleSet("base", {p: (lambda ctx: "copy") for p in ("fork.anon_pte",)})
    pr = rules(fixtures_dir, "0001")
    ctx = DecisionContext(anon_exclusive=True, maybe_pinned=True, mm_has_pinned=True)
    assert pr.overlay(base, "pre").ask("fork.anon_pte", ctx) == "copy"
    assert pr.overlay(base, "post").ask("fork.anon_pte", ctx) == "share"
    assert pr.overlay(base).name == "base+v1:post"
    with pytest.raises(ValueError):
        pr.overlay(base, "middle")


def test_git_images_are_read_whole(fixtures_dir, tmp_path):
    """Git input: pre/post images come from the commits; no --tree needed."""
    repo = tmp_path / "r"
    shutil.copytree(fixtures_dir / "ctree", repo)
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    run = lambda *a: subprocess.run(a, cwd=repo, env=env, check=True, capture_output=True)  # noqa: E731
    run("git", "init", "-q")
    run("git", "add", ".")
    run("git", "commit", "-q", "-m", "base")
    run("git", "am", "-q", str(next((fixtures_dir / "patches").glob("0002*"))))
    coll = load("HEAD~1..HEAD", repo=str(repo))
    (pr,) = extract_series(coll.patches)
    assert pr.partial == []
    assert cases(pr, "post", "gup.unshare")[1] == ("pin", "foll_pin && !foll_write && !foll_longterm", 40)
    assert {f.source for f in pr.functions} == {"git"}


def test_every_fixture_patch_applies_to_the_tree(fixtures_dir, tmp_path):
    """git apply agrees with extraction's own hunk application."""
    tree = tmp_path / "t"
    shutil.copytree(fixtures_dir / "ctree", tree)
    for path in sorted((fixtures_dir / "patches").glob("*.patch")):
        res = subprocess.run(["git", "apply", "--check", str(path)], cwd=tree, capture_output=True, text=True)
        assert res.returncode == 0, (path.name, res.stderr)
        (patch,) = load(str(path)).patches
        pr = extract_patch(patch, tree=str(fixtures_dir / "ctree"))
        assert not any("do not apply" in w for w in pr.warnings), path.name
        assert {f.source for f in pr.functions} <= {"tree", "hunks"}


def test_a_patch_that_does_not_apply_to_the_tree_falls_back_to_its_hunks(fixtures_dir):
    (p,) = load(str(next((fixtures_dir / "patches").glob("0002*")))).patches
    first, again = extract_series([p, p], tree=str(fixtures_dir / "ctree"))
    assert first.partial == [] and not any("do not apply" in w for w in first.warnings)
    assert any("include/linux/mm.h: the hunks do not apply to the tree's file" in w for w in again.warnings)
    assert {f.source for f in again.functions} == {"hunks"}
