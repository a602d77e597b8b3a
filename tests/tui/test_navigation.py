"""Reading the thread: keys, panes, following a reply's quote into the patch, search."""
from __future__ import annotations

from tests.tui.conftest import screen_text
from tui.dialogs.choice import SearchDialog
from tui.help import HelpScreen
from tui.widgets.message.message_pane import MessagePane
from tui.widgets.rules.rules_pane import RulesView
from tui.widgets.thread.thread_pane import ThreadPane


async def test_j_k_walk_every_message_in_thread_order(make_app, demo_mbox):
    app = make_app(demo_mbox)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        main = app.main
        seen = [main.current]
        for _ in range(len(main.session.messages) + 2):
            await pilot.press("j")
            if main.current is not seen[-1]:
                seen.append(main.current)
        assert seen == main.session.messages
        assert len(seen) == 14
        # the thread pane's cursor follows
        assert app.screen.query_one(ThreadPane).current is seen[-1]
        await pilot.press("k", "k")
        assert main.current is seen[-3]


async def test_brackets_move_between_patches_of_both_versions(make_app, demo_mbox):
    app = make_app(demo_mbox)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        labels = []
        for _ in range(7):
            await pilot.press("right_square_bracket")
            labels.append(app.main.patch.label)
        assert labels == ["v1 1/3", "v1 2/3", "v1 3/3", "v2 1/3", "v2 2/3", "v2 3/3", "v2 3/3"]
        await pilot.press("left_square_bracket")
        assert app.main.patch.label == "v2 2/3"
        # the message pane shows the patch's diff with the file it touches
        assert "include/linux/rmap.h" in screen_text(app)


async def test_tab_cycles_thread_message_spec(make_app, demo_mbox):
    app = make_app(demo_mbox)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.focused, ThreadPane)
        await pilot.press("tab")
        assert isinstance(app.focused, MessagePane)
        await pilot.press("tab")
        assert isinstance(app.focused, RulesView)
        await pilot.press("tab")
        assert isinstance(app.focused, ThreadPane)
        await pilot.press("shift+tab")
        assert isinstance(app.focused, RulesView)


async def test_reply_comments_show_inline_at_the_quoted_line(make_app, demo_mbox):
    app = make_app(demo_mbox)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        for _ in range(2):
            await pilot.press("right_square_bracket")
        rows = app.main.message_pane.rows
        # in the diff (comments on the commit message sit under its lines, above)
        comments = [i for i, r in enumerate(rows) if r.kind == "comment" and r.line is not None]
        assert comments, "Ivo's review of v1 2/3 is shown inside the diff"
        first = rows[comments[0]]
        assert first.comment.message.author_name == "Ivo Maintainer"
        # the row above the comment (or above earlier comments on the same line)
        # is the quoted diff line: the removed `return -EBUSY;`
        above = next(rows[j] for j in range(comments[0] - 1, -1, -1) if rows[j].kind == "diff")
        assert above.line.text.strip() == "return -EBUSY;" and above.line.kind == "removed"


async def test_enter_on_a_quote_opens_the_patch_at_that_line(make_app, demo_mbox):
    app = make_app(demo_mbox)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        main = app.main
        ivo = next(m for m in main.session.messages if m.author_name == "Ivo Maintainer" and m.patch is None
                   and "v1 2/3" in m.subject)
        pane = main.message_pane

        async def enter_on(text: str):
            main.go_to(ivo)
            pane.focus()
            pane.highlighted = next(i for i, r in enumerate(pane.rows) if text in r.search_text)
            await pilot.press("enter")
            await pilot.pause()
            assert main.current is ivo.replied_patch.message
            return pane.current_row

        # on a quoted line: that very line of the patch, in the middle of the pane
        row = await enter_on("page_needs_cow_for_dma")
        assert row.kind == "diff" and row.line.text.strip() == "if (page_needs_cow_for_dma(vma, page))"
        y = pane._index_to_line[pane.highlighted] - int(pane.scroll_y)
        assert abs(y - pane.scrollable_content_region.height // 2) <= 2
        # on the reviewer's own words: the line they answer
        row = await enter_on("This is the only thing that keeps a pinned page")
        assert row.kind == "diff" and row.line.text.strip() == "return -EBUSY;"


async def test_search_finds_text_in_later_messages(make_app, demo_mbox):
    app = make_app(demo_mbox)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        assert isinstance(app.screen, SearchDialog)
        await pilot.press(*"anon(folio)", "enter")
        await pilot.pause()
        assert app.main.patch is not None and app.main.patch.label == "v1 3/3"
        assert "anon(folio)" in app.main.message_pane.current_row.search_text
        await pilot.press("n")
        assert app.main.patch.label == "v2 3/3"


async def test_help_closes_with_q_and_Q_quits(make_app, demo_mbox):
    app = make_app(demo_mbox)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "Reviewed-by" in screen_text(app)
        await pilot.press("q")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("q")  # on the main screen: only a hint, no quitting
        assert app.is_running
        await pilot.press("Q")
        await pilot.pause()
    assert app.return_code == 0


async def test_usable_at_80x24(make_app, demo_mbox):
    app = make_app(demo_mbox)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("right_square_bracket", "right_square_bracket")
        text = screen_text(app)
        for what in ("Thread", "Message", "Rules", "2/3", "Reviewed"):
            assert what in text
        await pilot.press("tab", "z")
        assert app.screen.maximized is app.main.message_pane
        await pilot.press("z")
        assert app.screen.maximized is None


async def test_command_palette_runs_review_actions(make_app, demo_mbox):
    app = make_app(demo_mbox)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("right_square_bracket")
        await pilot.press("ctrl+p")
        await pilot.press(*"mark rev")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.main.session.state.review(app.main.patch).mark == "reviewed"
        await pilot.press("ctrl+p", *"v2 2/3")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.main.patch.label == "v2 2/3"


async def test_mouse_click_on_a_thread_entry_shows_it(make_app, demo_mbox):
    app = make_app(demo_mbox)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        thread = app.main.thread
        for index in (4, 5):                        # Ivo's reply to v1 2/3, Nora's answer
            target = app.main.session.messages[index]
            line = thread.y_of(target)
            await pilot.click(thread, offset=(12, line - int(thread.scroll_y) + 1))
            await pilot.pause()
            assert app.main.current is target


async def test_w_shows_one_reviewer_only(make_app, demo_mbox):
    app = make_app(demo_mbox)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("right_square_bracket", "right_square_bracket", "tab")
        pane = app.main.message_pane
        authors = {r.comment.message.author_name for r in pane.rows if r.kind == "comment"}
        assert authors == {"Ivo Maintainer", "Nora Kernel"}
        pane.highlighted = next(i for i, r in enumerate(pane.rows)
                                if r.kind == "comment" and r.comment.message.author_name == "Nora Kernel")
        await pilot.press("w")
        assert {r.comment.message.author_name for r in pane.rows if r.kind == "comment"} == {"Nora Kernel"}
        await pilot.press("w")
        assert {r.comment.message.author_name for r in pane.rows if r.kind == "comment"} == authors
