"""Fuzzing for the review screen: each chosen patch's check in a background worker
(in the fuzz child process, tui/worker/runs.py), its progress on the fuzz bar, its
findings into the session as they appear, and stopping on request."""
from __future__ import annotations

from functools import partial
from typing import Callable

from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from review.model import Patch, patch_key
from review.report.types import PatchResult
from tui.session import ReviewSession
from tui.widgets.status.fuzz_bar import FuzzBar
from tui.worker.protocol import Progress

GROUP = "fuzz"   # the worker group: one fuzz run at a time


class BackgroundFuzzer:
    """Runs the checks of a list of patches one after the other in one worker thread
    of `screen`. `on_findings(patch)` is called (on the UI thread) whenever the
    findings of `patch` in the session changed, so the screen can redraw them."""

    def __init__(self, screen: Screen, session: ReviewSession,
                 on_findings: Callable[[Patch], None]) -> None:
        self.screen = screen
        self.session = session
        self.on_findings = on_findings
        self.worker: Worker | None = None

    @property
    def busy(self) -> bool:
        return self.worker is not None and self.worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    def start(self, patches: list[Patch]) -> None:
        if self.busy:
            self.screen.notify("Already fuzzing: x stops it.", timeout=3)
            return
        self.worker = self.screen.run_worker(partial(self._check_all, patches), thread=True,
                                             group=GROUP, exclusive=True, exit_on_error=False)

    def stop(self) -> None:
        if not self.busy:
            self.screen.notify("Nothing is being fuzzed.", timeout=2)
            return
        self.worker.cancel()
        # the bar says so now: the child may take a moment to stop, and what it
        # reports meanwhile must not bring "fuzzing … x stops" back
        self.screen.query_one(FuzzBar).idle("fuzzing stopped · findings so far are kept · f starts again")
        self.screen.notify("Stopping: findings so far are kept.", timeout=2)

    def state_changed(self, event: Worker.StateChanged) -> None:
        """The screen's Worker.StateChanged handler passes them all here."""
        if event.worker.group != GROUP:
            return
        bar = self.screen.query_one(FuzzBar)
        if event.state == WorkerState.SUCCESS:
            n = event.worker.result or 0
            # n: errors and warnings (notes are counted in the Findings tab)
            bar.idle(f"fuzzing done: {n} finding{'s' if n != 1 else ''} · 2 shows them, ! the next")
        elif event.state == WorkerState.CANCELLED:
            bar.idle("fuzzing stopped · findings so far are kept · f starts again")
        elif event.state == WorkerState.ERROR:
            bar.idle(f"fuzzing failed: {event.worker.error}")

    # -- in the worker thread
    def _check_all(self, patches: list[Patch]) -> int:
        # review.check (tree-sitter, the spec, hypothesis) loads with the first run, not at start-up
        from tui.worker import runs
        worker = get_current_worker()
        app = self.screen.app
        found = 0
        for i, patch in enumerate(patches, 1):
            if worker.is_cancelled:
                break
            rules, error = self.session.rules(patch)
            if rules is None:
                app.call_from_thread(self.screen.notify, f"{patch.label}: extraction failed: {error}",
                                     severity="error")
                continue
            label = f"{patch.label} ({i}/{len(patches)})"
            source = self.session.collection.source
            run = runs.patch_run(patch, rules, source=source, repo=app.repo, tree=app.kernel_tree,
                                 budget=app.budget,
                                 on_progress=partial(self._progress_from_thread, patch, label),
                                 should_stop=lambda: worker.is_cancelled)
            result = run.run()
            found += sum(1 for f in result.findings if getattr(f, "severity", "warning") != "note")
            app.call_from_thread(self._result, patch, result, run.stopped)
        return found

    def _progress_from_thread(self, patch: Patch, label: str, p: Progress) -> None:
        self.screen.app.call_from_thread(self._progress, patch, label, p)

    # -- on the UI thread
    def _progress(self, patch: Patch, label: str, p: Progress) -> None:
        if self.busy:       # not after x: the bar already says it stopped
            serious = sum(1 for f in p.findings if getattr(f, "severity", "warning") != "note")
            self.screen.query_one(FuzzBar).running(label, p.done, p.total, serious,
                                                   len(p.findings) - serious)
        if len(p.findings) > len(self.session.findings_for(patch)):
            self.session.findings[patch_key(patch)] = list(p.findings)
            self.on_findings(patch)

    def _result(self, patch: Patch, result: PatchResult, stopped: bool) -> None:
        self.session.record(patch, result.findings, None if stopped else result)
        self.on_findings(patch)
