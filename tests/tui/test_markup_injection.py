"""Mail text is shown literally: Rich markup, ANSI escapes, control characters and
bidi overrides in any header, body, diff line or comment never style the screen,
move the cursor, or crash the app."""
from __future__ import annotations

from pathlib import Path

from tests.tui.conftest import screen_text
from tui.literal import printable

HOSTILE = "[bold red]PWNED[/] [link=https://evil.example]x[/link] [/]"
ANSI = "\x1b[31mRED\x1b[0m\x1b]0;owned-title\x07\x1b[2J"
BIDI = "access\u202e\u2066level"


def _mbox(tmp_path: Path) -> Path:
    patch = f"""From nobody Mon Nov 16 10:00:00 2026
From: "[b]Eve[/b] {HOSTILE}" <eve@example.org>
Date: Mon, 16 Nov 2026 10:00:00 +0000
Subject: [PATCH] mm: {HOSTILE}
Message-ID: <hostile-1@example.org>
Content-Type: text/plain; charset=utf-8

Body {HOSTILE} and {ANSI} and {BIDI}
carriage\roverwrite and a bell\x07.

Signed-off-by: Eve <eve@example.org>
---
diff --git a/mm/x.c b/mm/x.c
--- a/mm/x.c
+++ b/mm/x.c
@@ -1,3 +1,3 @@
 int a; /* {HOSTILE} */
-int b; /* {ANSI} */
+int c; /* [/] [bold]{BIDI} */
 int d;
-- 
2.47.0

From nobody Mon Nov 16 11:00:00 2026
From: Mallory <mallory@example.org>
Date: Mon, 16 Nov 2026 11:00:00 +0000
Subject: Re: [PATCH] mm: x
Message-ID: <hostile-2@example.org>
In-Reply-To: <hostile-1@example.org>
References: <hostile-1@example.org>
Content-Type: text/plain; charset=utf-8

> -int b; /* {ANSI} */
> +int c; /* [/] [bold]{BIDI} */

Comment {HOSTILE} {ANSI}
"""
    path = tmp_path / "hostile.mbox"
    path.write_bytes(patch.encode("utf-8"))
    return path


def test_printable_makes_controls_visible():
    assert printable(ANSI) == "␛[31mRED␛[0m␛]0;owned-title␇␛[2J"
    assert printable(BIDI) == "access<U+202E><U+2066>level"
    assert printable("a\rb\x00c\x7f") == "a␍b␀c␡"
    assert printable("[bold]x[/]") == "[bold]x[/]"


async def test_hostile_thread_is_shown_literally(make_app, tmp_path):
    app = make_app(_mbox(tmp_path))
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        seen = [screen_text(app)]
        for _ in range(2):
            await pilot.press("tab")
            seen.append(screen_text(app))
            await pilot.press("G")   # the message's end too
            seen.append(screen_text(app))
            await pilot.press("shift+tab", "j")
        text = "\n".join(seen)
        # the markup is on the screen as typed, not interpreted
        assert "[bold red]PWNED[/]" in text
        assert "[link=https://evil.example]x[/link]" in text
        assert "[b]Eve[/b]" in text
        # escapes and controls are visible symbols, never raw
        assert "␛[31mRED" in text and "\x1b" not in text and "\x07" not in text and "\r" not in text
        assert "<U+202E>" in text and "\u202e" not in text
        # Mallory's comment is anchored inline on the patch, still literal
        app.main.go_to(app.main.session.patches[0].message)
        await pilot.pause()
        rows = app.main.message_pane.rows
        comment = next(r for r in rows if r.kind == "comment")
        assert "Comment [bold red]PWNED[/]" in comment.text.plain
        # nothing in the rendered screen is styled by the mail: no segment of PWNED
        # is bold red, no link is made
        for strip in app.screen._compositor.render_strips():
            for seg in strip:
                if "PWNED" in seg.text and seg.style is not None:
                    assert not (seg.style.bold and seg.style.color and seg.style.color.name == "red")
                    assert not seg.style.link
