"""liblore's trailer reader behind review.inputs.bodyparts: the same answers, and no
time cubic in a hostile line's length."""
from __future__ import annotations

import time

import pytest
from liblore import utils as lu

from review.inputs import bodyparts
from review.inputs.load import from_mbox_bytes

LONG = "Message-Id: " + "<p1@example.org>" * 200          # 3,200 characters, no space
BODY = ("Looks right to me.\n\n" + LONG + "\n\nReviewed-by: Ada Reviewer <ada@example.org>\n"
        "Link: https://lore.kernel.org/r/20260105100000.1234-1-ada@example.org\n")


# each would take liblore from several seconds to minutes (the time grows as a cube)
@pytest.mark.parametrize("line", [LONG, "From:: [PATCH 3/2] a" * 150 + " <a@b.c>", "Acked-by: " + "@." * 300],
                         ids=["one-run", "short-words", "at-dot"])
@pytest.mark.parametrize("subject", ["Re: [PATCH] mm: frob", "[PATCH] mm: frob"], ids=["reply", "patch"])
def test_a_long_trailer_shaped_line_is_read_in_well_under_a_second(line, subject):
    body = BODY + line + "\n---\ndiff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"
    raw = ("From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: Ada Reviewer <ada@example.org>\n"
           f"Subject: {subject}\nMessage-Id: <r1@example.org>\n\n{body}").encode()
    start = time.perf_counter()
    coll = from_mbox_bytes(raw, "reply.mbox")
    assert time.perf_counter() - start < 1.0
    assert line in coll.messages[0].body


def test_the_split_is_liblores_with_the_long_line_kept_as_text():
    ours = bodyparts.split_body_parts(BODY)
    theirs = lu.split_body_parts(BODY.replace(LONG, "Message-Id: short"))
    assert ours.trailers == theirs.trailers == [
        ("Reviewed-by", "Ada Reviewer <ada@example.org>"),
        ("Link", "https://lore.kernel.org/r/20260105100000.1234-1-ada@example.org")]
    assert ours.message == theirs.message.replace("Message-Id: short", LONG)
    assert LONG in ours.message


def test_find_trailers_gives_back_the_long_line_among_the_others():
    trailers, others = bodyparts.find_trailers(LONG + "\nAcked-by: Ann <ann@example.org>", followup=True)
    assert trailers == [("Acked-by", "Ann <ann@example.org>")]
    assert LONG in others


def test_text_without_long_lines_is_handed_to_liblore_unchanged():
    text = "Fix it.\n\nSigned-off-by: Ann <ann@example.org>\n---\n x | 1 +\n"
    assert bodyparts.split_body_parts(text) == lu.split_body_parts(text)
