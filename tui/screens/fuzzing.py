"""Fuzzing from the review screen: the background worker that runs each patch's
check in a child process (tui.worker.analysis.ChildRun), its progress, cancellation and
findings. A mixin of MainScreen, kept apart to keep each module small."""
from __future__ import annotations

from textual import work
from textual.worker import Worker, WorkerState, get_current_worker

from review.model import Patch, patch_key
from tui.worker import analysis
from tui.literal import printable
from tui.widgets.status.fuzz_bar import FuzzBar


class FuzzingMixin:
    def action_fuzz(self, whole_series: bool) -> None:
        w = self.fuzz_worker
        if w is not None and w.state in (WorkerState.PENDING, WorkerState.RUNNING):
            self.notify("Already fuzzing: x stops it.", timeout=3)
            return
        cover_series = self.session.series_of(self.current) if self.current is not None else None
        if whole_series and cover_series is not None and cover_series.cover is self.current:
            self.fuzz_worker = self.fuzz(list(cover_series.patches))   # F on a cover letter
            return
        patch = self._need_patch()
        if patch is None:
            return
        if whole_series and patch.series is not None:
            patches = [p for p in patch.series.patches]
        else:
            patches = [patch]
        self.fuzz_worker = self.fuzz(patches)

    @work(thread=True, group="fuzz", exclusive=True, exit_on_error=False)
    def fuzz(self, patches: list[Patch]) -> int:
        worker = get_current_worker()
        found = 0
        for i, patch in enumerate(patches, 1):
            if worker.is_cancelled:
                break
            key = patch_key(patch)
            rules = self.session.extractions.get(key)
            if rules is None or isinstance(rules, Exception):
                try:
                    rules = analysis.extract(patch, self.app.kernel_tree)
                except Exception as exc:
                    self.app.call_from_thread(self.notify, f"{patch.label}: extraction failed: {exc}",
                                              severity="error")
                    continue
                self.session.extractions[key] = rules
            label = f"{patch.label} ({i}/{len(patches)})"

            def progress(p: analysis.Progress, label=label, patch=patch) -> None:
                self.app.call_from_thread(self._on_progress, patch, label, p)

            source = self.session.collection.source
            run = analysis.runner_for(source)(
                patch, rules, index=patch.counter, total=patch.expected, source=source,
                repo=self.app.repo, tree=self.app.kernel_tree, budget=self.app.budget,
                on_progress=progress, should_stop=lambda: worker.is_cancelled)
            result = run.run()
            found += len(result.findings)
            self.app.call_from_thread(self._on_result, patch, result, run.stopped)
        return found

    def _on_progress(self, patch: Patch, label: str, p: analysis.Progress) -> None:
        self.query_one(FuzzBar).running(label, p.done, p.total, len(p.findings))
        known = self.session.findings.get(patch_key(patch), [])
        if len(p.findings) > len(known):
            self.session.findings[patch_key(patch)] = list(p.findings)
            self._findings_changed(patch)

    def _on_result(self, patch: Patch, result, stopped: bool) -> None:
        self.session.findings[patch_key(patch)] = list(result.findings)
        if not stopped:
            self.session.results[patch_key(patch)] = result
        self._findings_changed(patch)

    def _findings_changed(self, patch: Patch) -> None:
        self.thread.refresh_labels()
        if self.patch is patch:
            self.show_spec(patch)
            if self.current is self.session.message_for(patch):
                self.show_message(self.current, keep_cursor=True)

    def action_stop_fuzz(self) -> None:
        w = self.fuzz_worker
        if w is None or w.state not in (WorkerState.PENDING, WorkerState.RUNNING):
            self.notify("Nothing is being fuzzed.", timeout=2)
            return
        w.cancel()
        self.notify("Stopping: findings so far are kept.", timeout=2)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "fuzz":
            return
        bar = self.query_one(FuzzBar)
        if event.state == WorkerState.SUCCESS:
            n = event.worker.result or 0
            bar.idle(f"fuzzing done: {n} finding{'s' if n != 1 else ''} · 2 shows them")
        elif event.state == WorkerState.CANCELLED:
            bar.idle("fuzzing stopped · findings so far are kept · f starts again")
        elif event.state == WorkerState.ERROR:
            bar.idle(f"fuzzing failed: {printable(str(event.worker.error))}")



def _results_from_steps(steps: list[str], n: int) -> list | None:
    """(status, value) per step from check's readable steps (`read mm=0 vpn=0 -> 7`)."""
    if len(steps) != n:
        return None
    out = []
    for s in steps:
        if " -> " not in s:
            out.append(("ok", None))
            continue
        tail = s.rsplit(" -> ", 1)[1].strip()
        try:
            out.append(("ok", int(tail)))
        except ValueError:
            out.append((tail, None))
    return out
