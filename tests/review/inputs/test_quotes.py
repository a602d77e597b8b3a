"""Quoted replies anchored to hunk lines."""
from __future__ import annotations

from review.inputs.load import load
from review.inputs.patch import build_patch
from review.inputs.quotes import PatchIndex, _anchor, match_quote, split_reply, unquote

PATCH = """\
Body.

Signed-off-by: A <a@example.org>
---
diff --git a/mm/frob.c b/mm/frob.c
--- a/mm/frob.c
+++ b/mm/frob.c
@@ -10,9 +10,11 @@ int frob(struct folio *folio)
 {
 \tint ret;
 
-\tret = frob_old(folio);
+\tret = frob_new(folio);
+\tif (ret)
+\t\treturn ret;
 \tfolio_get(folio);
 \tfolio_lock(folio);
+\t}
 \treturn 0;
 }
diff --git a/mm/other.c b/mm/other.c
--- a/mm/other.c
+++ b/mm/other.c
@@ -1,3 +1,4 @@
 \tfolio_get(folio);
+\tfolio_mark_dirty(folio);
 \tfolio_lock(folio);
 \treturn 0;
"""


def idx():
    return PatchIndex.of(build_patch(PATCH, title="t", author=("A", "a@example.org")))


def anchor(lines):
    i = idx()
    return _anchor(match_quote(lines, i), i)


def test_unquote_depths():
    assert unquote("> +foo") == (1, "+foo")
    assert unquote(">> +foo") == (2, "+foo")
    assert unquote("> > +foo") == (2, "+foo")
    assert unquote(">  \tctx") == (1, " \tctx")
    assert unquote("plain") == (0, "plain")


def test_exact_span_on_added_lines():
    a = anchor(["+\tret = frob_new(folio);", "+\tif (ret)", "+\t\treturn ret;"])
    assert a.path == "mm/frob.c" and a.side == "post" and a.exact
    assert (a.first.new_lineno, a.line) == (13, 15) and a.quoted_lines == 3


def test_removed_line_anchors_on_the_pre_image():
    a = anchor(["-\tret = frob_old(folio);"])
    assert a.side == "pre" and a.line == 13 and a.last.new_lineno is None


def test_elided_context_bridged_but_inexact():
    a = anchor(["@@ -10,9 +10,11 @@ int frob(struct folio *folio)", "[...]", "+\tif (ret)", "+\t\treturn ret;"])
    assert a.line == 15 and a.first.text == "\tif (ret)" and not a.exact
    b = anchor(["+\tret = frob_new(folio);", "...", "+\t}"])
    assert b.line == 18 and b.first.new_lineno == 13 and not b.exact


def test_file_header_in_quote_chooses_the_file():
    # folio_get/folio_lock appear in both files; the +++ line decides
    a = anchor(["+++ b/mm/other.c", " \tfolio_get(folio);", "+\tfolio_mark_dirty(folio);"])
    assert a.path == "mm/other.c" and a.line == 2
    b = anchor([" \tfolio_get(folio);", " \tfolio_lock(folio);", "+\t}"])
    assert b.path == "mm/frob.c" and b.line == 18


def test_short_lines_alone_do_not_anchor():
    assert anchor(["+\t}"]) is None
    assert anchor(["", " {"]) is None
    assert anchor(["This is prose about folio_get(folio)."]) is None


def test_line_not_in_patch_is_ignored():
    a = anchor(["+\tsomething_else();", "+\tif (ret)"])
    assert a.line == 14 and a.quoted_lines == 1


def test_split_reply_skips_attribution_and_signature():
    body = ("On Mon, A wrote:\n> +\tif (ret)\n\nWhy?\n\n> +\t\treturn ret;\n>\n"
            "Fine.\n\nThanks,\nB\n-- \nsig\n")
    parts = split_reply(body)
    assert [(q, t) for q, t, _ in parts] == [
        ([(1, "+\tif (ret)")], "Why?"),
        ([(1, "+\t\treturn ret;"), (1, "")], "Fine.\n\nThanks,\nB"),
    ]
    assert parts[0][2] == 4  # body line of "Why?"


def test_fixture_review_with_elision_and_nested_answer(fixtures_dir):
    c = load(str(fixtures_dir / "mail" / "two-versions.mbox"))
    bo = c.message("bo-review-1@example.net")
    general, specific = bo.comments
    assert general.anchor is None and general.text.startswith("Right, that is what the flag is for.")
    a = specific.anchor
    assert a.patch is c.series[0].patches[0] and a.path == "mm/frob.c"
    assert (a.first.new_lineno, a.line, a.side, a.exact) == (8, 9, "post", False)
    assert a.first.text == "\tif (PageAnonExclusive(&folio->page))"
    ada = c.message("ada-answer-1@example.org")
    (answer,) = ada.comments
    assert answer.text == "Will do in v2." and answer.anchor.line == 9 and answer.anchor.patch is a.patch
    # per reviewer
    assert [x.text[:6] for x in c.comments_by("bo@example.net")] == ["Right,", "Please"]
    assert [x.message.msgid for x in a.patch.comments] == ["bo-review-1@example.net"] * 2 + ["ada-answer-1@example.org"]


def test_dots_elision_in_unthreaded_reply(fixtures_dir):
    c = load(str(fixtures_dir / "mail" / "unthreaded.mbox"))
    (comment,) = c.message("bo-rfc-2@example.net").comments
    a = comment.anchor
    assert a.path == "mm/frob.c" and a.line == 31 and a.first.kind == "removed" and not a.exact


def test_tabs_turned_into_spaces_still_match():
    a = anchor(["+    ret = frob_new(folio);", "+    if (ret)", "+        return ret;"])
    assert a is not None and (a.first.new_lineno, a.line) == (13, 15)


def test_follow_quote_and_commit_message_comments(demo_mbox):
    from review.inputs.quotes import commit_message_line, follow_quote
    c = load(str(demo_mbox))
    ivo = next(m for m in c.messages if m.author_name == "Ivo Maintainer" and m.patch is None
               and "v1 2/3" in m.subject)
    lines = ivo.body.split("\n")
    n = next(i for i, ln in enumerate(lines, 1) if "page_needs_cow_for_dma" in ln)
    anchor = follow_quote(ivo, n)
    assert anchor.patch is ivo.replied_patch and "page_needs_cow_for_dma" in anchor.last.text
    assert follow_quote(ivo, n + 1).last.text.strip() == "return -EBUSY;"
    assert follow_quote(ivo, 1) is None                            # the attribution line
    (prose,) = [cm for cm in ivo.replied_patch.comments if cm.anchor is None and cm.message is ivo]
    at = commit_message_line(prose, ivo.replied_patch)
    assert ivo.replied_patch.commit_message.split("\n")[at] == "No functional change intended."
