"""Nothing the reviewer typed is lost: drafts are written atomically as they are
typed, survive a crash (SIGKILL mid-comment) and come back on reopen."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from review.inputs.load import load
from review.reviewer.state import ReviewState
from tests.tui.conftest import IDENTITY

ROOT = Path(__file__).resolve().parents[2]

CRASHING_SESSION = textwrap.dedent("""
    import asyncio, os, signal, sys
    from review.inputs.load import load
    from review.reviewer.state import ReviewState
    from tui.app import MMReviewApp

    source, drafts = sys.argv[1], sys.argv[2]
    app = MMReviewApp(load(source), ReviewState.open(source, directory=drafts, identity="R <r@x>"))

    async def main():
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press("right_square_bracket", "right_square_bracket", "tab")
            pane = app.main.message_pane
            pane.highlighted = next(i for i, r in enumerate(pane.rows)
                                    if r.kind == "diff" and "return -EBUSY" in r.line.text)
            await pilot.press("c", *"lost?", "space", *"no")
            await pilot.pause()
            print("typed", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)   # the dialog is still open: a crash

    asyncio.run(main())
""")


def test_comment_survives_sigkill_mid_typing_and_is_restored(demo_mbox, drafts):
    proc = subprocess.run([sys.executable, "-c", CRASHING_SESSION, str(demo_mbox), str(drafts)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert "typed" in proc.stdout
    files = list(drafts.glob("*.json"))
    assert len(files) == 1 and not list(drafts.glob(".*.tmp"))   # no half-written file left
    data = json.loads(files[0].read_text())
    (comment,) = [c for p in data["patches"].values() for c in p["comments"]]
    assert comment["text"] == "lost? no"
    assert comment["side"] == "pre" and comment["line_text"].strip() == "return -EBUSY;"
    # reopening the same input restores it at its line
    collection = load(str(demo_mbox))
    state = ReviewState.open(str(demo_mbox), directory=drafts)
    patch = collection.patches[1]
    f, h, ln = state.locate(patch, state.review(patch).comments[0])
    assert ln.kind == "removed" and ln.text.strip() == "return -EBUSY;"


async def test_reopened_app_shows_the_draft_inline(make_app, demo_mbox, drafts):
    first = make_app(demo_mbox)
    patch = first.session.collection.patches[0]
    f = patch.files[0]
    line = next(ln for h in f.hunks for ln in h.lines if "PageKsm" in ln.text)
    first.session.state.set_comment(patch, f, f.hunks[0], line, "KSM check: good.")
    second = make_app(demo_mbox)          # a new process would read the same file
    async with second.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("right_square_bracket")
        rows = second.main.message_pane.rows
        (draft,) = [r for r in rows if r.kind == "draft"]
        assert "KSM check: good." in draft.text.plain and draft.line.text == line.text


def test_save_is_atomic_and_unreadable_drafts_are_kept_aside(demo_mbox, drafts):
    collection = load(str(demo_mbox))
    state = ReviewState.open(str(demo_mbox), directory=drafts, identity=IDENTITY)
    patch = collection.patches[0]
    state.set_mark(patch, "reviewed")
    assert json.loads(state.path.read_text())["patches"][patch.message.msgid]["mark"] == "reviewed"
    state.path.write_text("{ truncated")          # e.g. a disk that filled up elsewhere
    again = ReviewState.open(str(demo_mbox), directory=drafts)
    assert again.review(patch).mark == ""
    assert again.warnings and "unreadable" in again.warnings[0]
    kept = list(drafts.glob("*.unreadable-*.json"))
    assert len(kept) == 1 and kept[0].read_text() == "{ truncated"


def test_same_input_same_drafts_other_input_other_drafts(demo_mbox, drafts, tmp_path):
    a = ReviewState.open(str(demo_mbox), directory=drafts)
    b = ReviewState.open(os.path.relpath(demo_mbox), directory=drafts)
    c = ReviewState.open("<some-other@msgid>", directory=drafts)
    assert a.path == b.path != c.path


def test_empty_comment_is_dropped_and_trailers_not_duplicated(demo_mbox, drafts):
    collection = load(str(demo_mbox))
    state = ReviewState.open(str(demo_mbox), directory=drafts, identity=IDENTITY)
    patch = collection.patches[0]
    f = patch.files[0]
    ln = f.hunks[0].lines[0]
    state.set_comment(patch, f, f.hunks[0], ln, "x")
    state.set_comment(patch, f, f.hunks[0], ln, "  ")
    assert state.review(patch).comments == []
    state.add_trailer(patch, "Acked-by", IDENTITY)
    state.add_trailer(patch, "Acked-by", IDENTITY)
    assert state.review(patch).trailers == [f"Acked-by: {IDENTITY}"]
