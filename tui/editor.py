"""Text edited in the reviewer's own editor ($VISUAL, else $EDITOR, else vi), with
the app suspended while it runs, as mutt and git do.

The text goes through a temporary file; what the editor leaves there comes back.
"""
from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path

from textual.app import App, SuspendNotSupported


class EditorError(Exception):
    """The editor could not run or failed: one line saying which and why."""


def editor_command() -> list[str]:
    return shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")


def _run(cmd: list[str]) -> int:
    try:
        return subprocess.run(cmd).returncode
    except OSError as exc:
        raise EditorError(f"{cmd[0]}: {exc.strerror or exc}") from exc


def edit(app: App, text: str, suffix: str = ".txt") -> str:
    """`text` after the reviewer edited it. EditorError if the editor is missing or
    exits with a failure (then nothing the editor did is taken)."""
    cmd = editor_command()
    fd, name = tempfile.mkstemp(prefix="mmreview-", suffix=suffix)
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        try:
            with app.suspend():
                code = _run(cmd + [str(path)])
        except SuspendNotSupported:     # no terminal to hand over (headless): run as is
            code = _run(cmd + [str(path)])
        if code != 0:
            raise EditorError(f"{shlex.join(cmd)} exited with status {code}; text unchanged")
        return path.read_text(encoding="utf-8", errors="replace")
    finally:
        path.unlink(missing_ok=True)
