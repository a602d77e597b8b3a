"""A repository read for whole files: blobs by abbreviated id as `git am -3` resolves
them (an abbreviation shared with a non-blob names the blob; one shared by two
blobs names none), files at a commit, git grep at a commit, the kernel checkout a
command runs in."""
from __future__ import annotations

import hashlib
import itertools

import pytest

from review.errors import InputError
from review.inputs.repository import Repository, kernel_checkout
from tests.review.gitrepo import GitRepo


def blob_id(text: str) -> str:
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def tree_id(name: str, blob: str) -> str:
    entry = f"100644 {name}\0".encode() + bytes.fromhex(blob)
    return hashlib.sha1(b"tree %d\0" % len(entry) + entry).hexdigest()


@pytest.fixture
def repo(tmp_path) -> GitRepo:
    r = GitRepo(tmp_path / "r")
    r.commit("base", {"mm/a.c": "int a(void)\n{\n\treturn 1;\n}\n", "include/linux/b.h": "#define B(x) a(x)\n"})
    return r


def test_blob_by_full_and_abbreviated_id(repo):
    with Repository(repo.path) as r:
        full = blob_id("int a(void)\n{\n\treturn 1;\n}\n")
        assert r.blob(full) == r.blob(full[:7]) == "int a(void)\n{\n\treturn 1;\n}\n"
        assert r.blob("0000000") is None and r.blob("not-hex") is None and r.blob("1234567") is None
        commit = r.commit("HEAD")
        assert r.blob(commit) is None          # a commit is not a blob
        assert r.file(commit, "mm/a.c").startswith("int a(void)") and r.file(commit, "mm/x.c") is None


def test_an_abbreviation_shared_with_a_tree_names_the_blob(repo):
    """As git resolves an index line: among the objects sharing the abbreviation, the
    one blob."""
    text = "shared prefix\n"
    blob = blob_id(text)
    empty = blob_id("")
    name = next(f"f{i}" for i in itertools.count() if tree_id(f"f{i}", empty)[:4] == blob[:4])
    (repo.path / "t.txt").write_text(text)
    assert repo.git("hash-object", "-w", "t.txt") == blob
    (repo.path / "t.txt").write_text("")
    repo.git("hash-object", "-w", "t.txt")
    tree = repo.git("mktree", input=f"100644 blob {empty}\t{name}\n")
    assert tree[:4] == blob[:4]
    with Repository(repo.path) as r:
        assert r.blob(blob[:4]) == text


def test_an_abbreviation_two_blobs_share_names_none(repo):
    seen: dict[str, str] = {}
    for i in itertools.count():
        text = f"t{i}\n"
        prefix = blob_id(text)[:4]
        if prefix in seen:
            break
        seen[prefix] = text
    for t in (seen[prefix], text):
        (repo.path / "t.txt").write_text(t)
        repo.git("hash-object", "-w", "t.txt")
    with Repository(repo.path) as r:
        assert r.blob(prefix) is None
        assert r.blob(blob_id(text)[:12]) == text


def test_grep_at_a_commit_reads_neither_work_tree_nor_index(repo):
    (repo.path / "mm" / "a.c").write_text("int changed(void);\n")
    with Repository(repo.path) as r:
        commit = r.commit("HEAD")
        assert r.grep(commit, [r"^[A-Za-z_].*\("], [":(glob)mm/*.c"]) == [("mm/a.c", "int a(void)")]
        assert r.grep(commit, [r"#[[:space:]]*define"], ["include"]) == [("include/linux/b.h", "#define B(x) a(x)")]


def test_not_a_repository_and_unknown_revisions(tmp_path, repo):
    with pytest.raises(InputError, match="not a git repository"):
        Repository(tmp_path)
    with pytest.raises(InputError, match="no such directory"):
        Repository(tmp_path / "nope")
    with Repository(repo.path) as r:
        assert r.commit("no-such-branch") is None and r.commit("--all") is None
        assert r.commit("HEAD") == repo.head()


def test_kernel_checkout_is_a_work_tree_with_version_lines_and_mm(tmp_path):
    r = GitRepo(tmp_path / "linux")
    r.commit("base", {"Makefile": "# SPDX\nVERSION = 5\nPATCHLEVEL = 17\nSUBLEVEL = 0\n", "mm/memory.c": "\n"})
    (r.path / "mm" / "sub").mkdir()
    assert kernel_checkout(r.path) == r.path
    assert kernel_checkout(r.path / "mm" / "sub") == r.path
    other = GitRepo(tmp_path / "other")
    other.commit("base", {"Makefile": "all:\n\ttrue\n", "mm/x.c": "\n"})
    assert kernel_checkout(other.path) is None
    assert kernel_checkout(tmp_path) is None
