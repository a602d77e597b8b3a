"""The review session from reading to a reply on the list: the cover letter and any
message answered (in a dialog or $EDITOR), the raw message, the range-diff between
versions, search that counts and wraps, the keys to the next unreviewed patch and
the next finding, the fuzz bar after x, findings kept for the next session."""
from __future__ import annotations

import mailbox
import os
import stat

from textual.worker import WorkerState

from review.model import patch_key
from tests.tui.conftest import FakeFinding, fuzz_second_patch, notices, pin_finding, screen_text, wait_until
from tui.dialogs.choice import ExportDialog
from tui.dialogs.note import NoteDialog
from tui.dialogs.pager import PagerScreen


async def _export(pilot, app, out) -> list:
    await pilot.press("e")
    assert isinstance(app.screen, ExportDialog)
    app.screen.query_one("#mbox-path").value = str(out)
    await pilot.press("enter")
    await pilot.pause()
    return list(mailbox.mbox(str(out)))


async def test_the_cover_letter_and_a_reply_can_be_answered(make_app, demo_mbox, tmp_path):
    app = make_app(demo_mbox)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        main = app.main
        cover = main.session.collection.series[0].cover
        assert main.current is cover
        await pilot.press("o")
        assert isinstance(app.screen, NoteDialog)
        area = app.screen.query_one("#note-text")
        assert area.text.startswith("On ") and "> Three small clean-ups" in area.text   # quoted to answer
        area.text = area.text.split("\n")[0] + "\n> Tested with the cow selftests on x86-64.\n\nWhich ones?\n"
        await pilot.press("escape")
        await pilot.pause()
        assert any(r.kind == "draft" and "Which ones?" in r.text.plain for r in main.message_pane.rows)
        lena = next(m for m in main.session.messages if m.author_name == "Lena Reviewer")
        main.go_to(lena)
        await pilot.press("o")
        app.screen.query_one("#note-text").text = "Thanks, Lena.\n"
        await pilot.press("escape")
        msgs = await _export(pilot, app, tmp_path / "r.mbox")
    by_reply = {m["In-Reply-To"]: m for m in msgs}
    assert set(by_reply) == {f"<{cover.msgid}>", f"<{lena.msgid}>"}
    body = by_reply[f"<{cover.msgid}>"].get_payload(decode=True).decode()
    assert body.rstrip().endswith("> Tested with the cow selftests on x86-64.\n\nWhich ones?")
    assert "> Three small" not in body                      # only the quote it answers
    assert by_reply[f"<{lena.msgid}>"]["To"].endswith("<lena@example.org>")
    assert (tmp_path / "r").is_dir() and len(list((tmp_path / "r").iterdir())) == 2


async def test_E_writes_the_comment_in_the_editor(make_app, demo_mbox, tmp_path, monkeypatch):
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "Written in the editor.\\n" >> "$1"\n')
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("VISUAL", str(editor))
    app = make_app(demo_mbox)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("right_square_bracket", "right_square_bracket", "tab")
        main = app.main
        pane = main.message_pane
        pane.highlighted = next(i for i, r in enumerate(pane.rows) if r.kind == "diff" and r.line.kind == "added")
        await pilot.press("E")
        await pilot.pause()
        (comment,) = main.session.state.review(main.patch).comments
        assert comment.text == "Written in the editor."
        assert any(r.kind == "draft" and "Written in the editor." in r.text.plain for r in pane.rows)
        monkeypatch.setenv("VISUAL", "false")
        pane.highlighted = 0
        await pilot.press("E")
        await pilot.pause()
        assert "exited with status 1" in notices(app)
        assert main.session.state.review(main.patch).note == ""


async def test_raw_view_and_range_diff_between_versions(make_app, demo_mbox):
    app = make_app(demo_mbox)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        main = app.main
        v2 = main.session.collection.series[1].patches[1]         # v2 2/3, v1 2/3 reworked
        main.go_to(v2.message)
        await pilot.press("v")
        assert isinstance(app.screen, PagerScreen)
        text = screen_text(app)
        assert "Content-Transfer-Encoding: 8bit" in text and f"Message-ID: <{v2.message.msgid}>" in text
        await pilot.press("q", "D")
        assert isinstance(app.screen, PagerScreen)
        text = screen_text(app)
        assert "range-diff v1 2/3 → v2 2/3" in text
        assert "- mm/rmap: simplify page_try_dup_anon_rmap()" in text
        assert "+ mm/rmap: explain why page_try_dup_anon_rmap() may fail" in text
        await pilot.press("escape")
        main.go_to(main.session.collection.series[1].patches[2].message)     # v2 3/3 = v1 3/3
        await pilot.press("D")
        assert "(no change)" in screen_text(app)


async def test_search_counts_wraps_and_highlights(make_app, demo_mbox):
    app = make_app(demo_mbox)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        main = app.main
        await pilot.press("slash", *"folio_test_anon", "enter")
        await pilot.pause()
        pane = main.message_pane
        total = sum(1 for m in main.session.messages for r in main.rows_for(m, searched=True)
                    if "folio_test_anon" in r.search_text.lower())
        assert total >= 3
        assert str(pane.border_subtitle).endswith(f"1/{total}")
        prompt = pane.current_row.prompt("folio_test_anon")
        assert any("reverse" in str(span.style) for span in prompt.pairs[0][1].spans)
        for k in range(2, total + 1):
            await pilot.press("n")
            assert str(pane.border_subtitle).endswith(f"{k}/{total}")
        await pilot.press("n")
        assert str(pane.border_subtitle).endswith(f"1/{total}")
        assert "Search wrapped to the top." in notices(app)
        await pilot.press("N")
        assert str(pane.border_subtitle).endswith(f"{total}/{total}")


async def test_next_unreviewed_patch_and_next_finding(make_app, demo_mbox):
    app = make_app(demo_mbox)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        main = app.main
        patches = [p for p in main.session.patches if not p.inline]
        main.session.state.set_mark(patches[0], "reviewed")
        await pilot.press("u")
        assert main.patch is patches[1]
        main.session.state.set_mark(patches[1], "skipped")
        await pilot.press("u")
        assert main.patch is patches[2]
        main.session.findings[patch_key(patches[1])] = [pin_finding()]
        main.session.findings[patch_key(patches[4])] = [FakeFinding("partial", "only a note", "", 0,
                                                                    severity="note")]
        await pilot.press("exclamation_mark")                   # wraps round to v1 2/3
        assert main.patch is patches[1]
        assert main.message_pane.current_row.kind == "finding"
        await pilot.press("exclamation_mark")                   # a note is not a finding to visit
        assert main.patch is patches[1] and "No errors or warnings" not in notices(app)


async def test_x_leaves_the_bar_stopped_not_running(make_app, demo_mbox, scripted_fuzz):
    app = make_app(demo_mbox)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await pilot.press("right_square_bracket", "right_square_bracket", "f")
        assert await wait_until(pilot, lambda: "x stops" in screen_text(app))
        await pilot.press("x")
        await pilot.pause()
        assert "fuzzing stopped" in screen_text(app)
        # what the run reports after x (it stops at its next check) leaves the bar alone
        main = app.main
        main.fuzzer._progress(main.patch, "v1 2/3", type("P", (), {"done": 3.0, "total": 4.0,
                                                                   "findings": [pin_finding()]})())
        await pilot.pause()
        assert await wait_until(pilot, lambda: main.fuzz_worker.state == WorkerState.CANCELLED)
        assert "fuzzing stopped" in screen_text(app) and "x stops" not in screen_text(app)


async def test_findings_and_traces_come_back_when_the_input_is_reopened(make_app, demo_mbox, scripted_fuzz):
    app = make_app(demo_mbox)
    async with app.run_test(size=(120, 36)) as pilot:
        await fuzz_second_patch(pilot, scripted_fuzz)
        assert await wait_until(pilot, lambda: app.main.fuzz_worker.state == WorkerState.SUCCESS)
        patch_msgid = app.main.patch.message.msgid
    again = make_app(demo_mbox)
    async with again.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        main = again.main
        patch = next(p for p in main.session.patches if patch_key(p) == patch_msgid)
        (f,) = main.session.findings_for(patch)
        assert f.id == "pin-coherence" and f.trace["steps"] == pin_finding().trace["steps"]
        assert "!" in str(main.thread.label_for(patch.message.thread))
        main.go_to(patch.message)
        await pilot.press("2", "enter")
        assert await wait_until(pilot, lambda: main.spec.timeline.model is not None
                           and main.spec.timeline.model.marked == 5)


async def test_notes_fold_into_one_line_and_open_on_enter(make_app, demo_mbox):
    app = make_app(demo_mbox)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await pilot.press("right_square_bracket", "right_square_bracket")
        main = app.main
        notes = [FakeFinding(i, f"note {n}", "", 0, severity="note")
                 for n, i in enumerate(["partial-extraction"] * 6 + ["unmodelled-atom"] * 4)]
        main.session.findings[patch_key(main.patch)] = notes + [pin_finding()]
        main.redraw()
        view = main.spec.findings_view
        assert view.items[0] is main.session.findings_for(main.patch)[-1]       # the error first
        assert len(view.items) == 2 and view.option_count == 2                 # + one folded line
        assert "10 notes: 6× partial-extraction, 4× unmodelled-atom" in str(view.get_option_at_index(1).prompt)
        await pilot.press("2", "down", "enter")
        assert view.option_count == 12
        assert "Findings (1 + 10 notes)" in screen_text(app)
        assert sum(1 for r in main.message_pane.rows if r.kind == "finding") == 1   # notes not inline
        await pilot.press("enter")
        assert view.option_count == 2


async def test_thread_overview_lists_absent_patches_in_order_under_their_titles(make_app, corpus_dir):
    app = make_app(corpus_dir / "cow-fixes-part2-v1.mbox")
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        thread = app.main.thread
        numbered = [ln.entry for ln in thread.lines if ln.entry is not None and ln.entry.depth == 1
                    and (ln.entry.counter or (ln.message and ln.message.patch and not ln.message.patch.inline))]
        counters = [e.counter or e.message.patch.counter for e in numbered]
        assert counters == list(range(1, 16))
        missing = {e.counter: e.title for e in numbered if e.missing}
        assert sorted(missing) == [4, 5, 8, 11, 13, 15]
        assert missing[4] == "mm/rmap: split page_dup_rmap() into page_dup_file_rmap() and page_try_dup_anon_rmap()"
        text = screen_text(app)
        assert "2022-03-08 14:14" in text                                  # dates, UTC as lore
        assert "05/15 mm/rmap: convert RMAP flags to a proper" in text and "missing" in text
        assert "Nadav Amit" in text


async def test_long_lines_wrap_with_continuation_marks_at_80x24(make_app, demo_mbox):
    app = make_app(demo_mbox)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "↪" in text                            # the cover letter's 72 columns in 56
        await pilot.press("right_square_bracket", "right_square_bracket", "tab")
        pane = app.main.message_pane
        row = next(r for r in pane.rows if r.kind == "diff" and r.line.kind == "removed")
        gutter = row.gutter.plain
        assert gutter.split()[0] == str(row.line.old_lineno) and gutter.rstrip().endswith("-")
        added = next(r for r in pane.rows if r.kind == "diff" and r.line.kind == "added")
        assert added.gutter.plain.split() == [str(added.line.new_lineno), "+"]
        context = next(r for r in pane.rows if r.kind == "diff" and r.line.kind == "context")
        assert context.gutter.plain.split() == [str(context.line.old_lineno), str(context.line.new_lineno)]


def test_drafts_directory_is_where_the_findings_go(make_app, demo_mbox, drafts):
    app = make_app(demo_mbox)
    patch = app.session.patches[1]
    app.session.record(patch, [pin_finding()], None)
    assert [p.name for p in drafts.iterdir()] == [app.session.state.path.stem + ".findings.json"]
    assert os.path.getsize(drafts / (app.session.state.path.stem + ".findings.json")) > 0
