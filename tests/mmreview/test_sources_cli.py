"""--repo, --base and --tree on the command line: a mail INPUT checked with whole files
from a repository, said per file; the kernel checkout run in as the default
repository; whole functions suggested once without one; bad sources exit 2 with
one line naming them."""
from __future__ import annotations

import io
import json
import sys

import pytest

from mmreview.cli import main
from tests.conftest import FIXTURES
from tests.review.gitrepo import GitRepo

TREE = FIXTURES / "ctree-v5.17"
PATCH = FIXTURES / "patches-v5.17" / "wp-mapcount.patch"
PREREQ = sorted((FIXTURES / "patches-v5.17" / "prereq").glob("*.patch"))
BLOB_LINE = "  source   pre-image of mm/memory.c: blob 5efd03f (index line), hunk in place"


@pytest.fixture
def checkout(tmp_path) -> GitRepo:
    """A kernel checkout: the fixture tree (its Makefile has VERSION and PATCHLEVEL)."""
    repo = GitRepo(tmp_path / "linux")
    repo.commit("base", {p.relative_to(TREE).as_posix(): p.read_text() for p in TREE.rglob("*") if p.is_file()})
    return repo


def test_extract_says_where_each_pre_image_came_from(checkout, capsys):
    assert main(["extract", str(PATCH), "--repo", str(checkout.path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert BLOB_LINE in out and not any(line.startswith("note:") for line in out)
    assert main(["extract", str(PREREQ[1]), "--repo", str(checkout.path), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (src,) = doc["patches"][0]["sources"]
    assert (src["origin"], src["where"]) == ("revision", "HEAD:mm/memory.c")
    assert [h and h["pre_offset"] for h in src["hunks"]] == [0, None]
    assert doc["notes"] == []


def test_the_kernel_checkout_run_in_is_the_default_repository(checkout, monkeypatch, capsys):
    monkeypatch.chdir(checkout.path / "mm")
    assert main(["extract", str(PATCH)]) == 0
    assert BLOB_LINE in capsys.readouterr().out.splitlines()
    # an explicit --tree wins over the checkout
    assert main(["extract", str(PATCH), "--tree", str(TREE)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "  source   pre-image of mm/memory.c: the tree's mm/memory.c, hunk in place" in out


def test_mail_only_says_once_what_would_give_whole_functions(tmp_path, capsys):
    series = str(PREREQ[0].parent)
    assert main(["extract", series]) == 0
    out = capsys.readouterr().out
    assert out.count("note: ") == 1 and "mmreview extract INPUT` in a kernel checkout" in out
    assert "  source " not in out
    assert main(["check", series, "--budget", "0.3", "--max-examples", "10", "--format", "json",
                 "--out", str(tmp_path)]) in (0, 1)
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["patches"]) == 2
    assert len(doc["notes"]) == 1 and "--repo PATH" in doc["notes"][0]
    assert not any(c.startswith("pre-images") for p in doc["patches"] for c in p["checked"])


def test_check_a_mail_with_a_repository(checkout, tmp_path, capsys):
    assert main(["check", str(PREREQ[1]), "--repo", str(checkout.path), "--budget", "0.3",
                 "--max-examples", "10", "--out", str(tmp_path), "--format", "text"]) in (0, 1)
    out = capsys.readouterr().out.splitlines()
    assert "  checked: pre-images: mm/memory.c HEAD, hunk 2 of 2 from the mail" in out
    assert not any(line.startswith("note:") for line in out)


def test_a_mail_on_stdin_with_a_repository(checkout, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(PATCH.read_bytes())))
    assert main(["extract", "-", "--repo", str(checkout.path)]) == 0
    assert BLOB_LINE in capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("args, named", [
    (["--repo", "{tmp}"], "--repo {tmp}: not a git repository"),
    (["--repo", "{tmp}/nope"], "--repo {tmp}/nope: no such directory"),
    (["--repo", "{repo}", "--base", "v0.0"], "--base v0.0: not a commit of {repo}"),
    (["--base", "HEAD"], "--base HEAD: needs a repository (--repo PATH)"),
])
@pytest.mark.parametrize("command", ["extract", "check"])
def test_bad_sources_exit_2_with_one_line(checkout, tmp_path, capsys, args, named, command):
    fill = {"tmp": str(tmp_path), "repo": str(checkout.path)}
    assert main([command, str(PATCH), *[a.format(**fill) for a in args]]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and named.format(**fill) in err


@pytest.mark.parametrize("command", ["extract", "check"])
def test_a_bad_range_exits_2_with_one_line(checkout, capsys, command):
    assert main([command, "nope..HEAD", "--repo", str(checkout.path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope..HEAD" in err
