"""The review screen's reading keys beyond moving: following a quote into the patch,
searching the thread, the raw message, the range-diff of a patch across versions,
one reviewer's comments only, the next unreviewed patch, the next finding. A
mixin of MainScreen."""
from __future__ import annotations

from rich.text import Text

from review.inputs.quotes import follow_quote
from review.inputs.range_diff import counterpart, range_diff
from review.model import Anchor, Message, Patch
from tui.dialogs.choice import SearchDialog
from tui.dialogs.pager import PagerScreen, range_diff_lines, raw_lines
from tui.literal import line as lit
from tui.literal import printable
from tui.widgets.message.message_pane import MessagePane


class ReadingActions:
    """Needs of the screen: session, current, patch, message_pane, go_to(), rows_for()."""

    # ------------------------------------------------------------------ quotes
    def on_message_pane_follow(self, event: MessagePane.Follow) -> None:
        """Enter on a reply's quoted line opens the patch at that line, centred."""
        msg = self.current
        if msg is None or (msg.patch is not None and not msg.patch.inline):
            return
        anchor = self._quoted_at(msg, event.row)
        if anchor is None:
            return
        where = self.session.message_for(anchor.patch)
        if where is None:
            return
        self.go_to(where)
        self.message_pane.jump_to_diff_line(anchor.last)
        self.message_pane.focus()

    def _quoted_at(self, msg: Message, row) -> Anchor | None:
        """The patch line the row quotes; on a line too short to tell (or on the
        reviewer's words), the line the next comment answers."""
        if row.kind == "quote" and row.body_line:
            anchor = follow_quote(msg, row.body_line)
            if anchor is not None:
                return anchor
        anchored = [c for c in msg.comments if c.anchor is not None]
        if not anchored or not row.body_line:
            return None
        target = next((c for c in anchored if c.body_line >= row.body_line), anchored[-1])
        return target.anchor

    # ------------------------------------------------------------------ search
    def action_search(self) -> None:
        def done(text: str | None) -> None:
            self.last_search = text or ""
            self.message_pane.set_needle(self.last_search)
            self.message_pane.border_subtitle = ""
            if text:
                self._search_step(1, first=True)
        self.app.push_screen(SearchDialog(self.last_search), done)

    def action_search_again(self, step: int) -> None:
        self._search_step(step)

    def _hits(self, needle: str) -> list[tuple[Message, int]]:
        """Every row of the thread that holds `needle`, in reading order."""
        n = needle.lower()
        return [(msg, i) for msg in self.session.messages
                for i, r in enumerate(self.rows_for(msg, searched=True)) if n in r.search_text.lower()]

    def _search_step(self, step: int, first: bool = False) -> None:
        needle = self.last_search
        if not needle:
            return
        hits = self._hits(needle)
        if not hits:
            self.message_pane.border_subtitle = ""
            self.notify(f"Not found: {needle}", timeout=3)
            return
        order = {id(m): k for k, m in enumerate(self.session.messages)}
        here = (order.get(id(self.current), -1), self.message_pane.highlighted or 0)
        keys = [(order[id(m)], i) for m, i in hits]
        if step > 0:
            k = next((j for j, key in enumerate(keys) if key > here or (first and key == here)), None)
        else:
            k = next((j for j in range(len(keys) - 1, -1, -1) if keys[j] < here), None)
        if k is None:
            k = 0 if step > 0 else len(hits) - 1
            self.notify("Search wrapped to the " + ("top." if step > 0 else "bottom."), timeout=2)
        msg, row = hits[k]
        if msg is not self.current:
            self.go_to(msg)
        self.message_pane.set_needle(needle)
        self.message_pane.centre(row)
        self.message_pane.border_subtitle = lit(f"/{needle}  {k + 1}/{len(hits)}")

    # ------------------------------------------------------------------ other views
    def action_raw(self) -> None:
        msg = self.current
        if msg is None or not msg.raw:
            self.notify("No raw message here (a git commit is not a mail).", timeout=3)
            return
        title = lit(f"Raw message · {msg.msgid}", style="bold")
        self.app.push_screen(PagerScreen(title, raw_lines(msg.raw)))

    def action_range_diff(self) -> None:
        patch = self.patch
        if patch is None:
            self.notify("Select a patch (or a reply to one) first.", severity="warning", timeout=3)
            return
        old, new = counterpart(patch, -1), patch
        if old is None:
            old, new = patch, counterpart(patch, 1)
        if new is None or old is None:
            self.notify(printable(f"{patch.label}: no other version of this patch in this input."), timeout=4)
            return
        lines = range_diff(old, new)
        title = Text(end="")
        title.append(f"range-diff {printable(old.label)} → {printable(new.label)}: ", style="bold")
        title.append(printable(new.title))
        if not lines:
            title.append("  (no change)", style="dim")
        self.app.push_screen(PagerScreen(title, range_diff_lines(lines)))

    def action_only_reviewer(self) -> None:
        row = self.message_pane.current_row
        if self.reviewers is not None:
            self.reviewers = None
            self.notify("Showing every reviewer's comments.", timeout=2)
        elif row is not None and row.comment is not None:
            self.reviewers = {row.comment.author_email.lower()}
            self.notify(f"Only {row.comment.author}'s comments (w again: everyone).", timeout=3)
        else:
            self.notify("Put the cursor on a reviewer's comment first.", timeout=3)
            return
        self.redraw()

    # ------------------------------------------------------------------ next to do
    def _patches_after(self) -> list[Patch]:
        """The thread's patches from the one after the message in view, wrapping."""
        mail = [p for p in self.session.patches if not p.inline]
        order = {id(m): k for k, m in enumerate(self.session.messages)}
        here = order.get(id(self.current), -1)
        later = [p for p in mail if order.get(id(self.session.message_for(p)), -1) > here]
        return later + [p for p in mail if p not in later]

    def action_next_unreviewed(self) -> None:
        state = self.session.state
        nxt = next((p for p in self._patches_after() if not state.review(p).mark), None)
        if nxt is None:
            self.notify("Every patch is marked reviewed or skipped.", timeout=3)
            return
        self.go_to(self.session.message_for(nxt))

    def action_next_finding(self) -> None:
        """The next error or warning, patch by patch and in each patch in order."""
        here = self.patch
        rows_after = self.message_pane.highlighted or 0
        if here is not None and self.current is self.session.message_for(here):
            for i, r in enumerate(self.message_pane.rows):
                if r.kind == "finding" and i > rows_after:
                    self.message_pane.centre(i)
                    return
        for p in self._patches_after():
            if self.session.serious_findings(p):
                self.go_to(self.session.message_for(p))
                first = next((i for i, r in enumerate(self.message_pane.rows) if r.kind == "finding"), None)
                if first is not None:
                    self.message_pane.centre(first)
                self.spec.active = "tab-findings"
                return
        self.notify("No errors or warnings found (yet): f or F fuzzes.", timeout=3)
