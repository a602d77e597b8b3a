"""A subject that tries to drive the terminal (ESC ] 2 ; ... BEL sets the window
title, ESC [ 31 m turns text red, U+202E reverses it) is shown as visible symbols in
every view: the thread overview and its series row, the header, pane titles, the
message, the raw view, the range-diff, the findings, dialogs, the status line and
notifications; the pane titles and colours stay the app's. In a real terminal
(a pseudo-terminal here), none of it reaches the terminal raw."""
from __future__ import annotations

import os
import pty
import select
import struct
import subprocess
import sys
import time
from pathlib import Path

import fcntl
import termios

from review.model import patch_key
from tests.tui.conftest import FakeFinding, notices, screen_text
from tui.dialogs.pager import PagerScreen

ROOT = Path(__file__).resolve().parents[2]
TITLE = "\x1b]2;pwned-title\x07"
RED = "\x1b[31mred\x1b[0m"
RLO = "\u202eevil"
HOSTILE = f"mm: {TITLE} {RED} {RLO}"
RAW_BITS = ("\x1b", "\x07", "\u202e")


def _mail(n: int, version: int, subject: str, body: str, reply_to: str = "") -> str:
    threading = f"In-Reply-To: <{reply_to}>\nReferences: <{reply_to}>\n" if reply_to else ""
    return (f"From eve@example.org Mon Nov 16 10:00:0{n} 2026\nFrom: Eve <eve@example.org>\n"
            f"To: linux-mm@kvack.example.org\nDate: Mon, 16 Nov 2026 10:00:0{n} +0000\n"
            f"Subject: {subject}\nMessage-ID: <v{version}-{n}@example.org>\n{threading}"
            "Content-Type: text/plain; charset=utf-8\n\n" + body + "\n")


def _patch_body(value: int) -> str:
    return (f"Set {RED} to {value}.\n\nSigned-off-by: Eve <eve@example.org>\n---\n"
            "diff --git a/mm/x.c b/mm/x.c\n--- a/mm/x.c\n+++ b/mm/x.c\n@@ -1,3 +1,3 @@\n int a;\n"
            f"-int b = {value - 1};\n+int b = {value}; /* {TITLE} */\n int d;\n")


def hostile_mbox(tmp_path: Path) -> Path:
    """Two versions of a one-patch series with a cover letter, titles hostile."""
    mails = []
    for v in (1, 2):
        cover = f"v{v}-0@example.org"
        mails.append(_mail(0, v, f"[PATCH v{v} 0/1] {HOSTILE}",
                           f"Eve (1):\n  {HOSTILE}\n\n change-id: 20261116-hostile"))
        mails.append(_mail(1, v, f"[PATCH v{v} 1/1] {HOSTILE}", _patch_body(v + 1), cover))
    path = tmp_path / "hostile.mbox"
    path.write_text("\n".join(mails), encoding="utf-8")
    return path


def _no_raw(text: str) -> None:
    for bit in RAW_BITS:
        assert bit not in text, repr(bit)


def _red_from_mail(app) -> bool:
    for strip in app.screen._compositor.render_strips():
        for seg in strip:
            if "red" in seg.text and seg.style is not None and seg.style.color is not None \
                    and seg.style.color.name == "red":
                return True
    return False


async def test_hostile_subject_changes_no_title_and_no_colour(make_app, tmp_path):
    app = make_app(hostile_mbox(tmp_path))
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        main = app.main
        patch = main.session.collection.series[1].patches[0]
        main.session.findings[patch_key(patch)] = [
            FakeFinding("x", HOSTILE, "mm/x.c", 2), FakeFinding("n", HOSTILE, "", 0, severity="note")]
        seen = []
        for keys in ([], ["j"], ["j", "tab"], ["j"], ["2"], ["2", "down", "enter"]):
            await pilot.press(*keys)
            await pilot.pause()
            seen.append(screen_text(app))
            assert not _red_from_mail(app)
        for key in ("v", "D"):                      # raw view, range-diff
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, PagerScreen)
            seen.append(screen_text(app))
            await pilot.press("q")
        await pilot.press("o")                      # the reply dialog names the patch
        seen.append(screen_text(app))
        await pilot.press("escape", "slash", *"red", "enter")
        await pilot.pause()
        seen.append(screen_text(app))
        text = "\n".join(seen) + notices(app)
        _no_raw(text)
        assert "␛]2;pwned-title␇" in text and "␛[31mred␛[0m" in text and "<U+202E>evil" in text
        # the titles are the app's: the window's and each pane's
        assert app.title == "mmreview" and main.title is None
        assert main.thread.border_title == "Thread"
        assert str(main.message_pane.border_title).startswith("Message · ")
        _no_raw(str(main.sub_title) + str(main.message_pane.border_title) + str(main.message_pane.border_subtitle))
        series_row = main.thread.lines[0]
        assert series_row.entry is None and "␛]2;pwned-title␇" in main.thread._group_label(series_row.group).plain


def test_nothing_raw_reaches_a_real_terminal(tmp_path):
    """`mmreview tui` in a pseudo-terminal: the bytes it writes carry no sequence
    from the mail (Textual's own sequences set no window title)."""
    source = hostile_mbox(tmp_path)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", MMREVIEW_IDENTITY="Rita <rita@example.org>")
    proc = subprocess.Popen([sys.executable, "-m", "mmreview.cli", "tui", str(source), "--drafts",
                             str(tmp_path / "d")], stdin=slave, stdout=slave, stderr=slave, env=env,
                            cwd=ROOT, close_fds=True)
    os.close(slave)
    out = b""
    try:
        for keys in (b"", b"j", b"j", b"v", b"q", b"D", b"q"):
            if keys:
                os.write(master, keys)
            out += _drain(master, 2.0 if not keys else 0.6)
        os.write(master, b"Q")
        out += _drain(master, 1.0)
        proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert b"pwned-title" not in out or b"\xe2\x90\x9b]2;pwned-title" in out   # only as ␛]2;
    assert b"\x1b]2;" not in out and b"\x1b]0;" not in out
    assert b"\x1b[31mred" not in out and "\u202e".encode() not in out
    assert "␛[31mred".encode() in out


def _drain(fd: int, quiet: float) -> bytes:
    out, deadline = b"", time.monotonic() + 20
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], quiet)
        if not ready:
            break
        try:
            chunk = os.read(fd, 1 << 16)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out
