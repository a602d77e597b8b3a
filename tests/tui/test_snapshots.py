"""SVG snapshots of the main screen states (pytest-textual-snapshot). Inputs are fixed
(the demo thread, a fixed identity, a scripted finding), so the pictures are stable;
update them with `pytest tests/tui/test_snapshots.py --snapshot-update` after a
deliberate change, and look at the diff before committing."""
from __future__ import annotations

from review.model import patch_key
from tests.tui.conftest import FakeFinding, pin_finding


def _to_row(app, kind: str, author: str | None = None):
    pane = app.main.message_pane
    for i, r in enumerate(pane.rows):
        if r.kind == kind and (author is None or r.comment.message.author_name == author):
            pane.highlighted = i
            pane.scroll_to_highlight(top=True)
            return


def test_opens_on_the_cover_letter(snap_compare, make_app, demo_mbox):
    assert snap_compare(make_app(demo_mbox), terminal_size=(100, 30))


def test_patch_with_reviewer_comment_inline(snap_compare, make_app, demo_mbox):
    async def before(pilot):
        await pilot.press("right_square_bracket", "right_square_bracket", "tab")
        _to_row(pilot.app, "comment", "Ivo Maintainer")
        await pilot.pause()
    assert snap_compare(make_app(demo_mbox), terminal_size=(100, 30), run_before=before)


def test_rules_of_a_patch_zoomed(snap_compare, make_app, demo_mbox):
    async def before(pilot):
        await pilot.press("right_square_bracket", "right_square_bracket", "1", "z")
        await pilot.pause()
    assert snap_compare(make_app(demo_mbox), terminal_size=(100, 30), run_before=before)


def test_finding_trace_timeline(snap_compare, make_app, demo_mbox):
    async def before(pilot):
        await pilot.press("right_square_bracket", "right_square_bracket")
        main = pilot.app.main
        main.session.findings[patch_key(main.patch)] = [pin_finding()]
        main.redraw()
        main.show_spec(main.patch)
        await pilot.press("2", "enter")
        await pilot.pause()
    assert snap_compare(make_app(demo_mbox), terminal_size=(110, 34), run_before=before)


def test_help(snap_compare, make_app, demo_mbox):
    assert snap_compare(make_app(demo_mbox), press=["question_mark"], terminal_size=(100, 30))


def test_comment_dialog_at_80x24(snap_compare, make_app, demo_mbox):
    async def before(pilot):
        await pilot.press("right_square_bracket", "tab")
        pane = pilot.app.main.message_pane
        pane.highlighted = next(i for i, r in enumerate(pane.rows)
                                if r.kind == "diff" and "PageKsm" in r.line.text)
        await pilot.press("c", *"Good", "space", *"catch.")
        await pilot.pause()
    assert snap_compare(make_app(demo_mbox), terminal_size=(80, 24), run_before=before)


def test_light_theme_with_draft_and_marks_at_80x24(snap_compare, make_app, demo_mbox):
    app = make_app(demo_mbox, theme="textual-light")
    patch = app.session.collection.patches[0]
    f = patch.files[0]
    line = next(ln for ln in f.hunks[0].lines if "PageKsm" in ln.text)
    app.session.state.set_comment(patch, f, f.hunks[0], line, "KSM pages: good catch.")
    app.session.state.set_mark(patch, "reviewed")

    async def before(pilot):
        await pilot.press("right_square_bracket", "tab")
        _to_row(pilot.app, "draft")
        await pilot.pause()
    assert snap_compare(app, terminal_size=(80, 24), run_before=before)


# The views of a review session: lore's overview with dates, the raw message, the
# range-diff between versions, notes folded under the findings, a patch at 80x24.

def test_thread_overview_with_dates(snap_compare, make_app, demo_mbox):
    async def before(pilot):
        await pilot.press("j", "j", "j")
        await pilot.pause()
    assert snap_compare(make_app(demo_mbox), terminal_size=(160, 36), run_before=before)


def test_raw_view(snap_compare, make_app, demo_mbox):
    assert snap_compare(make_app(demo_mbox), press=["right_square_bracket", "v"], terminal_size=(100, 30))


def test_range_diff_between_versions(snap_compare, make_app, demo_mbox):
    async def before(pilot):
        main = pilot.app.main
        main.go_to(main.session.collection.series[1].patches[1].message)
        await pilot.press("D")
        await pilot.pause()
    assert snap_compare(make_app(demo_mbox), terminal_size=(100, 30), run_before=before)


def test_folded_notes_under_the_findings(snap_compare, make_app, demo_mbox):
    async def before(pilot):
        await pilot.press("right_square_bracket", "right_square_bracket")
        main = pilot.app.main
        notes = [FakeFinding(i, "not modelled here", "", 0, severity="note")
                 for i in ["partial-extraction"] * 6 + ["unmodelled-atom"] * 4]
        main.session.findings[patch_key(main.patch)] = notes + [pin_finding()]
        main.redraw()
        await pilot.press("2")
        await pilot.pause()
    assert snap_compare(make_app(demo_mbox), terminal_size=(110, 34), run_before=before)


def test_patch_wrapped_with_continuation_marks_at_80x24(snap_compare, make_app, demo_mbox):
    async def before(pilot):
        await pilot.press("right_square_bracket", "right_square_bracket", "tab", "z")
        pane = pilot.app.main.message_pane
        pane.centre(next(i for i, r in enumerate(pane.rows) if r.kind == "comment"))
        await pilot.pause()
    assert snap_compare(make_app(demo_mbox), terminal_size=(80, 24), run_before=before)
