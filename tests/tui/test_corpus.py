"""The real thread (../shared/corpus): it opens, every message can be reached with
j, and Matthew Wilcox's comment on SetPageAnonExclusive shows at its line in patch
10/15 (anchoring by review/inputs/quotes.py)."""
from __future__ import annotations

from tests.tui.conftest import screen_text


async def test_real_thread_message_by_message(make_app, corpus_dir):
    app = make_app(corpus_dir / "cow-fixes-part2-v1.mbox")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        main = app.main
        assert len(main.session.messages) == 33
        visited = {id(main.current)}
        for _ in range(40):
            await pilot.press("j")
            visited.add(id(main.current))
        assert visited == {id(m) for m in main.session.messages}
        assert main.current is main.session.messages[-1]


async def test_wilcox_comment_on_SetPageAnonExclusive_in_patch_10(make_app, corpus_dir):
    app = make_app(corpus_dir / "cow-fixes-part2-v1.mbox")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        main = app.main
        while main.patch is None or main.patch.label != "v1 10/15":
            await pilot.press("right_square_bracket")
        rows = main.message_pane.rows
        # his comments in the diff (those on the commit message sit under its lines)
        willy = [i for i, r in enumerate(rows) if r.kind == "comment" and r.line is not None
                 and r.comment.message.author_name == "Matthew Wilcox"]
        assert willy
        at_set = []
        for i in willy:
            diff = next(rows[j] for j in range(i - 1, -1, -1) if rows[j].kind == "diff")
            if diff.file.path == "include/linux/page-flags.h" and any(
                    "SetPageAnonExclusive" in rows[j].search_text
                    for j in range(max(0, i - 6), i) if rows[j].kind == "diff"):
                at_set.append((i, diff))
        assert at_set, "a Wilcox comment sits right below the SetPageAnonExclusive lines"
        i, diff = at_set[0]
        # H3 anchors it on David's inline revision of 10/15, which it answers; 10/15
        # shows it at its own line, marked as such
        assert rows[i].comment.text.startswith("hm.  seems to me like we should have a PageAnonNotKsm")
        assert "(on the inline revision)" in rows[i].text.plain
        assert "VM_BUG_ON_PGFLAGS(!PageAnon(page) || PageKsm(page), page);" in diff.line.text
        # the cursor can be put there and the screen shows the comment under the code
        main.message_pane.highlighted = i
        main.message_pane.scroll_to_highlight()
        await pilot.pause()
        text = screen_text(app)
        assert "SetPageAnonExclusive" in text and "Matthew Wilcox" in text
        # and on the inline revision itself, where the reply's quote is anchored
        revision = rows[i].comment.anchor.patch
        main.go_to(revision.message)
        await pilot.pause()
        own = [r for r in main.message_pane.rows if r.kind == "comment" and r.comment is rows[i].comment]
        assert len(own) == 1 and "(on the inline revision)" not in own[0].text.plain
