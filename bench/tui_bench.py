"""TUI benchmarks. Prints numbers; asserts nothing.

1. shell to first screen: `mmreview tui <thread>` started in a pseudo-terminal,
   timed until the first frame shows the thread pane and the cover letter
   (target < 1.5 s), on the real thread when present, else on the demo thread.
2. key latency, idle and while `F` fuzzes the series of the second patch in the
   background: each key (j / k) timed in a pseudo-terminal from the write to the
   last byte of the screen update it causes, and through Textual's pilot (headless)
   from the press until the app has handled it and refreshed (target < 50 ms at
   the 95th percentile). On the real thread when present, else on the demo thread;
   `--repeat` runs it several times and reports the spread, since the machine is
   shared.

    .venv/bin/python bench/tui_bench.py [--runs N] [--keys N] [--repeat N]
        [--input MBOX] [--size COLSxROWS] [--no-first-screen]
"""
from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import pty
import re
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_util import REAL_THREAD  # noqa: E402  (after the path set-up above)
from review.inputs.load import load  # noqa: E402
from review.reviewer.state import ReviewState  # noqa: E402
from tui.app import MMReviewApp  # noqa: E402

DEMO = ROOT / "fixtures" / "demo" / "anon-excl-cleanups.mbox"
ANSI = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07]*\x07|[()][A-Z0-9]|[=>NOPc78])")


def first_screen(source: Path, drafts: str, timeout: float = 30.0) -> float:
    t0 = time.perf_counter()
    proc, master = _spawn(["tui", str(source)], drafts, COLUMNS="120", LINES="40")
    seen = b""
    took = None
    try:
        while time.perf_counter() - t0 < timeout:
            r, _, _ = select.select([master], [], [], 0.05)
            if r:
                try:
                    seen += os.read(master, 1 << 16)
                except OSError:
                    break
                text = ANSI.sub(b"", seen)
                if b"Thread" in text and b"From:" in text and b"Rules" in text:
                    took = time.perf_counter() - t0
                    break
            if proc.poll() is not None:
                break
    finally:
        try:
            os.write(master, b"Q")
            proc.wait(timeout=5)
        except Exception:
            proc.kill()
            proc.wait()
        os.close(master)
    if took is None:
        raise RuntimeError(f"no first screen within {timeout}s: {ANSI.sub(b'', seen)[-400:]!r}")
    return took


def _spawn(args: list[str], drafts: str, size: tuple[int, int] = (120, 40), **env_extra: str):
    """`mmreview ARGS --drafts DRAFTS` in a COLSxROWS pseudo-terminal: (process, master fd)."""
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    env = dict(os.environ, TERM="xterm-256color", **env_extra,
               MMREVIEW_IDENTITY="Bench <bench@example.org>")
    proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "mmreview"), *args, "--drafts", drafts],
                            stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    return proc, master


def _drain(master: int, quiet: float = 0.03, limit: float = 5.0) -> tuple[bytes, float]:
    """Read until the terminal has been quiet for `quiet` s; (bytes, time of last byte)."""
    out, last, t0 = b"", time.perf_counter(), time.perf_counter()
    while time.perf_counter() - t0 < limit:
        r, _, _ = select.select([master], [], [], quiet)
        if not r:
            if out:
                break
            continue
        try:
            out += os.read(master, 1 << 16)
        except OSError:
            break
        last = time.perf_counter()
    return out, last


def pty_key_latency(keys: int, drafts: str, source: Path = DEMO,
                    size: tuple[int, int] = (120, 40)) -> tuple[list[float], list[float]]:
    """In a real pseudo-terminal: time from writing a key to the last byte of the
    screen update it causes (the whole path: driver, handler, render, output).
    First with nothing running, then while `F` fuzzes the series."""
    proc, master = _spawn(["tui", str(source)], drafts, size,
                          COLUMNS=str(size[0]), LINES=str(size[1]))
    try:
        deadline = time.perf_counter() + 30
        seen = b""
        while b"Rules" not in ANSI.sub(b"", seen) and time.perf_counter() < deadline:
            seen += _drain(master, 0.2)[0]
        os.write(master, b"]]")
        _drain(master, 0.3)
        idle = _time_keys(master, keys)
        os.write(master, b"F")
        _drain(master, 0.3)
        busy = _time_keys(master, keys)
        return idle, busy
    finally:
        os.write(master, b"xQ")
        _quit(proc, master)


def _quit(proc, master: int) -> None:
    """Wait for the app to exit, reading what it writes meanwhile (a full terminal
    buffer would keep it from writing its last screen, and from exiting)."""
    deadline = time.perf_counter() + 15
    while proc.poll() is None and time.perf_counter() < deadline:
        _drain(master, 0.05, 0.5)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    os.close(master)


def _time_keys(master: int, keys: int) -> list[float]:
    """`keys` presses of j and k in turn, each timed to the last byte of the screen
    update it causes."""
    times = []
    for i in range(keys):
        t = time.perf_counter()
        os.write(master, b"j" if i % 2 == 0 else b"k")
        out, last = _drain(master)
        if out:
            times.append(last - t)
    return times


async def key_latency(keys: int, budget: float, source: Path = DEMO,
                      size: tuple[int, int] = (120, 40)) -> tuple[list[float], ...]:
    os.environ.setdefault("MMREVIEW_IDENTITY", "Bench <bench@example.org>")
    drafts = tempfile.mkdtemp(prefix="mmreview-bench-")
    app = MMReviewApp(load(str(source)), ReviewState.open(str(source), directory=drafts,
                                                          identity="Bench <bench@example.org>"),
                      budget=budget)
    idle, busy, lines = [], [], []
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("right_square_bracket", "right_square_bracket")
        for i in range(keys):                      # baseline: nothing running
            t = time.perf_counter()
            await pilot.press("j" if i % 2 == 0 else "k")
            await pilot.pause()
            idle.append(time.perf_counter() - t)
        await pilot.press("F")                     # the whole series: a longer run
        main = app.main
        handler, noop = [], []
        # round robin while the fuzzer runs: j/k through the pilot, the same key's
        # handler alone, and an unbound key (the harness's own round trip)
        while main.fuzz_worker is not None and not main.fuzz_worker.is_finished and len(busy) < keys:
            t = time.perf_counter()
            await pilot.press("j" if len(busy) % 2 == 0 else "k")
            await pilot.pause()
            busy.append(time.perf_counter() - t)
            t = time.perf_counter()
            main.action_step_message(1 if len(handler) % 2 == 0 else -1)
            handler.append(time.perf_counter() - t)
            await pilot.pause()
            t = time.perf_counter()
            await pilot.press("f12")
            await pilot.pause()
            noop.append(time.perf_counter() - t)
            t = time.perf_counter()
            await pilot.press("down" if len(lines) % 8 < 4 else "up")
            await pilot.pause()
            lines.append(time.perf_counter() - t)
        running = main.fuzz_worker is not None and not main.fuzz_worker.is_finished
        if running:
            main.fuzz_worker.cancel()
    return idle, busy, lines, handler, noop


def _p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * 0.95))]


def _ms(xs: list[float]) -> str:
    if not xs:
        return "n/a"
    return (f"median {statistics.median(xs) * 1000:.1f} ms, p95 {_p95(xs) * 1000:.1f} ms, "
            f"max {max(xs) * 1000:.1f} ms (n={len(xs)})")


def _spread(name: str, runs: list[list[float]]) -> str:
    """One line over repeated runs: the range of their medians and of their p95s."""
    runs = [r for r in runs if r]
    if not runs:
        return f"{name}: n/a"
    med = [statistics.median(r) * 1000 for r in runs]
    p95 = [_p95(r) * 1000 for r in runs]
    return (f"{name} over {len(runs)} runs: median {min(med):.1f}-{max(med):.1f} ms, "
            f"p95 {min(p95):.1f}-{max(p95):.1f} ms (target p95 < 50 ms)")


def _size(text: str) -> tuple[int, int]:
    cols, _, rows = text.partition("x")
    return int(cols), int(rows)


def _latency_runs(args, source: Path) -> dict[str, list[list[float]]]:
    """Each repeat's key latencies, by what was measured."""
    runs: dict[str, list[list[float]]] = {}
    for n in range(args.repeat):
        with tempfile.TemporaryDirectory() as drafts:
            p_idle, p_busy = pty_key_latency(args.keys, drafts, source, args.size)
        idle, busy, lines, handler, noop = asyncio.run(key_latency(args.keys, args.budget, source,
                                                                   args.size))
        measured = {"pty j/k idle": p_idle, "pty j/k during F": p_busy,
                    "pilot j/k idle": idle, "pilot j/k during F": busy,
                    "pilot up/down during F": lines, "j/k handler alone during F": handler,
                    "pilot round trip, unbound key": noop}
        print(f"run {n + 1} (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores):")
        for name, xs in measured.items():
            print(f"  {name:32} {_ms(xs)}")
            runs.setdefault(name, []).append(xs)
    return runs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="first-screen runs")
    ap.add_argument("--keys", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=1, help="key latency runs")
    ap.add_argument("--budget", type=float, default=20.0, help="fuzz budget for the latency run")
    ap.add_argument("--input", type=Path, help="thread for the key latency runs "
                    "(default: the real thread when present, else the demo)")
    ap.add_argument("--size", type=_size, default=(120, 40), help="terminal size, e.g. 200x50")
    ap.add_argument("--no-first-screen", action="store_true")
    args = ap.parse_args()
    source = REAL_THREAD if REAL_THREAD.is_file() else DEMO
    if not args.no_first_screen:
        with tempfile.TemporaryDirectory() as drafts:
            times = [first_screen(source, drafts) for _ in range(args.runs)]
        print(f"tui first screen ({source.name}, 120x40 pty): median {statistics.median(times):.2f} s, "
              f"best {min(times):.2f} s, worst {max(times):.2f} s over {args.runs} runs (target < 1.5 s)")
    latency_source = args.input or source
    print(f"key latency on {latency_source.name} at {args.size[0]}x{args.size[1]}:")
    runs = _latency_runs(args, latency_source)
    for name, xs in runs.items():
        print(_spread(name, xs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
