"""The TUI's window on review.check.run: the same extraction and the same per-patch
check the CLI runs (`mmreview extract`, `mmreview check`), driven from a worker
thread with progress, cancellation and findings reported as they appear.

Nothing here decides anything about a patch: rules come from review.check.run
.extract_patch, findings from review.check.run.PatchChecker with review.fuzz.search.search.
"""
from __future__ import annotations

import inspect
import time
from dataclasses import dataclass
from typing import Callable

from rich.text import Text

from review.finding_ids import FINDING_IDS
from review.model import Patch
from tui.literal import printable


@dataclass
class Progress:
    patch: Patch
    done: float          # seconds spent (or examples run)
    total: float         # the budget
    findings: list       # report Findings so far for this patch
    label: str = ""


def extract(patch: Patch, tree: str | None = None):
    """review.extract.rules.PatchRules of one patch, as `mmreview extract` gives it, or raises."""
    from review.extract.rules import extract_patch
    return extract_patch(patch, tree)


def _prov_target(prov) -> tuple[str, str, int] | None:
    if prov is None or not getattr(prov, "file", "") or not getattr(prov, "line", 0):
        return None
    return (prov.file, getattr(prov, "image", "post"), int(prov.line))


def rules_rows(rules, check_rules_text: Callable | None = None) -> list[tuple[Text, tuple | None]]:
    """The spec pane's Rules tab: bound functions, then per image the extracted
    decisions and assertions with their source line, then unmodelled atoms and
    partial functions. Each row may carry a (file, side, line) to jump to."""
    rows: list[tuple[Text, tuple | None]] = []

    def head(s: str) -> None:
        rows.append((Text(s, style="bold underline"), None))

    head("Bound functions")
    for b in rules.bound or ["(none: this patch touches no bound function)"]:
        rows.append((Text("  " + printable(b)), None))
    if rules.unbound:
        rows.append((Text("  not bound: " + printable(", ".join(rules.unbound)), style="dim"), None))
    for image, label in (("pre", "Before (pre-image)"), ("post", "After (post-image)")):
        img = getattr(rules, image)
        head(label)
        if not img.decisions and not img.assertions:
            rows.append((Text("  (no rule)", style="dim"), None))
        for d in img.decisions:
            rows.append((Text(f"  decision {d.point}", style="bold cyan"), None))
            for c in d.cases:
                prov = c.provenance
                t = Text("    ")
                if prov is not None and prov.line:
                    t.append(f"{printable(prov.file.rsplit('/', 1)[-1])}:{prov.line} ", style="dim")
                t.append(f"if {printable(str(c.guard))}")
                t.append(f" → {c.outcome}", style="bold")
                if prov is not None and prov.text:
                    t.append(f"\n      {printable(prov.text.strip())}", style="dim italic")
                rows.append((t, _prov_target(prov)))
            if d.default:
                rows.append((Text(f"    otherwise → {d.default}", style="bold"), None))
        for a in img.assertions:
            prov = a.provenance
            t = Text("  ")
            t.append(f"{a.macro} ", style="bold magenta")
            t.append(f"at {a.primitive}", style="magenta")
            if prov is not None and prov.line:
                t.append(f"  {printable(prov.file.rsplit('/', 1)[-1])}:{prov.line}", style="dim")
                if prov.function:
                    t.append(f" {printable(prov.function)}", style="dim")
            t.append(f"\n    {printable(str(a.condition))}")
            rows.append((t, _prov_target(prov)))
    if rules.unmodelled:
        head("Unmodelled (explored both ways)")
        for atom, file, line, image in rules.unmodelled:
            rows.append((Text(f"  {printable(atom)}  {printable(file)}:{line} ({image})", style="yellow"),
                         (file, image, int(line)) if line else None))
    if rules.partial:
        head("Partial (from hunks only)")
        for function, file, line, why in rules.partial:
            rows.append((Text(f"  {printable(function)}: {printable(why)}", style="dim"),
                         (file, "post", int(line)) if line else None))
    for w in getattr(rules, "warnings", []) or []:
        rows.append((Text("⚠ " + printable(w), style="yellow"), None))
    return rows


class PatchRun:
    """One patch's check, as `mmreview check` runs it, observable and stoppable.

    `on_progress(Progress)` is called from the worker thread (callers marshal it to
    the UI); `should_stop()` is polled by the fuzzer between examples."""

    def __init__(self, patch: Patch, rules, *, index: int = 1, total: int = 1, source: str = "",
                 budget: float | None = None, max_examples: int | None = None, seed: int = 0,
                 on_progress: Callable[[Progress], None] | None = None,
                 should_stop: Callable[[], bool] | None = None, **_kw) -> None:
        from review.check import run as check
        self.check = check
        self.patch = patch
        self.rules = rules
        self.opts = check.Options(seed=seed)
        if budget is not None:
            self.opts.budget = budget
        if max_examples is not None:
            self.opts.max_examples = max_examples
        self.ref = check._patch_ref(patch, index, total, source)
        self.on_progress = on_progress or (lambda p: None)
        self.should_stop = should_stop or (lambda: False)
        self.checker = None
        self.t0 = 0.0
        self.stopped = False

    def _progress(self, *_a, **_k) -> None:
        findings = list(self.checker.result.findings) if self.checker is not None else []
        self.on_progress(Progress(self.patch, time.monotonic() - self.t0, self.opts.budget, findings))

    def _stop(self) -> bool:
        if self.should_stop():
            self.stopped = True
        return self.stopped

    def _search(self, *args, **kw):
        from review.fuzz.search import search
        params = inspect.signature(search).parameters
        if "on_progress" in params:
            kw["on_progress"] = self._progress
        if "should_stop" in params:
            kw["should_stop"] = self._stop
        if self._stop():
            return []
        self._progress()
        got = search(*args, **kw)
        return got

    def run(self):
        """The PatchResult, as `mmreview check` would report it for this patch."""
        from spec.presets import PRESETS
        self.t0 = time.monotonic()
        job = self.check.PatchJob(self.ref, self.patch, self.rules, None, "")
        self.checker = self.check.PatchChecker(job, self.opts, PRESETS, self._search)
        result = self.checker.run()
        self._progress()
        return result


# finding id -> the side a difference is shown against ("pre" or "reference")
DIFFERENTIAL_IDS = {f.id: f.compared_with for f in FINDING_IDS.values() if f.compared_with}


def replay(finding, rules) -> tuple[list | None, int | None, list | None]:
    """Replay a finding's trace under the rule sets it names (as `mmreview check
    --replay` does): (results per step as (status, value), the step where the clause
    broke or the two sides first differ, the other side's results for a difference).
    Anything unreadable gives (None, None, None): the timeline then shows the steps
    without values."""
    try:
        from spec.presets import PRESETS
        from spec.run import rules_for, run_trace
        from spec.trace import parse_trace
        trace = parse_trace(finding.trace)
        ref, _, rest = trace.ruleset.partition("+")
        image = rest.partition("@")[0]
        base = PRESETS[ref]
        sets = {ref: base}
        if rules is not None:
            for img in ("pre", "post"):
                sets[f"{ref}+{img}"] = rules.overlay(base, img, name=f"{ref}+{img}")
        own = f"{ref}+{image}" if image else ref
        report = run_trace(trace, rules_for(trace, own, presets=sets))
        results = [(r.status, r.value) for r in report.results]
        other_side = DIFFERENTIAL_IDS.get(getattr(finding, "id", ""))
        if other_side is None:
            steps = [v.step for v in report.violations if v.id == finding.id]
            return results, (steps[0] if steps else None), None
        other_name = ref if other_side == "reference" else f"{ref}+pre"
        other = run_trace(trace, rules_for(trace, other_name, presets=sets))
        theirs = [(r.status, r.value) for r in other.results]
        differ = next((i for i, (a, b) in enumerate(zip(results, theirs)) if a != b), None)
        return results, differ, theirs
    except Exception:
        return None, None, None


class ChildRun:
    """PatchRun in a child process (tui.worker.child): same interface, same results,
    but the fuzzer's CPU time does not stall the TUI (the GIL). Stopping sends
    SIGTERM; the child reports what it found so far and exits."""

    def __init__(self, patch: Patch, rules, *, source: str, repo: str | None = None,
                 tree: str | None = None, budget: float | None = None, seed: int = 0,
                 on_progress: Callable[[Progress], None] | None = None,
                 should_stop: Callable[[], bool] | None = None, **_kw) -> None:
        self.patch, self.source, self.repo, self.tree = patch, source, repo, tree
        self.budget, self.seed = budget, seed
        self.on_progress = on_progress or (lambda p: None)
        self.should_stop = should_stop or (lambda: False)
        self.stopped = False

    def command(self) -> list[str]:
        import os
        import sys
        from review.model import patch_key
        source = os.path.abspath(self.source) if os.path.exists(self.source) else self.source
        cmd = [sys.executable, "-m", "tui.worker.child", source, patch_key(self.patch), "--seed", str(self.seed)]
        if self.repo:
            cmd += ["--repo", self.repo]
        if self.tree:
            cmd += ["--tree", self.tree]
        if self.budget is not None:
            cmd += ["--budget", str(self.budget)]
        return cmd

    def run(self):
        import json
        import select
        import signal
        import subprocess
        import tempfile
        from tui.worker.child import finding_from_json, result_from_json
        findings: list = []
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL,
                                    text=True, bufsize=1)
            try:
                final = None
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
                    msg = json.loads(line)
                    if "error" in msg:
                        raise RuntimeError(msg["error"])
                    if "findings" in msg:
                        findings = [finding_from_json(f) for f in msg["findings"]]
                    if "progress" in msg:
                        p = msg["progress"]
                        self.on_progress(Progress(self.patch, p["done"], p["total"], list(findings)))
                    if "result" in msg:
                        final = msg
                proc.wait(timeout=10)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            if final is None:
                err.seek(0)
                tail = err.read().decode("utf-8", "replace").strip().splitlines()[-1:]
                raise RuntimeError(f"the fuzz process ended without a result ({tail[0] if tail else proc.returncode})")
        self.stopped = self.stopped or bool(final.get("stopped"))
        return result_from_json(final["result"])


def runner_for(source: str):
    """The child process when the input can be read again by path, msgid or range;
    in-process otherwise (stdin)."""
    return PatchRun if source == "-" else Runner


Runner = ChildRun
