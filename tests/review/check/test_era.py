"""The era of a patch (review/check/era.py, releases.py, review/inputs/base.py): which
preset its rules are laid over, and why."""
from __future__ import annotations

import datetime as dt
import shutil

import pytest

from spec.presets import PRESETS

from review.check import releases
from review.check.era import choose, preset_for
from review.check.releases import Version, lands_in, mainline_on, parse
from review.inputs.base import base_commit, makefile_version, repo_version
from review.inputs.load import load
from tests.review.gitrepo import GitRepo

V517 = "fixtures/ctree-v5.17"


@pytest.mark.parametrize("text, want", [
    ("v5.17-rc7", Version(5, 17, 7)), ("5.17.0-rc7", Version(5, 17, 7)), ("v5.18", Version(5, 18)),
    ("v5.18.3", Version(5, 18)), ("v5.17-rc7-123-gabcdef012345", Version(5, 17, 7)),
    ("v6.1-12-g0123abc-dirty", Version(6, 1)), ("main", None), ("0123abcd", None),
])
def test_versions_parse_as_git_describe_and_makefiles_write_them(text, want):
    assert parse(text) == want


@pytest.mark.parametrize("base, lands", [
    ("v5.17-rc7", "v5.18"), ("v5.17", "v5.18"), ("v5.18", "v5.19"), ("v5.19-rc2", "v6.0"),
    ("v5.19", "v6.0"), ("v5.17-rc7-12-gabcdef0", "v5.18"),
])
def test_a_patch_lands_in_the_release_after_its_base(base, lands):
    assert str(lands_in(parse(base))) == lands


def test_the_release_table_is_in_order_and_every_date_is_a_release_day():
    versions = [parse(name) for name, _ in releases.RELEASES]
    assert versions == sorted(versions) and all(v.rc == 0 for v in versions)
    days = [day for _, day in releases.RELEASES]
    assert days == sorted(days)
    # mainline releases about every nine or ten weeks
    assert all(dt.timedelta(weeks=8) <= b - a <= dt.timedelta(weeks=11) for a, b in zip(days, days[1:]))


@pytest.mark.parametrize("day, base, how", [
    (dt.date(2022, 3, 8), Version(5, 17, 1), "mainline at v5.17-rc"),
    (dt.date(2022, 1, 12), Version(5, 16), "the v5.16 merge window"),
    (dt.date(2022, 3, 21), Version(5, 17), "the v5.17 merge window"),
    (dt.date(2018, 6, 1), None, "before v5.0"),
])
def test_a_mail_date_says_what_mainline_was(day, base, how):
    got, why = mainline_on(day)
    assert got == base and why.startswith(how)


@pytest.mark.parametrize("release, preset", [
    ("v5.18", "v5.18"), ("v5.10", "v5.18"), ("v5.12", "v5.18"), ("v5.9", "v5.9"), ("v5.19", "v5.19"),
    ("v6.0", "current"), ("v6.12", "current"), ("v5.8", "v5.8"), ("v4.19", "v5.7"),
])
def test_the_era_is_the_newest_preset_whose_first_release_is_not_after_the_landing(release, preset):
    assert preset_for(parse(release)) == preset


def test_every_preset_declares_the_first_release_it_models_after_the_one_before():
    """A preset is its release, and stands for the releases since the preset before it:
    first releases strictly increase, and each follows the release of the one before."""
    named = list(PRESETS.values())
    firsts = [parse(p.first_release) for p in named]
    assert all(firsts), {p.name: p.first_release for p in named}
    assert firsts == sorted(firsts) and len(set(firsts)) == len(firsts)
    for before, after in zip(named, named[1:]):
        assert parse(after.first_release) == releases.next_release(parse(before.name))
    for p in named:
        if parse(p.name):
            assert parse(p.first_release) <= parse(p.name)


def test_makefile_version_lines():
    text = "VERSION = 5\nPATCHLEVEL = 17\nSUBLEVEL = 0\nEXTRAVERSION = -rc7\nNAME = Owl\n"
    assert makefile_version(text) == "5.17.0-rc7"
    assert makefile_version("VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 12\nEXTRAVERSION =\n") == "6.1.12"
    assert makefile_version("all:\n\techo hi\n") is None


def _patch(path):
    (patch,) = load(str(path)).patches
    return patch


def _with_base_commit(fixtures_dir, tmp_path, sha: str):
    text = (fixtures_dir / "patches-v5.17" / "move-anon-rmap.patch").read_text()
    mail = tmp_path / "based.patch"
    mail.write_text(text.replace("-- \n2.39.5", f"\nbase-commit: {sha}\n-- \n2.39.5"))
    return _patch(mail)


@pytest.fixture
def tagged_repo(fixtures_dir, tmp_path):
    """A repository of the v5.17-era fixture tree, its one commit tagged v5.17-rc7."""
    shutil.copytree(fixtures_dir / "ctree-v5.17", tmp_path / "repo")
    repo = GitRepo(tmp_path / "repo")
    repo.git("add", "-A")
    sha = repo.commit("the fixture tree")
    return repo, sha


def test_base_commit_is_described_in_the_repository(fixtures_dir, tmp_path, tagged_repo):
    repo, sha = tagged_repo
    repo.git("tag", "v5.17-rc7")
    patch = _with_base_commit(fixtures_dir, tmp_path, sha)
    assert base_commit(patch) == sha
    era = choose(patch, repo=str(repo.path))
    assert era.name == "v5.18"
    assert era.line() == f"era v5.18 (base-commit {sha[:12]} is v5.17-rc7: lands in v5.18)"
    # without the repository the sha says nothing: the mail's date decides
    assert choose(patch).why.startswith("mail of 6 Dec 2026")


def test_an_untagged_repository_gives_its_makefile(fixtures_dir, tmp_path, tagged_repo):
    repo, sha = tagged_repo
    assert repo_version(str(repo.path), sha) == ("5.17.0-rc7", f"the Makefile at {sha[:12]}")
    era = choose(_patch(fixtures_dir / "patches-v5.17" / "move-anon-rmap.patch"), repo=str(repo.path))
    assert era.name == "v5.18" and "the repository's HEAD" in era.why


def test_a_git_range_takes_its_parent(fixtures_dir, tmp_path, tagged_repo):
    repo, sha = tagged_repo
    repo.git("tag", "v5.17-rc7")
    repo.commit("mm: a change on top", {"mm/extra.c": "int x;\n"})
    (patch,) = load("HEAD", repo=str(repo.path)).patches
    era = choose(patch, repo=str(repo.path))
    assert era.name == "v5.18" and era.why.startswith(f"the parent of {patch.commit[:12]} is v5.17-rc7")


def test_tree_makefile_then_date_then_reference(fixtures_dir):
    patch = _patch(fixtures_dir / "patches-v5.17" / "move-anon-rmap.patch")
    assert choose(patch, tree=V517).line() == "era v5.18 (the tree's Makefile is v5.17-rc7: lands in v5.18)"
    # fixtures/ctree has no Makefile: the mail's date, past the release table
    era = choose(patch, tree="fixtures/ctree")
    assert era.name == "current" and "the newest release known here" in era.why
    assert choose(patch, override="v5.9", tree=V517).line() == "era v5.9 (--era)"
    patch.series = patch.message = patch.date = None
    assert choose(patch).line() == "era current (nothing says what the patch is based on: the reference)"


def test_the_real_thread_is_of_the_v5_18_era(corpus_dir):
    patches = [p for p in load(str(corpus_dir / "cow-fixes-part2-v1.mbox")).patches if not p.inline]
    eras = {choose(p).line() for p in patches}
    assert eras == {"era v5.18 (mail of 8 Mar 2022: mainline at v5.17-rc: lands in v5.18)"}
