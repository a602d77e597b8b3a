"""The fuzz worker: start, progress, findings as they come, cancel; a finding's
trace as a timeline and the jump to the implicated diff line."""
from __future__ import annotations

import time

from textual.worker import WorkerState

from spec.trace import parse_trace

from review.check.replay import replay_trace
from review.inputs.load import load
from tests.tui.conftest import fuzz_second_patch, screen_text, wait_until
from tui.widgets.rules.timeline import replayed, timeline_rows
from tui.widgets.status.fuzz_bar import FuzzBar
from tui.worker.runs import ChildRun


def _fuzz_workers(app):
    w = app.main.fuzz_worker
    return [w] if w is not None else []


async def test_progress_then_findings_then_cancel_keeps_them(make_app, demo_mbox, scripted_fuzz):
    app = make_app(demo_mbox)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("right_square_bracket", "right_square_bracket")   # v1 2/3
        await pilot.press("f")
        assert await wait_until(pilot, lambda: scripted_fuzz.started.is_set())
        bar = app.screen.query_one(FuzzBar)
        # the finding shows while the worker still runs
        assert await wait_until(pilot, lambda: app.main.session.findings_for(app.main.patch))
        assert not bar.has_class("idle")
        assert "1 finding" in screen_text(app)
        assert [w.state for w in _fuzz_workers(app)] == [WorkerState.RUNNING]
        assert "Findings (1)" in screen_text(app)
        # a second f while running does not start another run
        first = app.main.fuzz_worker
        await pilot.press("f")
        assert app.main.fuzz_worker is first
        assert len([w for w in app.workers if w.group == "fuzz"]) == 1
        await pilot.press("x")
        assert await wait_until(pilot, lambda: _fuzz_workers(app)[0].state == WorkerState.CANCELLED)
        await pilot.pause()
        assert bar.has_class("idle") and "stopped" in screen_text(app)
        assert [f.id for f in app.main.session.findings_for(app.main.patch)] == ["pin-coherence"]
        # the thread pane marks the patch
        assert "!" in str(app.main.thread.label_for(app.main.patch.message.thread))


async def test_completed_run_and_finding_timeline_jumps_to_line(make_app, demo_mbox, scripted_fuzz):
    app = make_app(demo_mbox)
    async with app.run_test(size=(120, 36)) as pilot:
        await fuzz_second_patch(pilot, scripted_fuzz)
        assert await wait_until(pilot, lambda: _fuzz_workers(app) and
                           _fuzz_workers(app)[0].state == WorkerState.SUCCESS)
        await pilot.pause()
        assert "fuzzing done: 1 finding" in screen_text(app)
        await pilot.press("2")            # findings tab, focused
        await pilot.press("enter")        # choose the finding
        await pilot.pause()
        main = app.main
        assert main.spec.active == "tab-trace"
        model = main.spec.timeline.model
        assert model.columns == ["#", "mm0", "mm1", "ref p0", "seen"]
        assert model.marked == 5
        assert "pin-coherence" in model.rows[5][-1].plain
        # the implicated line: the removed `return -EBUSY;` (pre-image line 21)
        row = main.message_pane.current_row
        assert row.kind == "diff" and row.line.old_lineno == 21 and row.line.kind == "removed"
        # and the finding is also marked inline in the diff
        assert any(r.kind == "finding" for r in main.message_pane.rows)


def test_timeline_columns_values_and_marked_step():
    steps = [
        {"op": "mmap", "mm": 0, "vpn": 0, "npages": 1},
        {"op": "write", "mm": 0, "vpn": 0, "value": 7},
        {"op": "fork", "mm": 0, "child": 1},
        {"op": "get", "mm": 1, "vpn": 0, "id": "g0"},
        {"op": "read", "mm": 1, "vpn": 0},
        {"op": "dma_read", "id": "g0"},
    ]
    results = [("ok", None)] * 4 + [("ok", 7), ("ok", 9)]
    m = timeline_rows(steps, results, violated=5, clause="no-foreign-data")
    assert m.columns == ["#", "mm0", "mm1", "ref g0", "seen"]
    cells = [[c.plain for c in row] for row in m.rows]
    assert cells[1][1] == "W[0]=7" and cells[1][2] == ""
    assert cells[2][1] == "fork → mm1" and cells[2][2] == "◀ born"
    assert cells[3][2] == "get [0] as g0" and cells[3][3] == "get mm1[0]"
    assert cells[4][2] == "R[0] → 7"
    assert cells[5][3] == "dev R → 9" and cells[5][4] == "✗ no-foreign-data"
    assert m.marked == 5


async def test_real_pipeline_finds_the_dropped_pin_check(make_app, demo_mbox):
    """v1 2/3 drops the -EBUSY for maybe-pinned pages: the real check (extraction +
    fuzzing, a short budget) reports something at rmap.h, through the worker."""
    app = make_app(demo_mbox, budget=1.5)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("right_square_bracket", "right_square_bracket")
        await pilot.press("f")
        assert await wait_until(pilot, lambda: _fuzz_workers(app) and
                           _fuzz_workers(app)[0].state in (WorkerState.SUCCESS, WorkerState.ERROR),
                           timeout=120)
        assert _fuzz_workers(app)[0].state == WorkerState.SUCCESS, _fuzz_workers(app)[0].error
        found = app.main.session.findings_for(app.main.patch)
        failing = [f for f in found if f.severity in ("error", "warning")]
        assert failing and all(f.file == "include/linux/rmap.h" for f in failing)
        assert failing[0].trace and failing[0].trace["steps"]
        # every failing finding replays (spec.run) to a marked step on the timeline
        patch = app.main.patch
        rules, _ = app.main.session.rules(patch)
        for f in failing:
            results, step, _other = replayed(f, replay_trace(parse_trace(f.trace), patch, rules))
            assert results is not None and step is not None, f.id
            assert len(results) == len(f.trace["steps"]) and 0 <= step < len(results)


def test_child_process_run_stops_on_request_and_keeps_findings(demo_mbox):
    """The real fuzz child (tui.worker.child): progress arrives, a stop request ends a
    long run early (SIGTERM), and the result still comes back."""
    collection = load(str(demo_mbox))
    patch = collection.patches[1]                   # v1 2/3
    progress: list = []
    run = ChildRun(patch, source=str(demo_mbox), budget=60.0,
                   on_progress=progress.append, should_stop=lambda: len(progress) >= 1)
    t0 = time.monotonic()
    result = run.run()
    assert run.stopped
    assert time.monotonic() - t0 < 45                # far less than the 60 s budget
    assert progress and progress[0].total == 60.0
    assert result.patch.subject == patch.title


async def test_F_on_a_cover_letter_fuzzes_each_patch_of_its_series(make_app, demo_mbox, scripted_fuzz):
    app = make_app(demo_mbox)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        main = app.main
        assert main.current is main.session.collection.series[0].cover
        scripted_fuzz.release.set()
        await pilot.press("F")
        assert await wait_until(pilot, lambda: main.fuzz_worker.state == WorkerState.SUCCESS)
        series = main.session.collection.series[0]
        assert all(main.session.findings_for(p) for p in series.patches)
        assert not any(main.session.findings_for(p) for p in main.session.collection.series[1].patches)
