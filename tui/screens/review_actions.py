"""The review screen's writing keys: marks, comments, replies and notes (in a dialog
or in $EDITOR), trailers, export. Everything goes through the session's ReviewState
(saved on every change) and review.reviewer's export; a mixin of MainScreen."""
from __future__ import annotations

from pathlib import Path

from review.errors import InputError
from review.model import Patch
from review.reviewer import export as rx
from review.reviewer import identity as ident
from review.reviewer import mail_files
from tui.dialogs.choice import ChoiceDialog, ExportDialog
from tui.dialogs.comment import CommentDialog
from tui.dialogs.note import NoteDialog
from tui.editor import EditorError, edit

TRAILERS = ("Reviewed-by", "Acked-by", "Tested-by")


class ReviewActions:
    """Needs of the screen: session, current, patch, message_pane, thread, redraw()."""

    def _need_patch(self) -> Patch | None:
        patch = self.patch
        if patch is None:
            self.notify("Select a patch (or a reply to one) first.", severity="warning", timeout=3)
        return patch

    def _need_identity(self) -> str | None:
        who = self.session.state.identity
        if not ident.usable(who):
            self.notify(ident.HINT, severity="error", timeout=10)
            return None
        return ident.trailer_form(who)

    def action_mark(self, mark: str) -> None:
        patch = self._need_patch()
        if patch is None:
            return
        new = self.session.state.toggle_mark(patch, mark)
        self.notify(f"{patch.label}: {new or 'unmarked'}", timeout=2)
        self.thread.refresh_labels()

    def _commented_line(self):
        """(patch, row) of the diff line under the cursor, or None."""
        row = self.message_pane.current_row
        msg = self.current
        if msg is None or msg.patch is None or row is None or row.line is None:
            return None
        return msg.patch, row

    def action_comment(self) -> None:
        where = self._commented_line()
        if where is None:
            self.notify("Put the cursor on a diff line of a patch (message pane) to comment on it.",
                        severity="warning", timeout=4)
            return
        patch, row = where
        self.app.push_screen(CommentDialog(self.session.state, patch, row.file, row.hunk, row.line),
                             lambda _t: self.redraw())

    def action_reply(self) -> None:
        """A patch's note, the cover letter's reply, or a free-text reply to any
        other message: whichever the message in view takes."""
        if self.current is None:
            return
        draft = self.session.reply_draft(self.current)
        self.app.push_screen(NoteDialog(draft.title, draft.text, draft.save), lambda _t: self._replied())

    def _replied(self) -> None:
        self.redraw()
        self.thread.refresh_labels()

    def action_editor(self) -> None:
        """The comment on the diff line under the cursor, else the reply to the message
        in view, in the reviewer's $EDITOR."""
        if self.current is None:
            return
        state = self.session.state
        where = self._commented_line()
        try:
            if where is not None:
                patch, row = where
                old = state.comment_at(patch, row.file, row.line)
                text = edit(self.app, old.text if old else "")
                state.set_comment(patch, row.file, row.hunk, row.line, text.strip("\n"))
            else:
                draft = self.session.reply_draft(self.current)
                draft.save(edit(self.app, draft.text, suffix=".eml.txt"))
        except (EditorError, OSError) as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        self._replied()

    def action_trailer(self) -> None:
        msg = self.current
        if msg is None:
            return
        series = self.session.series_of(msg)
        on_cover = series is not None and series.cover is msg
        patch = None if on_cover else self._need_patch()
        if patch is None and not on_cover:
            return
        who = self._need_identity()
        if who is None:
            return
        choices = [(n, f"{n}: {who}") for n in TRAILERS]
        title = f"Add a trailer to {'the whole series' if on_cover else patch.label}"

        def done(name: str | None) -> None:
            if not name:
                return
            state = self.session.state
            if on_cover:
                lst = state.series_trailers.setdefault(series.cover.msgid, [])
                t = f"{name}: {who}"
                if t not in lst:
                    lst.append(t)
                state.save()
            else:
                state.add_trailer(patch, name, who)
            self.notify(f"{name} added.", timeout=2)
            self.redraw()
        self.app.push_screen(ChoiceDialog(title, choices), done)

    def action_export(self) -> None:
        state = self.session.state
        try:
            msgs = rx.reply_messages(self.session.patches, self.session.collection.series, state,
                                     self.session.messages)
        except InputError as exc:       # no identity to sign with: how to set one
            self.notify(str(exc), severity="error", timeout=10)
            return
        summary = f"{len(msgs)} repl{'y' if len(msgs) == 1 else 'ies'} to write, as {state.identity}"
        default = str(Path.cwd() / f"mmreview-review-{state.path.stem[:8]}.mbox")
        self.app.push_screen(ExportDialog(default, self.app.repo or "", summary),
                             lambda choice: self._export(choice, msgs))

    def _export(self, choice, msgs) -> None:
        if not choice:
            return
        kind, where = choice
        try:
            if kind == "mbox":
                mbox, eml = mail_files.write_both(Path(where).expanduser(), msgs)
                self.notify(f"Wrote {len(msgs)} repl{'y' if len(msgs) == 1 else 'ies'} to {mbox} "
                            f"and {eml}/ (git send-email {eml}/)", timeout=8)
            else:
                series = self.session.series_of(self.current) if self.current else None
                if series is None:
                    raise InputError("select a message of the series to export for b4")
                out = rx.export_b4(series, self.session.state, Path(where or ".").expanduser())
                self.notify(f"Wrote b4 external comments to {out}", timeout=6)
        except (InputError, OSError) as exc:
            self.notify(str(exc), severity="error", timeout=8)
