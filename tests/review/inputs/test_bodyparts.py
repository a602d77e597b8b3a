"""liblore's trailer reader behind review.inputs.bodyparts: the same answers, and no
time cubic in a hostile line's length (liblore is never handed more than a bounded
work, counted as its time grows: the trailer-shaped lines' lengths cubed)."""
from __future__ import annotations

import pytest
from liblore import utils as lu

from review.inputs import bodyparts
from review.inputs.load import from_mbox_bytes

LONG = "Message-Id: " + "<p1@example.org>" * 200          # 3,200 characters, no space
BODY = ("Looks right to me.\n\n" + LONG + "\n\nReviewed-by: Ada Reviewer <ada@example.org>\n"
        "Link: https://lore.kernel.org/r/20260105100000.1234-1-ada@example.org\n")


def handed_to_liblore(monkeypatch) -> list[str]:
    """Every text liblore's trailer readers are given, from here on."""
    seen: list[str] = []
    for name in ("split_body_parts", "find_trailers"):
        real = getattr(lu, name)

        def spy(text, *args, _real=real, **kwargs):
            seen.append(text)
            return _real(text, *args, **kwargs)
        monkeypatch.setattr(lu, name, spy)
    return seen


def liblore_work(text: str) -> int:
    """What liblore's time on a text grows with: its trailer-shaped lines' lengths, cubed."""
    return sum(len(line) ** 3 for line in text.split("\n")
               if bodyparts._TRAILER_SHAPED.match(line))


# each would take liblore from several seconds to minutes (the time grows as a cube)
@pytest.mark.parametrize("line", [LONG, "From:: [PATCH 3/2] a" * 150 + " <a@b.c>", "Acked-by: " + "@." * 300,
                                  "\n".join(f"Note{i}: " + "ab" * 70 for i in range(400))],
                         ids=["one-run", "short-words", "at-dot", "many-shorter"])
@pytest.mark.parametrize("subject", ["Re: [PATCH] mm: frob", "[PATCH] mm: frob"], ids=["reply", "patch"])
def test_liblore_never_gets_more_than_a_bounded_work_and_the_text_is_kept(line, subject, monkeypatch):
    body = BODY + line + "\n---\ndiff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"
    raw = ("From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: Ada Reviewer <ada@example.org>\n"
           f"Subject: {subject}\nMessage-Id: <r1@example.org>\n\n{body}").encode()
    seen = handed_to_liblore(monkeypatch)
    coll = from_mbox_bytes(raw, "reply.mbox")
    assert seen and max(liblore_work(t) for t in seen) <= bodyparts.TRAILER_WORK
    assert liblore_work(line) > bodyparts.TRAILER_WORK   # it would have been more
    assert line in coll.messages[0].body


def test_within_the_work_the_longest_lines_are_hidden_first():
    junk = [f"Note{i}: " + "ab" * 70 for i in range(40)]
    text = "\n".join(junk + ["Reviewed-by: Ada Reviewer <ada@example.org>"])
    trailers, others = bodyparts.find_trailers(text, followup=False)
    assert ("Reviewed-by", "Ada Reviewer <ada@example.org>") in trailers
    assert all(j in others or any(j == f"{n}: {v}" for n, v in trailers) for j in junk)
    lines = text.split("\n")
    hidden = bodyparts._too_costly(lines)
    kept = "\n".join(line for i, line in enumerate(lines) if i not in hidden)
    assert 40 not in hidden and hidden      # the short real trailer stays
    assert liblore_work(kept) <= bodyparts.TRAILER_WORK < \
        liblore_work(kept) + len(lines[hidden[-1]]) ** 3   # no more hidden than needed


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
