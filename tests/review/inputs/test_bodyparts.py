"""liblore's trailer reader behind review.inputs.bodyparts: the same answers, and no
time cubic in a hostile line's length."""
from __future__ import annotations

import time

from liblore import utils as lu

from review.inputs import bodyparts
from review.inputs.load import from_mbox_bytes

LONG = "Message-Id: " + "<p1@example.org>" * 200          # 3,200 characters, no space
BODY = ("Looks right to me.\n\n" + LONG + "\n\nReviewed-by: Ada Reviewer <ada@example.org>\n"
        "Link: https://lore.kernel.org/r/20260105100000.1234-1-ada@example.org\n")


def test_a_long_trailer_shaped_line_in_a_reply_is_read_in_well_under_a_second():
    raw = ("From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: Ada Reviewer <ada@example.org>\n"
           "Subject: Re: [PATCH] mm: frob\nMessage-Id: <r1@example.org>\n\n" + BODY).encode()
    start = time.perf_counter()
    coll = from_mbox_bytes(raw, "reply.mbox")
    assert time.perf_counter() - start < 1.0
    assert LONG in coll.messages[0].body


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
