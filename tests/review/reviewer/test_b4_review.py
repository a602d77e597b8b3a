"""review/reviewer/b4_review.py, the one writer of .git/b4-review/<tip>/: the
reviewer's export and `mmreview check --b4-review-tip` land in the same directory,
never mix two identities, and remove what an earlier run wrote and no longer holds."""
from __future__ import annotations

from pathlib import Path

import pytest

from review.check.integrations import DEFAULT_IDENTITY, write_b4_review
from review.errors import InputError
from review.inputs.load import load
from review.report.types import CheckFinding, CheckReport, PatchRef, PatchResult
from review.reviewer import b4_review
from review.reviewer.export import export_b4
from review.reviewer.state import ReviewState
from tests.review.gitrepo import GitRepo

RITA = "Rita Reviewer <rita@example.org>"


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    r = GitRepo(tmp_path / "kernel")
    r.commit("base", {"README": "x\n"})
    return r


def test_write_replaces_and_removes_files_of_its_identity(repo):
    out = b4_review.write(repo.path, "HEAD", RITA, {"0001.txt": "one\n", "0002.txt": "two\n"})
    assert out == repo.path / ".git" / "b4-review" / repo.head()
    b4_review.write(repo.path, "HEAD", RITA, {"0001.txt": "one again\n", "0002.txt": None})
    assert (out / "0001.txt").read_text() == "one again\n" and not (out / "0002.txt").exists()
    assert (out / "identity.txt").read_text() == RITA + "\n"
    assert not list(out.glob(".*"))                     # no temporary file left


def test_another_identity_is_never_mixed_in(repo):
    out = b4_review.write(repo.path, "HEAD", "Eve \x1b[31m<eve@example.org>", {"0001.txt": "eve\n"})
    with pytest.raises(InputError, match="not mixing") as err:
        b4_review.write(repo.path, "HEAD", RITA, {"0001.txt": "rita\n", "0002.txt": None})
    assert "\x1b" not in str(err.value)
    assert (out / "0001.txt").read_text() == "eve\n"


def test_export_and_check_share_the_directory(repo, fixtures_dir, tmp_path):
    demo = fixtures_dir / "demo" / "anon-excl-cleanups.mbox"
    series = load(str(demo)).series[0]
    branch = f"b4/review/{series.change_id}"
    repo.git("branch", branch)
    state = ReviewState.open(str(demo), directory=tmp_path / "drafts", identity=RITA)
    first, second = series.patches[0], series.patches[1]
    f = second.files[0]
    hunk = f.hunks[0]
    line = next(ln for ln in hunk.lines if ln.kind != "context")
    state.set_note(first, "Fine.")
    state.set_comment(second, f, hunk, line, "Why?")
    out = export_b4(series, state, repo.path)
    assert out == repo.path / ".git" / "b4-review" / repo.git("rev-parse", branch)
    assert {p.name for p in out.iterdir()} == {"identity.txt", "0001.txt", "0002.txt"}
    # the comment withdrawn: the next export removes its file, keeps the note
    state.set_comment(second, f, hunk, line, "")
    export_b4(series, state, repo.path)
    assert {p.name for p in out.iterdir()} == {"identity.txt", "0001.txt"}
    # `mmreview check --b4-review-tip` for the same tip is another reviewer
    report = CheckReport([PatchResult(PatchRef(1, 1, "x"), [CheckFinding(severity="error", id="pin-coherence", message="m")])])
    with pytest.raises(InputError, match="not mixing"):
        write_b4_review(repo.path, branch, report, [""], identity=DEFAULT_IDENTITY)
    assert (out / "identity.txt").read_text().strip() == RITA
