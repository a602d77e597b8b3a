"""git ranges: same patch objects plus full images; read only; bare; merges; renames."""
from __future__ import annotations

import subprocess

import pytest

from review.errors import InputError
from review.inputs.load import load
from tests.review.gitrepo import FROB_C, frob_repo


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    r, shas = frob_repo(tmp_path_factory.mktemp("git") / "work")
    bare = r.path.parent / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(r.path), str(bare)], check=True)
    return r, shas, bare


def test_range_gives_patches_with_images(repo):
    r, shas, _ = repo
    c = load(f"{shas['base']}..{shas['exclusive']}", repo=str(r.path))
    assert c.kind == "git"
    (p,) = c.patches
    assert p.commit == shas["exclusive"] and p.title == "mm/frob: reuse exclusive anonymous pages"
    assert p.commit_message == "Trust PG_anon_exclusive."
    assert [(t.name, t.person_email, t.message) for t in p.trailers] == [
        ("Reviewed-by", "bo@example.net", None), ("Signed-off-by", "ada@example.org", None)]
    (f,) = p.files
    assert f.pre_image == FROB_C
    assert "PageAnonExclusive(&folio->page)" in f.post_image
    (h,) = f.hunks
    # the hunk's line maps agree with the images
    post = f.post_image.split("\n")
    pre = f.pre_image.split("\n")
    for n, text in h.post_lines.items():
        assert post[n - 1] == text
    for n, text in h.pre_lines.items():
        assert pre[n - 1] == text
    assert c.series[0].patches == [p] and p.label == shas["exclusive"][:12]


def test_rename_followed_with_both_images(repo):
    r, shas, _ = repo
    c = load(shas["rename"], repo=str(r.path))
    (p,) = c.patches
    (f,) = p.files
    assert (f.status, f.old_path, f.new_path) == ("renamed", "mm/frob.c", "mm/frob_core.c")
    assert f.similarity and f.similarity >= 80
    assert "int frob_wp_fault" in f.pre_image and "int frob_handle_wp_fault" in f.post_image


def test_last_n_on_a_bare_repository_skips_merges(repo):
    r, shas, bare = repo
    c = load("-3", repo=str(bare))
    titles = [p.title for p in c.patches]
    assert "Merge branch 'side'" not in titles
    assert any("merge" in n and shas["merge"][:12] in n for n in c.notes)
    assert titles[-1] == "mm/frob: drop the blob"
    blob = c.patches[-1].files[0]
    assert blob.status == "deleted" and blob.is_binary and blob.pre_image is None


def test_whole_history_in_order(repo):
    r, shas, _ = repo
    c = load(f"{shas['base']}..main", repo=str(r.path))
    assert [p.commit for p in c.patches][:2] == [shas["exclusive"], shas["rename"]]
    assert len(c.patches) == 5 and len(c.notes) == 1
    assert [p.counter for p in c.patches] == [1, 2, 3, 4, 5]


def test_read_only(repo):
    r, shas, bare = repo
    before = r.state()
    status_before = r.git("status", "--porcelain")
    load(f"{shas['base']}..main", repo=str(r.path))
    load("-5", repo=str(bare))
    assert r.state() == before and r.git("status", "--porcelain") == status_before


@pytest.mark.parametrize("rng", ["nope..main", "main..nope", "deadbeefdeadbeef", "--output=/tmp/x"])
def test_bad_ranges_are_one_line_errors(repo, rng):
    r, _, _ = repo
    with pytest.raises(InputError) as err:
        load(rng, repo=str(r.path))
    msg = str(err.value)
    assert rng in msg and "\n" not in msg


def test_not_a_repository(tmp_path):
    with pytest.raises(InputError, match="not a git repository"):
        load("-1", repo=str(tmp_path))
    with pytest.raises(InputError, match="no such directory"):
        load("-1", repo=str(tmp_path / "absent"))


def test_empty_range_is_not_an_error(repo):
    r, shas, _ = repo
    c = load(f"{shas['base']}..{shas['base']}", repo=str(r.path))
    assert c.patches == [] and c.warnings
