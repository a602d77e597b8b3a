"""Whole files for mail patches: the pre-image found by the index line's blob, by the
series so far, by the base-commit trailer, by context with offsets at HEAD or in a
tree, and missing (a prerequisite patch absent: that hunk's function from the mail,
said once); the repository is only read."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from review.errors import InputError
from review.extract.cparse import functions
from review.extract.images import touched
from review.extract.rules import extract_series, extract_with
from review.extract.sources import Base
from review.inputs.load import load
from tests.conftest import FIXTURES
from tests.review.gitrepo import GitRepo

TREE = FIXTURES / "ctree-v5.17"
PATCHES = FIXTURES / "patches-v5.17"
PREREQ = sorted((PATCHES / "prereq").glob("*.patch"))
# 60 lines of a function of its own, put before do_wp_page(): a hunk of do_wp_page()
# read at the mail's line numbers would land in it.
PADDING = "/* padding */\nstatic int wp_fixture_padding(int n)\n{\n\tint total = 0;\n\n" + "".join(
    f"\tif (n > {i})\n\t\ttotal += {i};\n" for i in range(26)) + "\treturn total;\n}\n\n"
WP_COMMENT = "/*\n * A write to a write-protected PTE."


def tree_files() -> dict[str, str]:
    return {p.relative_to(TREE).as_posix(): p.read_text() for p in sorted(TREE.rglob("*")) if p.is_file()}


def test_the_padding_is_sixty_lines():
    assert PADDING.count("\n") == 60


def padded(text: str) -> str:
    assert text.count(WP_COMMENT) == 1
    return text.replace(WP_COMMENT, PADDING + WP_COMMENT)


@pytest.fixture
def base_repo(tmp_path) -> GitRepo:
    """The fixture tree in one commit."""
    repo = GitRepo(tmp_path / "linux")
    repo.commit("base", tree_files())
    return repo


def patches(*paths: Path) -> list:
    return [p for path in paths for p in load(str(path)).patches]


def source(rules, path: str):
    (src,) = [s for s in rules.sources if s.path == path]
    return src


def names(rules) -> set[str]:
    return {k.split(" -> ")[0].rsplit(":", 1)[1] for k in rules.bound + rules.unbound}


def test_pre_image_from_the_index_lines_blob_on_another_branch(base_repo):
    """The blob the index line names is read whatever the branch holds: here HEAD has
    moved the function 60 lines down, the blob has not."""
    base_repo.commit("pad", {"mm/memory.c": padded((TREE / "mm/memory.c").read_text())})
    (rules,) = extract_series(patches(PATCHES / "wp-mapcount.patch"), repo=str(base_repo.path))
    src = source(rules, "mm/memory.c")
    assert (src.origin, src.where) == ("blob", "blob 5efd03f (index line)")
    assert src.describe() == "pre-image of mm/memory.c: blob 5efd03f (index line), hunk in place"
    assert "mm/memory.c:do_wp_page -> wp.reuse" in rules.bound
    assert all(not fr.window and fr.complete for fr in rules.functions)


def test_pre_image_by_context_with_offsets_at_head_and_in_a_tree(base_repo, tmp_path):
    """No blob: the hunk is found 60 lines below where its header says. The touched
    function is the one that holds it there, and the rules are those of the exact
    tree, at the patch's own line numbers."""
    exact, = extract_series(patches(PATCHES / "wp-mapcount.patch"), str(TREE))
    moved = GitRepo(tmp_path / "moved")
    moved.commit("base", dict(tree_files(), **{"mm/memory.c": padded((TREE / "mm/memory.c").read_text())}))
    tree = tmp_path / "tree"
    shutil.copytree(moved.path, tree, ignore=shutil.ignore_patterns(".git"))
    for kwargs, where in (({"repo": str(moved.path)}, "HEAD:mm/memory.c"),
                          ({"tree": str(tree)}, "the tree's mm/memory.c")):
        (rules,) = extract_series(patches(PATCHES / "wp-mapcount.patch"), **kwargs)
        src = source(rules, "mm/memory.c")
        assert src.describe() == f"pre-image of mm/memory.c: {where}, hunk at +60"
        assert [p.pre_offset for p in src.placements] == [60]
        assert names(rules) == {"do_wp_page"} and rules.bound == exact.bound
        assert rules.pre.decisions == exact.pre.decisions and rules.post.decisions == exact.post.decisions


def test_the_mails_line_numbers_would_have_named_the_wrong_function():
    """What the offsets protect against: at the mail's lines, the padded file's hunk
    is inside the padding function."""
    text = padded((TREE / "mm/memory.c").read_text())
    (patch,) = patches(PATCHES / "wp-mapcount.patch")
    (fd,) = patch.files
    mail_lines = {ln.old_lineno for h in fd.hunks for ln in h.removed}
    assert [f.name for f in touched(functions(text), mail_lines)] == ["wp_fixture_padding"]


def test_a_missing_prerequisite_leaves_that_hunks_function_to_the_mail(base_repo):
    """Patch 2 alone: its do_wp_page() hunk's context is patch 1's comment, so that
    function is read from the mail (said once, for the file); copy_present_pte() is
    still read whole from HEAD."""
    (rules,) = extract_series(patches(PREREQ[1]), repo=str(base_repo.path))
    src = source(rules, "mm/memory.c")
    assert src.describe() == ("pre-image of mm/memory.c: HEAD:mm/memory.c, hunk in place, "
                              "hunk 2 of 2 not found: from the mail")
    windows = {fn for fn, *_ in rules.windows}
    assert windows == {"do_wp_page"}
    whole = {fr.function for fr in rules.functions if not fr.window}
    assert whole == {"copy_present_pte"}
    assert all(fr.complete for fr in rules.functions if fr.function == "copy_present_pte")
    assert len(rules.sources) == 1 and not any("not found" in w for w in rules.warnings)


def test_with_its_prerequisite_the_series_so_far_is_the_pre_image(base_repo):
    first, second = extract_series(patches(*PREREQ), repo=str(base_repo.path))
    assert source(first, "mm/memory.c").origin == "blob"
    src = source(second, "mm/memory.c")
    assert src.origin == "series"
    assert src.describe() == ("pre-image of mm/memory.c: blob 5efd03f (index line) with the series' "
                              "earlier patches (its blob matches the index line), hunks in place")
    assert second.windows == [] and {fr.function for fr in second.functions} >= {"do_wp_page", "copy_present_pte"}


def test_a_prerequisite_committed_on_a_branch_gives_its_blob(base_repo):
    base_repo.git("checkout", "-q", "-b", "prereq")
    base_repo.git("am", "-q", str(PREREQ[0]))
    base_repo.git("checkout", "-q", "main")
    (rules,) = extract_series(patches(PREREQ[1]), repo=str(base_repo.path))
    assert source(rules, "mm/memory.c").describe() == \
        "pre-image of mm/memory.c: blob b5e7462 (index line), hunks in place"
    assert rules.windows == []


def test_base_commit_trailer_without_index_lines(base_repo, tmp_path):
    """A diff without index lines: the base-commit trailer names the revision, not
    HEAD (which has moved the function); --base names another."""
    base = base_repo.head()
    base_repo.commit("pad", {"mm/memory.c": padded((TREE / "mm/memory.c").read_text())})
    text = (PATCHES / "wp-mapcount.patch").read_text()
    text = "\n".join(line for line in text.split("\n") if not line.startswith("index "))
    mail = tmp_path / "mail.patch"
    mail.write_text(text.replace("\n-- \n", f"\nbase-commit: {base}\n-- \n"))
    (rules,) = extract_series(patches(mail), repo=str(base_repo.path))
    assert source(rules, "mm/memory.c").describe() == \
        f"pre-image of mm/memory.c: base-commit {base[:12]}:mm/memory.c, hunk in place"
    (rules,) = extract_series(patches(mail), repo=str(base_repo.path), base="HEAD")
    assert source(rules, "mm/memory.c").describe() == "pre-image of mm/memory.c: HEAD:mm/memory.c, hunk at +60"


def test_an_unknown_base_commit_falls_back_to_head_and_says_so_once(base_repo, tmp_path):
    text = (PATCHES / "wp-mapcount.patch").read_text()
    text = "\n".join(line for line in text.split("\n") if not line.startswith("index "))
    mail = tmp_path / "mail.patch"
    mail.write_text(text.replace("\n-- \n", "\nbase-commit: " + "ab" * 20 + "\n-- \n"))
    with Base(repo=str(base_repo.path)) as base:
        (rules,) = extract_with(patches(mail, mail), base)[:1]
        assert base.notes == [f"base-commit abababababab: not in {base_repo.path}; files read at HEAD instead"]
    assert source(rules, "mm/memory.c").origin == "revision"


def test_the_repository_is_only_read(base_repo):
    (base_repo.path / "mm" / "memory.c").write_text("/* a change the user has not committed */\n")
    before = (base_repo.state(), base_repo.git("status", "--porcelain"),
              sorted(p.name for p in (base_repo.path / ".git").rglob("*")))
    extract_series(patches(*PREREQ, PATCHES / "wp-mapcount.patch"), repo=str(base_repo.path))
    after = (base_repo.state(), base_repo.git("status", "--porcelain"),
             sorted(p.name for p in (base_repo.path / ".git").rglob("*")))
    assert before == after
    assert (base_repo.path / "mm" / "memory.c").read_text() == "/* a change the user has not committed */\n"


@pytest.mark.parametrize("kwargs, message", [
    ({"repo": "/nonexistent/linux"}, "--repo /nonexistent/linux: no such directory"),
    ({"tree": "/nonexistent/linux"}, "--tree /nonexistent/linux: not a directory"),
    ({"base": "HEAD"}, "--base HEAD: needs a repository (--repo PATH)"),
])
def test_bad_sources_name_themselves(kwargs, message):
    with pytest.raises(InputError) as err:
        extract_series(patches(PATCHES / "wp-mapcount.patch"), **kwargs)
    assert str(err.value) == message


def test_a_directory_that_is_not_a_repository_and_an_unknown_base(base_repo, tmp_path):
    with pytest.raises(InputError, match=r"^--repo .*: not a git repository$"):
        extract_series([], repo=str(tmp_path))
    with pytest.raises(InputError, match=r"^--base v9\.9: not a commit of "):
        extract_series([], repo=str(base_repo.path), base="v9.9")
