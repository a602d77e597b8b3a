"""A patch mail whose Subject and a diff line carry a bidi override, an OSC
window-title sequence and a CSI colour: no printer lets them reach the terminal raw
(`mmreview show`, `check` as text and JSON, `extract`, the TUI), and each shows them
escaped instead of dropping them."""
from __future__ import annotations

import asyncio
import email.message
import email.policy
import json
from pathlib import Path

import pytest

from mmreview.cli import main
from mmreview.commands.tui import open_app
from tests.tui.conftest import screen_text

HOSTILE = "\u202e\x1b]2;title\x07\x1b[31m"
RAW = ("\u202e", "\x1b", "\x07")
TITLE = f"mm/rmap: share {HOSTILE} pages"
ESCAPED = "<U+202E>\\x1b]2;title\\x07\\x1b[31m"      # text printers
PICTURED = "<U+202E>␛]2;title␇␛[31m"                 # the TUI

# fixtures/patches/0001 with its dropped check written anew; the added line ends in
# a comment carrying HOSTILE.
DIFF = f"""---
 include/linux/rmap.h | 5 ++---
 1 file changed, 2 insertions(+), 3 deletions(-)

diff --git a/include/linux/rmap.h b/include/linux/rmap.h
index ae51de7..d5aafee 100644
--- a/include/linux/rmap.h
+++ b/include/linux/rmap.h
@@ -17,10 +17,9 @@ static inline int page_try_dup_anon_rmap(struct page *page, bool compound,
 \tif (likely(!PageAnonExclusive(page)))
 \t\tgoto dup;
 
-\tif (likely(!is_device_private_page(page) &&
-\t\t   unlikely(page_needs_cow_for_dma(vma, page))))
-\t\treturn -EBUSY;
+\tif (unlikely(page_needs_cow_for_dma(vma, page)))
+\t\treturn -EBUSY; /* {HOSTILE} */
 
 \tClearPageAnonExclusive(page);
 dup:
 \t__page_dup_rmap(page, compound);
-- 
2.39.5
"""


@pytest.fixture
def hostile_mail(tmp_path: Path) -> Path:
    msg = email.message.EmailMessage(policy=email.policy.SMTP.clone(linesep="\n"))
    msg["From"] = "Ann Example <ann@example.org>"
    msg["Subject"] = f"[PATCH] {TITLE}"
    msg["Message-ID"] = "<hostile-text@example.org>"
    msg["Date"] = "Thu, 26 Nov 2026 02:32:30 +0000"
    msg.set_content("Device private pages need no check here.\n\n"
                    "Signed-off-by: Ann Example <ann@example.org>\n" + DIFF,
                    charset="utf-8", cte="8bit")
    path = tmp_path / "hostile.eml"
    path.write_bytes(msg.as_bytes())
    return path


def _run(capsys, *argv: str) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    for ch in RAW:
        assert ch not in out and ch not in err, (argv, repr(ch))
    return out


def test_show_text_and_json(capsys, hostile_mail):
    out = _run(capsys, "show", str(hostile_mail))
    assert f"[v1] mm/rmap: share {ESCAPED} pages" in out
    doc = json.loads(_run(capsys, "show", str(hostile_mail), "--format", "json"))
    assert doc["patches"][0]["title"] == TITLE     # escaped in the text, intact as data
    lines = [ln["text"] for f in doc["patches"][0]["files"] for h in f["hunks"] for ln in h["lines"]]
    assert f"\t\treturn -EBUSY; /* {HOSTILE} */" in lines


def test_check_text_and_json(capsys, hostile_mail, fixtures_dir, tmp_path):
    common = (str(hostile_mail), "--tree", str(fixtures_dir / "ctree"), "--budget", "0.5",
              "--max-examples", "50", "--out", str(tmp_path / "traces"))
    out = _run(capsys, "check", *common, "--format", "text")
    assert f"mm/rmap: share {ESCAPED} pages" in out
    doc = json.loads(_run(capsys, "check", *common, "--format", "json"))
    assert doc["patches"][0]["subject"] == TITLE


def test_extract_text_and_json(capsys, hostile_mail, fixtures_dir):
    tree = str(fixtures_dir / "ctree")
    out = _run(capsys, "extract", str(hostile_mail), "--tree", tree)
    assert f"[v1] mm/rmap: share {ESCAPED} pages" in out
    doc = json.loads(_run(capsys, "extract", str(hostile_mail), "--tree", tree, "--format", "json"))
    assert doc["patches"][0]["title"] == TITLE


async def _tui_views(path: Path, drafts: Path) -> tuple[list[str], list[str]]:
    """Screen text of the thread and message panes (headers and the diff), of the
    command palette listing the patch, and the titles of panes and header."""
    app = open_app(str(path), drafts=str(drafts))
    screens, titles = [], []
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        screens.append(screen_text(app))
        app.main.message_pane.focus()
        await pilot.press("G")                      # the diff's end: the hostile line
        await pilot.pause()
        screens.append(screen_text(app))
        titles += [app.main.message_pane.border_title, app.main.sub_title, app.sub_title]
        await pilot.press("ctrl+p", *"share")
        await pilot.pause(0.5)
        screens.append(screen_text(app))
    return screens, titles


def test_tui_screen_and_titles(hostile_mail, tmp_path, monkeypatch):
    monkeypatch.setenv("MMREVIEW_IDENTITY", "Rita Reviewer <rita@example.org>")
    screens, titles = asyncio.run(_tui_views(hostile_mail, tmp_path / "drafts"))
    for text in screens + titles:
        for ch in RAW:
            assert ch not in text, repr(ch)
    first, diff, palette = screens
    assert f"share {PICTURED} pages" in first                  # thread pane, Subject header
    assert f"return -EBUSY; /* {PICTURED} */" in diff
    assert f"Go to v1: mm/rmap: share {PICTURED}" in palette
    assert PICTURED in titles[1]                              # the header's subtitle
