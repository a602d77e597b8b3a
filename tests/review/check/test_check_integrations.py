"""Integrations of `mmreview check`, end to end: b4's own check runners (review and
am/prep), git's sendemail-validate hook run by git, and b4 review's external comments
read back by b4's parser against a real git history."""
from __future__ import annotations

import email
import email.policy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from review.check import integrations as hooks

BAD = "0001-mm-rmap-share-exclusive-pages-at-fork.patch"
GOOD = "0003-mm-memory-convert-copy_present_pte-to-folios.patch"
BUDGET = ["--budget", "3", "--max-examples", "60", "--seed", "0"]


def _git(repo: Path, *args: str, **kw) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, **kw).stdout.strip()


@pytest.fixture
def repo(tmp_path, fixtures_dir) -> Path:
    """A git repository holding the fixture C tree at its first commit."""
    r = tmp_path / "linux"
    shutil.copytree(fixtures_dir / "ctree", r)
    _git(r, "init", "-q")
    _git(r, "config", "user.email", "t@example.org")
    _git(r, "config", "user.name", "T")
    _git(r, "add", "-A")
    _git(r, "commit", "-q", "-m", "base")
    return r


@pytest.fixture
def b4_env(monkeypatch, tmp_path, repo):
    import b4
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(repo)
    monkeypatch.setattr(b4, "MAIN_CONFIG", dict(b4.MAIN_CONFIG))
    b4._setup_main_config(topdir=str(repo))  # b4's defaults (cache-expire, ...) as b4 loads them
    return b4


def _msg(fixtures_dir, name):
    return email.message_from_bytes((fixtures_dir / "patches" / name).read_bytes(),
                                    policy=email.policy.default)


def _cmd(fmt: str, fixtures_dir) -> str:
    """The command exactly as `mmreview check --b4-config` configures it (with this
    interpreter): b4 runs it in the repository's top directory, so `--repo .` is the
    repository holding the fixture tree."""
    key = {"b4": "b4.review-perpatch-check-cmd", "checkpatch": "b4.am-perpatch-check-cmd"}[fmt]
    return hooks.b4_config(BUDGET, argv=[sys.executable, "-m", "mmreview.cli"])[key]


def test_b4_review_perpatch_check_cmd(b4_env, fixtures_dir, repo):
    from b4.review.checks import run_perpatch_checks
    msgs = [("bad@x", _msg(fixtures_dir, BAD)), ("good@x", _msg(fixtures_dir, GOOD))]
    results = run_perpatch_checks(msgs, [_cmd("b4", fixtures_dir)], str(repo))
    bad, good = results["bad@x"], results["good@x"]
    assert [r["tool"] for r in bad] == ["mmreview"] and bad[0]["status"] == "fail", bad
    assert "error" in bad[0]["summary"]
    assert good[0]["status"] == "pass", good


def test_b4_am_and_prep_check_cmd(b4_env, fixtures_dir):
    import shlex
    cmdargs = shlex.split(_cmd("checkpatch", fixtures_dir))
    report = b4_env.LoreMessage.run_local_check(cmdargs, "bad@x", _msg(fixtures_dir, BAD), nocache=True)
    flags = [flag for flag, _ in report]
    assert "fail" in flags, report
    line = next(text for flag, text in report if flag == "fail")
    assert "ERROR: mmreview: pin-coherence" in line
    assert line.split(": ", 1)[1].split(":")[0].isdigit()  # b4 stripped "-:", the mail line stays
    clean = b4_env.LoreMessage.run_local_check(cmdargs, "good@x", _msg(fixtures_dir, GOOD), nocache=True)
    assert clean == [("success", f"{Path(cmdargs[0]).name}: passed all checks")]


def test_git_runs_the_sendemail_validate_hook(repo, fixtures_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # replay traces go there
    hooks.install_sendemail_hook(repo, BUDGET)  # its `--repo .` is the repository
    bad = subprocess.run(["git", "hook", "run", "sendemail-validate", "--",
                          str(fixtures_dir / "patches" / BAD)], cwd=repo, capture_output=True, text=True)
    assert bad.returncode == 1, bad.stderr
    # `git hook run` passes the hook's stdout on to its stderr
    assert "ERROR: pin-coherence" in bad.stdout + bad.stderr
    cover = tmp_path / "0000-cover-letter.patch"
    cover.write_text("From: A <a@example.org>\nSubject: [PATCH 0/2] mm: things\n"
                     "Message-Id: <c@x>\n\nTwo patches.\n")
    ok = subprocess.run(["git", "hook", "run", "sendemail-validate", "--", str(cover)],
                        cwd=repo, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr


def test_b4_review_external_comments_from_a_git_range(repo, fixtures_dir, capsys):
    from b4.review._review import _extract_comments_from_quoted_reply, _resolve_comment_positions
    from mmreview.cli import main
    base = _git(repo, "rev-parse", "HEAD")
    _git(repo, "am", "-q", str(fixtures_dir / "patches" / BAD))
    _git(repo, "commit", "-q", "--allow-empty", "-m", "b4 review tracking commit")
    code = main(["check", "--repo", str(repo), f"{base}..HEAD~1", "--b4-review-tip", "HEAD",
                 *BUDGET, "--format", "text", "--out", str(repo.parent / "traces")])
    capsys.readouterr()
    assert code == 1
    tip = _git(repo, "rev-parse", "HEAD")
    out = repo / ".git" / "b4-review" / tip
    text = (out / "0001.txt").read_text()
    assert (out / "identity.txt").read_text().strip() == hooks.DEFAULT_IDENTITY
    sha = _git(repo, "rev-parse", "HEAD~1")
    comments = _extract_comments_from_quoted_reply(text[text.index("> diff --git"):])
    _resolve_comment_positions(_git(repo, "diff", f"{sha}~1", sha), comments)
    pc = [c for c in comments if "pin-coherence" in c["text"]]
    assert pc and pc[0]["path"].endswith("include/linux/rmap.h")
    assert not _git(repo, "status", "--porcelain")  # the work tree is untouched
