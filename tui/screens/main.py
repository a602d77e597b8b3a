"""The review screen: thread pane | message pane over spec pane, fuzz status line.

Keys follow mutt/b4 habits (see tui/help.py). The reading keys beyond moving are
tui/screens/reading.py's, the writing keys tui/screens/review_actions.py's; all the
reviewer writes goes through ReviewState (saved on every change).

Nothing slow runs on the UI thread: extraction (the spec pane's rules) and the
replay of a finding's trace run in worker threads, fuzzing in a child process
(tui/screens/fuzzing.py). A message's rows are kept once built, so coming back to
it costs nothing.
"""
from __future__ import annotations

import gc
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer
from textual.timer import Timer
from textual.worker import Worker

from spec.errors import TraceError
from spec.trace import parse_trace

from review.errors import InputError
from review.model import Message, Patch, patch_key
from review.report.types import CheckFinding
from tui.literal import printable
from tui.screens.fuzzing import BackgroundFuzzer
from tui.screens.reading import ReadingActions
from tui.screens.review_actions import ReviewActions
from tui.widgets.message.message_pane import MessagePane
from tui.widgets.message.rows import Row, message_rows
from tui.widgets.rules.rule_rows import rules_rows
from tui.widgets.rules.rules_pane import FindingsView, RulesView, SpecPane, placeholder
from tui.widgets.rules.timeline import finding_timeline
from tui.widgets.status.fuzz_bar import FuzzBar
from tui.widgets.status.header import ReviewHeader
from tui.widgets.thread.thread_pane import ThreadPane

if TYPE_CHECKING:
    from review.check.replay import Replay


PREPARE_AFTER = 0.15    # seconds after a message is shown, its neighbours' rows are built


def _keep_out_of_gc() -> None:
    """What exists now lives as long as the session (the input's messages, patches
    and diff lines, the rows built for them): out of the garbage collector's sight.
    Its full collections would otherwise walk all of it, 100 ms and more in the
    middle of a key press every few keys."""
    gc.freeze()


class MainScreen(ReadingActions, ReviewActions, Screen):
    BINDINGS = [
        Binding("j", "step_message(1)", "Next"),
        Binding("k", "step_message(-1)", "Prev"),
        Binding("right_square_bracket", "step_patch(1)", "Patch→", key_display="]"),
        Binding("left_square_bracket", "step_patch(-1)", "←Patch", key_display="["),
        Binding("u", "next_unreviewed", "Unreviewed", show=False),
        Binding("exclamation_mark", "next_finding", "Next finding", key_display="!", show=False),
        Binding("tab", "cycle_pane(1)", "Pane", show=False),
        Binding("shift+tab", "cycle_pane(-1)", "Pane", show=False),
        Binding("slash", "search", "Search", key_display="/"),
        Binding("n", "search_again(1)", "Next match", show=False),
        Binding("N", "search_again(-1)", "Prev match", show=False),
        Binding("v", "raw", "Raw", show=False),
        Binding("D", "range_diff", "Range-diff", show=False),
        Binding("c", "comment", "Comment"),
        Binding("o", "reply", "Reply", show=False),
        Binding("E", "editor", "$EDITOR", show=False),
        Binding("r", "mark('reviewed')", "Reviewed"),
        Binding("s", "mark('skipped')", "Skip", show=False),
        Binding("t", "trailer", "Trailer"),
        Binding("e", "export", "Export"),
        Binding("f", "fuzz(False)", "Fuzz"),
        Binding("F", "fuzz(True)", "Fuzz series", show=False),
        Binding("x", "stop_fuzz", "Stop", show=False),
        Binding("z", "zoom", "Zoom", show=False),
        Binding("w", "only_reviewer", "Only reviewer", show=False),
        Binding("1", "spec_tab('tab-rules')", "Rules", show=False),
        Binding("2", "spec_tab('tab-findings')", "Findings", show=False),
        Binding("3", "spec_tab('tab-trace')", "Trace", show=False),
        Binding("q", "quit_hint", "", show=False),
    ]

    def __init__(self, session, **kw) -> None:
        super().__init__(**kw)
        self.session = session
        self.current: Message | None = None
        self.last_search = ""
        self.reviewers: set[str] | None = None
        self.fuzzer = BackgroundFuzzer(self, session, self._findings_changed)
        self._shown_rules_for: object = ()  # patch key of the rules on show
        self._rows: dict[str, tuple[tuple, list[Row]]] = {}   # msgid -> (what they show, rows)
        self._prepare_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield ReviewHeader(show_clock=False, icon="◆")
        with Horizontal(id="panes"):
            yield ThreadPane(self.session, id="thread")
            with Vertical(id="right"):
                yield MessagePane(id="message")
                yield SpecPane(id="spec")
        yield FuzzBar(id="fuzzbar")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(ThreadPane).focus()
        # TabbedContent builds its tabs after this mount: show the first message then.
        self.call_after_refresh(self._first_show)

    def _first_show(self) -> None:
        thread = self.query_one(ThreadPane)
        first = self.session.next_message(None, 1)
        if first is not None:
            self.show_message(first)
            thread.select_message(first)
        for w in self.session.state.warnings:
            self.notify(w, severity="warning", timeout=8)
        _keep_out_of_gc()

    # ------------------------------------------------------------------ helpers
    @property
    def thread(self) -> ThreadPane:
        return self.query_one(ThreadPane)

    @property
    def message_pane(self) -> MessagePane:
        return self.query_one(MessagePane)

    @property
    def spec(self) -> SpecPane:
        return self.query_one(SpecPane)

    @property
    def patch(self) -> Patch | None:
        return self.session.patch_of(self.current)

    @property
    def fuzz_worker(self) -> Worker | None:
        """The worker fuzzing (or that fuzzed last) for this screen."""
        return self.fuzzer.worker

    # ------------------------------------------------------------------ showing
    def rows_for(self, msg: Message, searched: bool = False) -> list[Row]:
        """`msg`'s rows as the message pane shows them (`searched`: without colours,
        for search), built once for what they show."""
        patch = self.session.patch_of(msg)
        findings = self.session.findings_for(patch) if patch is not None and msg.patch is patch else []
        extra = self.session.revision_comments(msg.patch) if msg.patch is not None else None
        draft = self.session.reply_draft(msg).text if self.session.has_draft(msg) else ""
        dark = None if searched else self.app.current_theme.dark
        key = (dark, self.session.state.saves, tuple(map(id, findings)),
               frozenset(self.reviewers) if self.reviewers is not None else None)
        cache = f"{msg.msgid}/{'search' if searched else 'show'}"
        if cache not in self._rows or self._rows[cache][0] != key:
            self._rows[cache] = (key, message_rows(msg, self.session.state, findings, dark,
                                                   self.reviewers, extra, draft))
        return self._rows[cache][1]

    def show_message(self, msg: Message, keep_cursor: bool = False) -> None:
        self.current = msg
        patch = self.session.patch_of(msg)
        self.message_pane.show(msg, self.session.state, [], self.app.current_theme.dark,
                               keep_cursor=keep_cursor, rows=self.rows_for(msg))
        self.show_spec(patch)
        # the screen's sub_title holds the subject, set without the repaint of every
        # widget that setting it normally brings; the header shows it (ReviewHeader)
        self.set_reactive(Screen.sub_title, printable(msg.subject))
        self.query_one(ReviewHeader).show(self.sub_title)
        self._prepare_neighbours(msg)

    def _prepare_neighbours(self, msg: Message) -> None:
        """The rows of the messages j and k go to, built in a worker thread while the
        reviewer reads this one (the first look at a patch costs its syntax
        highlighting and wrapping: tens of milliseconds). A moment after the message
        is on the screen, so as not to take the interpreter from drawing it."""
        if self._prepare_timer is not None:
            self._prepare_timer.stop()
        nearby = [m for m in (self.session.next_message(msg, 1), self.session.next_message(msg, -1))
                  if m is not None and f"{m.msgid}/show" not in self._rows]
        width = self.message_pane.scrollable_content_region.width
        if nearby and width:
            self._prepare_timer = self.set_timer(PREPARE_AFTER, partial(
                self.run_worker, partial(self._prepare, nearby, width), thread=True, group="prepare",
                exclusive=True, exit_on_error=False))

    def _prepare(self, messages: list[Message], width: int) -> None:
        """In a worker thread: rows and their wrapped lines at `width`."""
        console = self.app.console
        for m in messages:
            for row in self.rows_for(m):
                row.prompt(self.message_pane.needle).lines(console, width)
        _keep_out_of_gc()

    def redraw(self) -> None:
        if self.current is not None:
            self.show_message(self.current, keep_cursor=True)
        self.thread.refresh_labels()

    def show_spec(self, patch: Patch | None) -> None:
        key = patch_key(patch) if patch is not None else None
        spec = self.spec
        findings = self.session.findings_for(patch) if patch is not None else []
        spec.findings_view.show(findings, self._status_text(patch), owner=patch)
        spec.set_findings_count(findings)
        if key == self._shown_rules_for:
            return
        self._shown_rules_for = key
        if patch is None:
            spec.rules.show(placeholder("No patch here: a cover letter or a reply to one."))
        elif self.session.extracted(patch):
            self._show_rules(patch)
        else:
            spec.rules.show(placeholder("Extracting the rules of this patch…"))
            self.run_worker(partial(self._extract, patch), thread=True, group="extract",
                            exit_on_error=False)

    def _extract(self, patch: Patch) -> None:
        """In a worker thread: the rules of `patch`, then shown if it is still in view."""
        self.session.rules(patch)
        self.app.call_from_thread(self._extracted, patch)

    def _extracted(self, patch: Patch) -> None:
        if self.patch is patch:
            self._show_rules(patch)

    def _show_rules(self, patch: Patch) -> None:
        rules, error = self.session.rules(patch)
        if rules is None:
            self.spec.rules.show(placeholder(f"extraction failed: {error}"))
        else:
            self.spec.rules.show(rules_rows(rules))

    def _status_text(self, patch: Patch | None) -> Text | None:
        if patch is None:
            return None
        res = self.session.results.get(patch_key(patch))
        if res is None:
            return None
        t = Text()
        if res.skipped:
            t.append(printable(res.skipped), style="dim")
        else:
            t.append("Checked, nothing found:\n", style="green")
            for c in res.checked:
                t.append("  " + printable(c) + "\n", style="dim")
        return t

    # ------------------------------------------------------------------ navigation
    @on(ThreadPane.Shown)
    def _shown(self, event: ThreadPane.Shown) -> None:
        if event.message is not self.current:
            self.show_message(event.message)

    def go_to(self, msg: Message) -> None:
        self.show_message(msg)
        self.thread.select_message(msg)

    def action_step_message(self, step: int) -> None:
        nxt = self.session.next_message(self.current, step)
        if nxt is None:
            self.notify("No more messages." if step > 0 else "This is the first message.", timeout=2)
            return
        self.go_to(nxt)

    def action_step_patch(self, step: int) -> None:
        p = self.session.next_patch(self.current, step)
        if p is None or self.session.message_for(p) is None:
            self.notify("No more patches." if step > 0 else "This is the first patch.", timeout=2)
            return
        self.go_to(self.session.message_for(p))

    def _panes(self):
        return [self.thread, self.message_pane, self.spec]

    def _focused_pane(self):
        for p in self._panes():
            if self.focused is not None and (self.focused is p or p in self.focused.ancestors):
                return p
        return None

    def action_cycle_pane(self, step: int) -> None:
        panes = self._panes()
        focused = self._focused_pane()
        idx = panes.index(focused) if focused is not None else 0
        target = panes[(idx + step) % len(panes)]
        if isinstance(target, SpecPane):
            target.focus_active()
        else:
            target.focus()

    def action_zoom(self) -> None:
        if self.maximized is not None:
            self.minimize()
            return
        pane = self._focused_pane()
        if pane is not None:
            self.maximize(pane)

    def action_spec_tab(self, tab: str) -> None:
        self.spec.active = tab
        self.spec.focus_active()

    def action_quit_hint(self) -> None:
        self.notify("Q quits (drafts are saved as you type); q closes dialogs.", timeout=3)

    # ------------------------------------------------------------------ rules and findings
    @on(RulesView.Jump)
    def _jump(self, event: RulesView.Jump) -> None:
        self._to_patch_message()
        if not self.message_pane.jump_to_line(event.file, event.side, event.line):
            self.notify(f"{event.file}:{event.line} is not in this patch's hunks.", timeout=3)

    @on(FindingsView.Chosen)
    def _finding(self, event: FindingsView.Chosen) -> None:
        f = event.finding
        patch = self.patch
        if f.trace and f.trace.get("steps") and (patch is None or self.session.extracted(patch)):
            self.spec.timeline.show(finding_timeline(f, self._replay(f, patch)))   # a few ms
            self.spec.active = "tab-trace"
        elif f.trace and f.trace.get("steps"):
            # a finding kept from an earlier session: its patch's rules come first
            self.spec.timeline.show_text("Extracting the rules, then replaying the trace…")
            self.spec.active = "tab-trace"
            self.run_worker(partial(self._replay_in_worker, f, patch), thread=True,
                            group="replay", exclusive=True, exit_on_error=False)
        else:
            self.spec.timeline.show_text("This finding has no trace (an extraction note).")
        if f.file and f.line:
            self._to_patch_message()
            self.message_pane.jump_to_line(f.file, "pre" if f.image == "pre" else "post", f.line)

    def _replay_in_worker(self, f: CheckFinding, patch: Patch | None) -> None:
        replay = self._replay(f, patch)
        self.app.call_from_thread(self.spec.timeline.show, finding_timeline(f, replay))

    def _replay(self, f: CheckFinding, patch: Patch | None) -> Replay | None:
        """The finding's trace run again under the patch's rules, as `mmreview check
        --replay` does; None when it names rules this session does not have."""
        # review.check (tree-sitter, the spec) loads on first use, not at start-up
        from review.check.replay import replay_trace
        rules = self.session.rules(patch)[0] if patch is not None else None
        if rules is None:
            return None
        try:
            return replay_trace(parse_trace(f.trace), patch, rules)
        except (InputError, TraceError):
            return None

    def _to_patch_message(self) -> None:
        """From a reply, to the message that carries its patch."""
        patch = self.patch
        where = self.session.message_for(patch) if patch is not None else None
        if where is not None and self.current is not where:
            self.go_to(where)

    # ------------------------------------------------------------------ fuzzing
    def action_fuzz(self, whole_series: bool) -> None:
        cover_series = self.session.series_of(self.current) if self.current is not None else None
        if whole_series and cover_series is not None and cover_series.cover is self.current:
            self.fuzzer.start(list(cover_series.patches))   # F on a cover letter
            return
        patch = self._need_patch()
        if patch is None:
            return
        if whole_series and patch.series is not None:
            self.fuzzer.start(list(patch.series.patches))
        else:
            self.fuzzer.start([patch])

    def action_stop_fuzz(self) -> None:
        self.fuzzer.stop()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.fuzzer.state_changed(event)

    def _findings_changed(self, patch: Patch) -> None:
        self.thread.refresh_labels()
        if self.patch is patch:
            self.show_spec(patch)
            if self.current is self.session.message_for(patch):
                self.show_message(self.current, keep_cursor=True)
