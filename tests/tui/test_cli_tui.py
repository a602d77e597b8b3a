"""`mmreview tui` and `mmreview demo` without a terminal: a clear one-line error or
the text demo, never a traceback."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mmreview.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=timeout)


def test_tui_bad_input_is_one_line_exit_2(tmp_path):
    junk = tmp_path / "junk"
    junk.write_bytes(b"\x00\x01binary")
    for path in (tmp_path / "missing.mbox", junk):
        p = _run("tui", str(path), "--drafts", str(tmp_path))
        assert p.returncode == 2
        assert p.stderr.count("\n") == 1 and str(path) in p.stderr and "Traceback" not in p.stderr


def test_tui_without_terminal_says_so(demo_mbox, tmp_path):
    p = _run("tui", str(demo_mbox), "--drafts", str(tmp_path))
    assert p.returncode == 2 and "needs a terminal" in p.stderr


def test_demo_without_terminal_prints_the_text_demo(tmp_path):
    p = _run("demo", "--drafts", str(tmp_path))
    assert p.returncode == 0, p.stderr[-500:]
    assert p.stdout.startswith("mmreview demo: no terminal, so no TUI")
    assert "no-foreign-data" in p.stdout


def test_tui_bad_identity_is_one_line_exit_2(demo_mbox, tmp_path):
    p = _run("tui", str(demo_mbox), "--drafts", str(tmp_path), "--identity", "bo")
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and "--identity 'bo'" in p.stderr and "Traceback" not in p.stderr
