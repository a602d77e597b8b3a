"""`mmreview extract`: text and JSON reports, --tree, --repo, and input errors (exit 2)."""
from __future__ import annotations

import json
import shutil
import subprocess

from mmreview.cli import main


def test_text_report_with_tree(fixtures_dir, capsys):
    patch = next((fixtures_dir / "patches").glob("0002*"))
    assert main(["extract", str(patch), "--tree", str(fixtures_dir / "ctree")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "[v1] mm/gup: only unshare for R/O longterm pins"
    assert "  bound    include/linux/mm.h:gup_must_unshare -> gup.unshare" in out
    assert "  post decision gup.unshare" in out
    assert any(line.strip().startswith("pin        if foll_pin && !foll_write && !foll_longterm")
               and line.endswith("[include/linux/mm.h:40: return false;]") for line in out)
    assert any(line.startswith("  compare  gup.unshare: pre vs post differs (for example when ")
               for line in out)


def test_json_report_without_tree_lists_windows(fixtures_dir, capsys):
    patch = next((fixtures_dir / "patches").glob("0001*"))
    assert main(["extract", str(patch), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (p,) = doc["patches"]
    assert p["bound"] == ["include/linux/rmap.h:page_try_dup_anon_rmap -> fork.anon_pte, try_dup_anon_rmap"]
    assert {(x["function"], x["image"]) for x in p["windows"]} == {
        ("page_try_dup_anon_rmap", "pre"), ("page_try_dup_anon_rmap", "post")}
    assert p["partial"] == [] and p["partial_decisions"] == []
    assert p["comparisons"]["fork.anon_pte"]["verdict"] in ("differs", "undecided")
    case = p["post"]["decisions"][0]["cases"][0]
    assert set(case) == {"outcome", "guard", "guard_text", "provenance"}
    assert case["provenance"]["file"] == "include/linux/rmap.h"


def test_git_range_with_repo(fixtures_dir, tmp_path, capsys):
    repo = tmp_path / "r"
    shutil.copytree(fixtures_dir / "ctree", repo)
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for cmd in (["git", "init", "-q"], ["git", "add", "."], ["git", "commit", "-q", "-m", "base"],
                ["git", "am", "-q", str(next((fixtures_dir / "patches").glob("0004*")))]):
        subprocess.run(cmd, cwd=repo, env=env, check=True, capture_output=True)
    assert main(["extract", "HEAD~1..HEAD", "--repo", str(repo), "--format", "json"]) == 0
    (p,) = json.loads(capsys.readouterr().out)["patches"]
    assert p["changed_points"] == ["wp.reuse"] and p["partial"] == []


def test_bad_inputs_exit_2_with_one_line(fixtures_dir, tmp_path, capsys):
    assert main(["extract", str(tmp_path / "missing.mbox")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.mbox" in err
    patch = next((fixtures_dir / "patches").glob("0001*"))
    assert main(["extract", str(patch), "--tree", str(tmp_path / "nope")]) == 2
    assert "--tree" in capsys.readouterr().err
    empty = tmp_path / "empty.mbox"
    empty.write_text("")
    assert main(["extract", str(empty)]) == 2
    capsys.readouterr()


def test_terminal_escapes_in_a_patch_are_not_printed_raw(fixtures_dir, tmp_path, capsys):
    text = next((fixtures_dir / "patches").glob("0002*")).read_text()
    evil = tmp_path / "evil.patch"
    evil.write_text(text.replace("only unshare for R/O longterm pins", "pins \x1b[31mred\x1b[0m"))
    assert main(["extract", str(evil)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out


def test_one_patch_on_stdin(fixtures_dir, monkeypatch, capsys):
    import io
    import sys
    data = next((fixtures_dir / "patches").glob("0005*")).read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["extract", "-", "--tree", str(fixtures_dir / "ctree")]) == 0
    out = capsys.readouterr().out
    assert "post assert   clear_anon_exclusive: VM_WARN_ON_ONCE_PAGE(page_maybe_dma_pinned(page)) -> maybe_pinned" in out
