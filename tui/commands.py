"""Command palette (Ctrl+P): every review action by name, and every patch by label
(patch labels and titles are mail text: shown as plain content, tui.literal)."""
from __future__ import annotations

from functools import partial

from textual.command import Hit, Hits, Provider

from tui.literal import highlighted, printable

ACTIONS = [
    ("Next message", "step_message(1)"),
    ("Previous message", "step_message(-1)"),
    ("Next patch", "step_patch(1)"),
    ("Previous patch", "step_patch(-1)"),
    ("Comment on the diff line under the cursor", "comment"),
    ("Reply to this message (on a patch: the note above the quotes)", "reply"),
    ("Write the comment or reply in $EDITOR", "editor"),
    ("Next unreviewed patch", "next_unreviewed"),
    ("Next error or warning", "next_finding"),
    ("Show the raw message", "raw"),
    ("Range-diff of this patch against its other version", "range_diff"),
    ("Only the comments of the reviewer under the cursor", "only_reviewer"),
    ("Mark patch reviewed", "mark('reviewed')"),
    ("Mark patch skipped", "mark('skipped')"),
    ("Add Reviewed-by / Acked-by / Tested-by", "trailer"),
    ("Export review (reply mbox and .eml files, or b4 external comments)", "export"),
    ("Fuzz this patch", "fuzz(False)"),
    ("Fuzz the whole series", "fuzz(True)"),
    ("Stop fuzzing", "stop_fuzz"),
    ("Search the thread", "search"),
    ("Zoom the focused pane", "zoom"),
    ("Show the rules of this patch", "spec_tab('tab-rules')"),
    ("Show the findings", "spec_tab('tab-findings')"),
    ("Show the trace timeline", "spec_tab('tab-trace')"),
]


class ReviewCommands(Provider):
    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        app = self.app
        try:
            screen = app.main
        except LookupError:
            return
        for label, action in ACTIONS:
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, highlighted(matcher, label), partial(screen.run_action, action), help=action)
        for patch in screen.session.patches:
            where = screen.session.message_for(patch)
            if where is None:
                continue
            label = printable(f"Go to {patch.label}: {patch.title}")
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, highlighted(matcher, label), partial(screen.go_to, where))
        for label, action in (("Theme: dark", "textual-dark"), ("Theme: light", "textual-light")):
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, highlighted(matcher, label), partial(setattr, app, "theme", action))
