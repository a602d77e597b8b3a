"""Integration helpers (review/check/integrations.py): git sendemail-validate hook, b4 config,
b4 review external comments read back by b4's own parser."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from review.check import integrations as hooks
from review.errors import InputError
from review.report.types import CheckFinding, CheckReport, PatchRef, PatchResult

DIFF = """\
diff --git a/mm/memory.c b/mm/memory.c
index 1111111..2222222 100644
--- a/mm/memory.c
+++ b/mm/memory.c
@@ -40,7 +40,6 @@ static int copy_present_pte(struct vm_area_struct *vma)
 	struct page *page = vm_normal_page(vma, addr, pte);
 
 	if (page && PageAnon(page)) {
-		if (unlikely(page_needs_cow_for_dma(vma, page)))
-			return copy_present_page(vma, page);
+		get_page(page);
 		page_dup_rmap(page, false);
 		rss[MM_ANONPAGES]++;
 	}
"""


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path) -> Path:
    r = tmp_path / "repo"
    r.mkdir()
    _git(r, "init", "-q")
    _git(r, "config", "user.email", "t@example.org")
    _git(r, "config", "user.name", "T")
    (r / "f").write_text("x\n")
    _git(r, "add", "f")
    _git(r, "commit", "-q", "-m", "base")
    return r


def test_sendemail_hook_installs_and_never_clobbers(repo):
    hook = hooks.install_sendemail_hook(repo, ["--budget", "1"])
    assert hook == repo / ".git" / "hooks" / "sendemail-validate"
    text = hook.read_text()
    assert hooks.HOOK_MARKER in text and "--budget 1" in text and '-- "$1"' in text
    assert hook.stat().st_mode & 0o111
    hooks.install_sendemail_hook(repo)  # ours: replaced
    hook.write_text("#!/bin/sh\nexec ./my-own-check \"$1\"\n")
    with pytest.raises(InputError, match="not written by mmreview"):
        hooks.install_sendemail_hook(repo)
    assert "my-own-check" in hook.read_text()  # the user's hook is untouched


def test_sendemail_hook_honours_core_hookspath(repo):
    _git(repo, "config", "core.hooksPath", "myhooks")
    hook = hooks.install_sendemail_hook(repo)
    assert hook.resolve() == (repo / "myhooks" / "sendemail-validate").resolve()


def test_b4_reads_the_config_we_print(repo, monkeypatch, tmp_path):
    """The printed `git config` commands, run in a repository, are what b4's own
    config loader hands to its check runners."""
    import b4
    from b4.review import checks
    cmds = hooks.b4_config_commands(["--budget", "2"])
    for line in cmds.splitlines():
        subprocess.run(line, shell=True, cwd=repo, check=True)
    monkeypatch.chdir(repo)
    monkeypatch.setattr(b4, "MAIN_CONFIG", dict(b4.MAIN_CONFIG))  # restored afterwards
    b4._setup_main_config(topdir=str(repo))
    config = b4.get_main_config()
    perpatch, _ = checks.load_check_cmds()
    assert perpatch == ["mmreview check - --no-patch-ok --repo . --budget 2 --format b4"]
    assert config["prep-perpatch-check-cmd"] == ["mmreview check - --no-patch-ok --repo . --budget 2 --format checkpatch"]
    assert config["am-perpatch-check-cmd"] == config["prep-perpatch-check-cmd"]


def _finding(**kw) -> CheckFinding:
    base = dict(severity="error", id="pin-coherence", message="pin p0 reads 1, mm 0 reads 2",
                file="mm/memory.c", line=43, image="post",
                rule="fork.anon_pte: true -> share", steps=["fork mm=0 child=1", "dma_read id=p0 -> 1"],
                replay="mmreview check X --patch 1 --replay t.json")
    base.update(kw)
    return CheckFinding(**base)


def test_review_file_is_read_back_by_b4():
    from b4.review._review import _extract_comments_from_quoted_reply, _resolve_comment_positions
    text = hooks.review_file_text(DIFF, [_finding(),
                                         _finding(id="nfc-claim", severity="warning", line=42, image="pre")],
                                  ["mmreview check: 1 error"])
    comments = _extract_comments_from_quoted_reply(text[text.index("> diff --git"):])
    _resolve_comment_positions(DIFF, comments)
    got = {(c["path"], c["line"], c["text"].splitlines()[0].split(":")[1].strip()) for c in comments}
    # b4 anchors a comment on the quoted line before it (paths keep git's b/ prefix):
    # the added line is line 43 of the post image, the removed one line 42 of the pre
    assert got == {("b/mm/memory.c", 43, "pin-coherence"), ("b/mm/memory.c", 42, "nfc-claim")}
    assert all("replay: mmreview check" in c["text"] for c in comments)


def test_write_b4_review_layout_and_ownership(repo):
    tip = _git(repo, "rev-parse", "HEAD")
    report = CheckReport([PatchResult(PatchRef(1, 2, "a"), [_finding()]),
                          PatchResult(PatchRef(2, 2, "b"), [])])
    out = hooks.write_b4_review(repo, "HEAD", report, [DIFF, DIFF])
    assert out == repo / ".git" / "b4-review" / tip
    assert (out / "identity.txt").read_text().strip() == hooks.DEFAULT_IDENTITY
    assert (out / "0001.txt").is_file() and not (out / "0002.txt").exists()
    (out / "identity.txt").write_text("Someone Else <se@example.org>\n")
    with pytest.raises(InputError, match="not mixing"):
        hooks.write_b4_review(repo, "HEAD", report, [DIFF, DIFF])
