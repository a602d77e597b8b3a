"""One patch's check run from the TUI, observable and stoppable: the very check
`mmreview check` runs for each patch (review.check.run.check_patch), in this process
(PatchRun) or in a child process (ChildRun, tui/worker/child.py).

Both give the same PatchResult; `patch_run()` picks one. `on_progress(Progress)` is
called from the thread that runs them (callers marshal it to the UI); `should_stop()`
is polled between examples; `stopped` says whether it was asked to.
"""
from __future__ import annotations

import os
import select
import signal
import subprocess
import tempfile
import time
from typing import Callable

from review.check.options import Options
from review.check.patch import PatchJob
from review.check.run import check_patch, patch_ref
from review.errors import InputError
from review.extract.rules import PatchRules
from review.model import Patch, patch_key
from review.report.types import PatchResult
from tui.worker import protocol
from tui.worker.protocol import Progress


class PatchRun:
    """The check of `patch` whose extraction gave `rules`, in this process.

    hypothesis holds the GIL while it runs: the TUI uses this only when the input
    cannot be read again by a child (stdin); tui/worker/child.py uses it always."""

    def __init__(self, patch: Patch, rules: PatchRules, *, source: str = "",
                 budget: float | None = None, seed: int = 0,
                 on_progress: Callable[[Progress], None] | None = None,
                 should_stop: Callable[[], bool] | None = None) -> None:
        self.patch, self.rules = patch, rules
        self.opts = Options(seed=seed)
        if budget is not None:
            self.opts.budget = budget
        self.ref = patch_ref(patch, patch.counter, patch.expected, source)
        self.on_progress = on_progress or (lambda p: None)
        self.should_stop = should_stop or (lambda: False)
        self.stopped = False

    def _stop(self) -> bool:
        if self.should_stop():
            self.stopped = True
        return self.stopped

    def run(self) -> PatchResult:
        """The PatchResult, as `mmreview check` would report it for this patch."""
        t0 = time.monotonic()

        def progress(result: PatchResult) -> None:
            self.on_progress(Progress(self.patch, time.monotonic() - t0, self.opts.budget,
                                      list(result.findings)))

        progress(PatchResult(self.ref))   # started: the quick pass comes first
        job = PatchJob(self.ref, self.patch, self.rules, None, "")
        result = check_patch(job, self.opts, on_progress=progress, should_stop=self._stop)
        progress(result)
        return result


class ChildRun:
    """PatchRun in a child process (tui/worker/child.py): the same result, but the
    fuzzer's CPU time does not stall the TUI (the GIL). The child reads `source` again
    (with `repo`) and extracts the patch itself (with `tree`). Stopping sends SIGTERM;
    the child reports what it found so far and exits."""

    def __init__(self, patch: Patch, *, source: str, repo: str | None = None,
                 tree: str | None = None, budget: float | None = None, seed: int = 0,
                 on_progress: Callable[[Progress], None] | None = None,
                 should_stop: Callable[[], bool] | None = None) -> None:
        self.patch = patch
        source = os.path.abspath(source) if os.path.exists(source) else source
        self.command = protocol.command(source, patch_key(patch), seed=seed, repo=repo, tree=tree,
                                        budget=budget)
        self.on_progress = on_progress or (lambda p: None)
        self.should_stop = should_stop or (lambda: False)
        self.stopped = False

    def run(self) -> PatchResult:
        findings: list = []
        final: protocol.Update | None = None
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=err,
                                    stdin=subprocess.DEVNULL, text=True, bufsize=1)
            try:
                while True:
                    if self.should_stop() and not self.stopped:
                        self.stopped = True
                        proc.send_signal(signal.SIGTERM)
                    ready, _, _ = select.select([proc.stdout], [], [], 0.1)
                    if not ready:
                        if proc.poll() is not None:
                            break
                        continue
                    line = proc.stdout.readline()
                    if not line:
                        break
                    update = protocol.read(line)
                    if update.error:
                        raise InputError(update.error)
                    if update.findings is not None:
                        findings = update.findings
                    if update.done is not None:
                        self.on_progress(Progress(self.patch, update.done, update.total, list(findings)))
                    if update.result is not None:
                        final = update
                proc.wait(timeout=10)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            if final is None:
                err.seek(0)
                tail = err.read().decode("utf-8", "replace").strip().splitlines()[-1:]
                raise RuntimeError(f"the fuzz process ended without a result "
                                   f"({tail[0] if tail else proc.returncode})")
        self.stopped = self.stopped or final.stopped
        return final.result


def patch_run(patch: Patch, rules: PatchRules, *, source: str, repo: str | None, tree: str | None,
              budget: float | None, on_progress: Callable[[Progress], None],
              should_stop: Callable[[], bool]) -> PatchRun | ChildRun:
    """The check of `patch`: in the child process when the input can be read again
    by path, msgid or range; in this process otherwise (stdin)."""
    if source == "-":
        return PatchRun(patch, rules, source=source, budget=budget, on_progress=on_progress,
                        should_stop=should_stop)
    return Runner(patch, source=source, repo=repo, tree=tree, budget=budget, on_progress=on_progress,
                  should_stop=should_stop)


Runner = ChildRun   # tests put a scripted stand-in here
