"""Writing a review in the TUI and exporting it: marks, a line comment, trailers,
the reply mbox (threaded, quoting only the commented hunk) and b4 external comments."""
from __future__ import annotations

import json
import mailbox
import subprocess
from pathlib import Path

import pytest

from review.inputs.load import load
from review.reviewer import export as rx
from review.reviewer import identity
from review.reviewer.state import ReviewState
from tests.tui.conftest import IDENTITY, notices
from tui.app import MMReviewApp
from tui.dialogs.choice import ChoiceDialog, ExportDialog
from tui.dialogs.comment import CommentDialog


async def _comment_on(pilot, app, text_in_line: str, comment: str, kind: str = "added") -> None:
    pane = app.main.message_pane
    i = next(i for i, r in enumerate(pane.rows)
             if r.kind == "diff" and text_in_line in r.line.text and r.line.kind == kind)
    pane.highlighted = i
    await pilot.press("c")
    assert isinstance(app.screen, CommentDialog)
    for ch in comment:
        await pilot.press({" ": "space", "\n": "enter"}.get(ch, ch))
    await pilot.press("escape")
    await pilot.pause()


async def test_write_review_then_export_reply_mbox(make_app, demo_mbox, drafts, tmp_path):
    app = make_app(demo_mbox)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("right_square_bracket", "right_square_bracket")   # v1 2/3
        patch = app.main.patch
        await pilot.press("tab")
        await _comment_on(pilot, app, "ClearPageAnonExclusive(page);", "Why always?")
        # the draft shows inline, under its line
        rows = app.main.message_pane.rows
        d = next(i for i, r in enumerate(rows) if r.kind == "draft")
        assert "Why always?" in rows[d].text.plain
        assert rows[d].line.kind == "added" and "ClearPageAnonExclusive" in rows[d].line.text
        await pilot.press("r")
        assert app.main.session.state.review(patch).mark == "reviewed"
        assert "✓" in str(app.main.thread.label_for(patch.message.thread))
        await pilot.press("t")
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.press("1")                       # Reviewed-by
        await pilot.pause()
        assert app.main.session.state.review(patch).trailers == [f"Reviewed-by: {IDENTITY}"]
        await pilot.press("e")
        assert isinstance(app.screen, ExportDialog)
        out = tmp_path / "review.mbox"
        field = app.screen.query_one("#mbox-path")
        field.value = str(out)
        await pilot.press("enter")
        await pilot.pause()
    msgs = list(mailbox.mbox(str(out)))
    assert len(msgs) == 1
    m = msgs[0]
    assert m["In-Reply-To"] == f"<{patch.message.msgid}>"
    assert patch.message.msgid in m["References"]
    assert m["Subject"] == f"Re: {patch.message.subject}"
    assert m["From"] == IDENTITY and "nora@example.org" in m["To"]
    body = m.get_payload(decode=True).decode()
    lines = body.splitlines()
    assert "> diff --git a/include/linux/rmap.h b/include/linux/rmap.h" in lines
    # the comment follows its quoted line, unquoted
    k = lines.index("> +\t\tClearPageAnonExclusive(page);")
    assert lines[k + 1] == "" and lines[k + 2] == "Why always?"
    # only the commented hunk up to the comment is quoted: nothing after it
    assert "__page_dup_rmap" not in body.split("Why always?")[1]
    assert "> [...]" in lines                      # long context elided
    assert lines[-2:] == ["", f"Reviewed-by: {IDENTITY}"]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


async def test_export_b4_external_comments_read_back_by_b4(make_app, demo_mbox, tmp_path):
    b4review = pytest.importorskip("b4.review._review")
    repo = tmp_path / "kernel"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "README").write_text("x\n")
    _git(repo, "add", "README")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "base")
    app = make_app(demo_mbox, repo=str(repo))
    # not enrolled yet: a clear message, nothing written
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("right_square_bracket", "right_square_bracket", "tab")
        await _comment_on(pilot, app, "PageAnonExclusive(page))", "Pin check?")
        await pilot.press("e")
        app.screen.query_one("#b4-repo").value = str(repo)
        await pilot.click("#do-b4")
        await pilot.pause()
        assert "not enrolled in b4 review" in notices(app)
    assert not (repo / ".git" / "b4-review").exists()
    # b4 review enrols a series as the branch b4/review/<change-id>
    change_id = app.session.collection.series[0].change_id
    _git(repo, "branch", f"b4/review/{change_id}")
    app = make_app(demo_mbox, repo=str(repo))         # reopened: the draft is back
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("right_square_bracket", "right_square_bracket")
        assert [r.draft.text for r in app.main.message_pane.rows if r.kind == "draft"] == ["Pin check?"]
        await pilot.press("e")
        app.screen.query_one("#b4-repo").value = str(repo)
        await pilot.click("#do-b4")
        await pilot.pause()
    out = repo / ".git" / "b4-review" / _git(repo, "rev-parse", f"b4/review/{change_id}")
    assert (out / "identity.txt").read_text().strip() == IDENTITY
    text = (out / "0002.txt").read_text()
    comments = b4review._extract_comments_from_quoted_reply(text)
    assert [(c["path"], c["text"]) for c in comments] == [("b/include/linux/rmap.h", "Pin check?")]
    assert "PageAnonExclusive(page))" in comments[0]["content"]


async def test_export_without_review_says_so(make_app, demo_mbox, tmp_path):
    app = make_app(demo_mbox)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("e")
        app.screen.query_one("#mbox-path").value = str(tmp_path / "x.mbox")
        await pilot.press("enter")
        await pilot.pause()
        assert "nothing to export" in notices(app)
    assert not (tmp_path / "x.mbox").exists()


async def test_export_without_identity_is_refused_with_a_hint(demo_mbox, drafts, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    state = ReviewState.open(str(demo_mbox), directory=drafts, identity="")
    app = MMReviewApp(load(str(demo_mbox)), state)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("right_square_bracket", "o", *"Fine.", "escape", "e")
        await pilot.pause()
        assert not isinstance(app.screen, ExportDialog)
        assert notices(app).strip().endswith(identity.HINT)
        await pilot.press("t")                       # no trailer without a name either
        await pilot.pause()
        assert not isinstance(app.screen, ChoiceDialog)
        assert state.review(app.main.patch).trailers == []
    assert not list(tmp_path.glob("*.mbox"))


async def test_series_trailer_on_cover_letter(make_app, demo_mbox, tmp_path):
    app = make_app(demo_mbox)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        v2_cover = app.main.session.collection.series[1].cover
        app.main.go_to(v2_cover)
        await pilot.press("t", "2")                  # Acked-by, whole series
        await pilot.pause()
        state = app.main.session.state
        assert state.series_trailers[v2_cover.msgid] == [f"Acked-by: {IDENTITY}"]
    saved = json.loads(state.path.read_text())
    assert saved["series_trailers"][v2_cover.msgid] == [f"Acked-by: {IDENTITY}"]


async def test_git_range_review_note_and_b4_export(make_app, tmp_path):
    """A git range: commits show as patches; a note and a comment go to b4."""
    b4review = pytest.importorskip("b4.review._review")
    repo = tmp_path / "tree"
    (repo / "mm").mkdir(parents=True)
    _git(repo.parent, "init", "-q", str(repo))
    src = repo / "mm" / "gup.c"
    src.write_text("int pins(void)\n{\n\treturn 0;\n}\n")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=A", "-c", "user.email=a@x", "commit", "-qm", "base")
    src.write_text("int pins(void)\n{\n\treturn 1;\n}\n")
    _git(repo, "-c", "user.name=A", "-c", "user.email=a@x", "commit", "-qam", "mm/gup: pin one")
    _git(repo, "checkout", "-qb", "b4/review/pin-one")   # reviewing on b4's review branch
    state = ReviewState.open("HEAD~1..HEAD", repo=str(repo), directory=tmp_path / "d", identity=IDENTITY)
    app = MMReviewApp(load("HEAD~1..HEAD", repo=str(repo)), state, repo=str(repo))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.main.patch is not None and app.main.patch.title == "mm/gup: pin one"
        await pilot.press("o", *"Looks", "space", *"fine.", "escape")
        await pilot.press("tab")
        await _comment_on(pilot, app, "return 1;", "Why one?")
        await pilot.press("e")
        app.screen.query_one("#b4-repo").value = str(repo)
        await pilot.click("#do-b4")
        await pilot.pause()
    text = (repo / ".git" / "b4-review" / _git(repo, "rev-parse", "HEAD") / "0001.txt").read_text()
    assert text.startswith("Looks fine.\n")
    comments = b4review._extract_comments_from_quoted_reply(text[text.index("> diff --git"):])
    assert [(c["path"], c["line"], c["text"]) for c in comments] == [("b/mm/gup.c", 3, "Why one?")]


def test_cover_reply_carries_series_trailers(demo_mbox, drafts):
    collection = load(str(demo_mbox))
    state = ReviewState.open(str(demo_mbox), directory=drafts, identity=IDENTITY)
    cover = collection.series[1].cover
    state.series_trailers[cover.msgid] = [f"Acked-by: {IDENTITY}"]
    state.save()
    (msg,) = rx.reply_messages(collection.patches, collection.series, state)
    assert msg["In-Reply-To"] == f"<{cover.msgid}>"
    assert msg["Subject"] == f"Re: {cover.subject}"
    assert msg.get_content().splitlines()[-2:] == ["", f"Acked-by: {IDENTITY}"]
