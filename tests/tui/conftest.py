"""Helpers for the TUI tests: the demo thread opened with drafts in a temporary
directory and a fixed reviewer identity, and a scripted stand-in for the check
pipeline so that worker tests control timing (the real pipeline has its own test)."""
from __future__ import annotations

import asyncio
import inspect
import threading
from pathlib import Path

import pytest

from review.inputs.load import load
from review.report.types import PatchRef, PatchResult
from review.reviewer.state import ReviewState
from tui.app import MMReviewApp
from tui.worker import runs
from tui.worker.protocol import Progress
from tests.conftest import PIN_STEPS, PIN_TRACE

IDENTITY = "Rita Reviewer <rita@example.org>"


@pytest.fixture
def drafts(tmp_path: Path) -> Path:
    d = tmp_path / "drafts"
    d.mkdir()
    return d


@pytest.fixture
def make_app(drafts: Path, monkeypatch):
    """make_app(source=demo) -> MMReviewApp with drafts under tmp and a fixed identity."""
    monkeypatch.setenv("MMREVIEW_IDENTITY", IDENTITY)
    monkeypatch.chdir(drafts.parent)

    def make(source: Path | str, *, directory: Path | None = None, **kw):
        source = str(source)
        collection = load(source)
        state = ReviewState.open(source, directory=directory or drafts, identity=IDENTITY)
        return MMReviewApp(collection, state, **kw)
    return make


def screen_text(app) -> str:
    """What the terminal shows, as plain text."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


class FakeFinding:
    """Shaped like review.report.types.CheckFinding (what PatchChecker returns)."""
    def __init__(self, id: str, message: str, file: str, line: int, image: str = "post",
                 trace: dict | None = None, steps: list[str] | None = None, severity: str = "error"):
        self.id, self.message, self.file, self.line, self.image = id, message, file, line, image
        self.severity = severity
        self.trace = trace
        self.steps = steps or []
        self.detail = ""

    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in ("id", "message", "file", "line", "image", "trace",
                                              "steps", "severity", "detail")}


def pin_finding() -> FakeFinding:
    return FakeFinding("pin-coherence", "dma_read through p0 sees 1, the process holds 2",
                       "include/linux/rmap.h", 21, "pre", PIN_TRACE, PIN_STEPS)


class ScriptedRun:
    """Stands in for tui.worker.runs.ChildRun: reports progress, then a finding, then
    waits (so a test can cancel it) until released or stopped."""
    release = threading.Event()
    started = threading.Event()

    def __init__(self, patch, *, on_progress=None, should_stop=None, budget=None, **_kw):
        self.patch, self.on_progress, self.should_stop = patch, on_progress, should_stop
        self.stopped = False

    def run(self):
        found = []
        type(self).started.set()
        self.on_progress(Progress(self.patch, 1.0, 4.0, list(found)))
        found.append(pin_finding())
        self.on_progress(Progress(self.patch, 2.0, 4.0, list(found)))
        while not type(self).release.wait(0.02):
            if self.should_stop():
                self.stopped = True
                break
        result = PatchResult(PatchRef(1, 1, self.patch.title))
        result.findings = found
        return result


@pytest.fixture
def scripted_fuzz(monkeypatch):
    ScriptedRun.release = threading.Event()
    ScriptedRun.started = threading.Event()
    monkeypatch.setattr(runs, "Runner", ScriptedRun)
    return ScriptedRun



@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run `async def` tests (Textual pilot tests) on a fresh asyncio loop; the
    project does not depend on pytest-asyncio or anyio."""
    func = pyfuncitem.obj
    if not inspect.iscoroutinefunction(func):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(func(**{n: pyfuncitem.funcargs[n] for n in names}))
    return True


def notices(app) -> str:
    """The text of every notification (toast) the app has shown and still holds."""
    return "\n".join(n.message for n in app._notifications)


async def wait_until(pilot, cond, timeout: float = 10.0) -> bool:
    """Let the app run until `cond()` holds, at most `timeout` seconds."""
    for _ in range(int(timeout / 0.05)):
        if cond():
            return True
        await pilot.pause(0.05)
    return cond()


async def fuzz_second_patch(pilot, scripted_fuzz) -> None:
    """Go to the demo thread's second patch and start `f` with the scripted fuzzer
    allowed to finish."""
    await pilot.pause()
    await pilot.press("right_square_bracket", "right_square_bracket")
    scripted_fuzz.release.set()
    await pilot.press("f")
