"""The real thread (skipped when it is absent): parsing, tree, series, and the anchor
of Matthew Wilcox's SetPageAnonExclusive review."""
from __future__ import annotations

import collections
import datetime as dt
import re

import pytest

from review.inputs.load import load
from review.inputs.quotes import anchor_quote

MBOX = "cow-fixes-part2-v1.mbox"
COVER = "20220308141437.144919-1-david@redhat.com"
PATCH10 = "20220308141437.144919-11-david@redhat.com"
DAVID_INLINE = "a0bd6f52-7bb5-0c32-75c8-2c7c592c2d6d@redhat.com"  # David, 11 Mar: a revised 10/15 inline
WILLY_SETPAE = "Yiu400H9JNtC03Co@casper.infradead.org"  # Matthew's reply quoting SetPageAnonExclusive
DAVID_LAST = "2bbe2f37-37af-664d-181f-034917b6bb93@redhat.com"


_CACHE: dict = {}


@pytest.fixture
def coll(corpus_dir):
    # corpus_dir is function-scoped (it skips without the real thread); load once per run
    if "c" not in _CACHE:
        _CACHE["c"] = load(str(corpus_dir / MBOX))
    return _CACHE["c"]


def _raw_headers(corpus_dir):
    """(Message-Id, In-Reply-To) of every message, read with a regex, not our parser."""
    text = (corpus_dir / MBOX).read_text()
    out = []
    for chunk in re.split(r"^From mboxrd@z .*$", text, flags=re.M)[1:]:
        head = chunk.split("\n\n", 1)[0]
        mid = re.search(r"^Message-I[dD]:\s*<([^>]+)>", head, re.M | re.I).group(1)
        irt = re.search(r"^In-Reply-To:\s*<([^>]+)>", head, re.M | re.I)
        out.append((mid, irt.group(1) if irt else None))
    return out


def test_every_message_parsed(coll, corpus_dir):
    raw = _raw_headers(corpus_dir)
    assert len(raw) == 33
    assert [m.msgid for m in coll.messages] == [mid for mid, _ in raw]
    for m in coll.messages:
        assert m.author_email and m.subject and m.date is not None and m.body.strip(), m.msgid
        assert m.warnings == [], (m.msgid, m.warnings)


def test_tree_equals_in_reply_to(coll, corpus_dir):
    parent_of = {}
    for root in coll.threads:
        for node in root.walk():
            parent_of[node.msgid] = node.parent.msgid if node.parent else None
    for mid, irt in _raw_headers(corpus_dir):
        assert parent_of[mid] == irt, mid
    # one tree, rooted at the cover letter; absent patches 05/15 and 11/15 are
    # placeholders under it, as their replies' References place them
    assert [r.msgid for r in coll.threads] == [COVER]
    missing = [n.msgid for n in coll.threads[0].walk() if n.missing]
    assert sorted(missing) == ["20220308141437.144919-12-david@redhat.com",
                               "20220308141437.144919-6-david@redhat.com"]
    assert all(n.parent.msgid == COVER for n in coll.threads[0].walk() if n.missing)


def test_tree_order_is_lores(coll):
    """Replies under 10/15 in the order of lore's nested overview (by Date)."""
    p10 = coll.message(PATCH10).thread
    first = p10.children[0]
    assert first.message.author_name == "Matthew Wilcox"
    chain = []
    node = first
    while node.children:
        node = node.children[0]
        chain.append(node.message.author_name)
    assert chain == ["David Hildenbrand", "Matthew Wilcox", "David Hildenbrand"]
    assert [c.msgid for c in p10.children] == ["YijL+qwc/Y1kmlnj@casper.infradead.org", DAVID_INLINE]


def test_series_v1_with_cover_and_patches_in_order(coll):
    assert len(coll.series) == 1
    s = coll.series[0]
    assert s.version == 1 and s.expected == 15
    assert s.cover is not None and s.cover.msgid == COVER
    assert s.title == "mm: COW fixes part 2: reliable GUP pins of anonymous pages"
    assert [p.counter for p in s.patches] == [1, 2, 3, 6, 7, 9, 10, 12, 14]
    assert s.missing == [4, 5, 8, 11, 13, 15]
    assert all(p.series is s and p.version == 1 and p.expected == 15 for p in s.patches)
    p10 = s.patches[6]
    assert p10.message.msgid == PATCH10
    assert p10.title.startswith("mm/page-flags: reuse PG_slab as PG_anon_exclusive")
    assert "include/linux/page-flags.h" in [f.path for f in p10.files]
    assert p10.commit_message.startswith("The basic question we would like")
    assert "Signed-off-by" not in p10.commit_message
    assert [(t.name, t.person_email) for t in p10.trailers if not t.from_reply] == [
        ("Cc", "guro@fb.com"), ("Signed-off-by", "david@redhat.com")]
    assert "include/linux/page-flags.h" in p10.notes  # the diffstat sits in the notes


def test_reply_to_absent_patch_is_not_pinned_on_the_cover(coll):
    nadav = coll.message("D7AB3A84-3FFB-4E8D-9E68-BF721CC4C6FC@vmware.com")
    assert nadav.thread.parent.missing
    assert nadav.replied_patch is None  # 05/15 is absent; not the cover, not another patch
    assert all(t.applies_to == "patch" for t in nadav.trailers)


def test_inline_revision_of_patch_10(coll):
    inline = coll.message(DAVID_INLINE).patch
    p10 = coll.message(PATCH10).patch
    assert inline is not None and inline.inline and inline.revises is p10
    assert inline.title.startswith("mm/page-flags: reuse PG_mappedtodisk as PG_anon_exclusive")
    f = inline.file("include/linux/page-flags.h")
    assert f.hunks[0].header.startswith("@@ -142,6 +142,60 @@")
    # its Signed-off-by belongs to the inline patch, not offered as a tag on 10/15
    assert not any(t.from_reply for t in p10.trailers)


def test_willy_setpageanonexclusive_anchor(coll):
    """Matthew's reply of 11 Mar answers David's message that carries a revised
    10/15 inline (the corpus lacks nothing here); his remark on SetPageAnonExclusive
    is anchored to the page-flags.h lines of that revision of 10/15 it quotes."""
    reply = coll.message(WILLY_SETPAE)
    assert reply.parent.msgid == DAVID_INLINE
    comments = [c for c in reply.comments if c.text.startswith("hm.  seems to me like we should have a PageAnonNotKsm")]
    assert len(comments) == 1
    a = comments[0].anchor
    assert a is not None
    assert a.patch.inline and a.patch.revises is coll.message(PATCH10).patch
    assert a.path == "include/linux/page-flags.h" and a.side == "post"
    assert a.hunk.header.startswith("@@ -920,6 +974,34 @@")
    assert a.first.text == "static __always_inline void SetPageAnonExclusive(struct page *page)"
    assert a.last.text == "\tVM_BUG_ON_PGFLAGS(!PageAnon(page) || PageKsm(page), page);"
    assert a.first.kind == a.last.kind == "added"
    assert (a.first.new_lineno, a.last.new_lineno) == (a.line - 2, a.line)
    # line numbers: count from the hunk start in the inline patch's own text
    hunk_lines = a.hunk.lines
    assert hunk_lines[0].new_lineno == 974
    assert a.line == 974 + a.last.index
    assert a.exact and a.quoted_lines == 3
    # the comment before it answers the PG_anon_exclusive documentation block
    doc = next(c for c in reply.comments if c.text.startswith("... I also don't think this is the right place"))
    assert doc.anchor.hunk.header.startswith("@@ -142,6 +142,60 @@")
    assert doc.anchor.last.text == "\t */" and doc.anchor.first.new_lineno == 142
    # and the same quoted lines match the original 10/15 at its own line numbers

    p10 = coll.message(PATCH10).patch
    orig = anchor_quote(comments[0].quoted, p10)
    assert orig.path == "include/linux/page-flags.h" and orig.hunk.header.startswith("@@ -920,6 +976,70 @@")
    assert orig.first.text.startswith("static __always_inline void SetPageAnonExclusive")


def test_general_remarks_are_not_anchored(coll):
    reply = coll.message(WILLY_SETPAE)
    first = reply.comments[0]
    assert first.text.startswith("I like this a lot better than reusing PG_swap")
    assert first.anchor is None


def test_nested_quote_anchors_the_answer_at_the_same_line(coll):
    last = coll.message(DAVID_LAST)
    c = next(c for c in last.comments if c.text.startswith("I'm wondering if the compiler"))
    assert c.anchor is not None and c.anchor.first.text.startswith("static __always_inline void SetPageAnonExclusive")
    assert min(d for d in [c.quote_depth]) == 1


def test_first_willy_review_anchors_on_original_patch(coll):
    r = coll.message("YijL+qwc/Y1kmlnj@casper.infradead.org")
    anchored = [c for c in r.comments if c.anchor]
    assert len(anchored) == 3
    assert all(c.anchor.patch is coll.message(PATCH10).patch for c in anchored)
    first = anchored[0].anchor
    # the quote starts with the @@ line and the hunk's first (blank) context line
    assert first.hunk.header.startswith("@@ -920,6 +976,70 @@")
    assert first.first.index == 0 and first.first.new_lineno == 976
    span = [ln.text for ln in first.hunk.lines[first.first.index:first.last.index + 1]]
    assert "static __always_inline bool folio_test_slab(struct folio *folio)" in span
    assert span[-1] == "}" and "static __always_inline int PageSlab(struct page *page)" in span
    assert anchored[-1].text.startswith("There are no remaining callers of __ClearPageSlab()")


def test_depths_match_lores_thread_overview(coll, corpus_dir):
    """000_bb35b727d702f553.txt is lore's page for one message of this thread; its
    thread overview lists all 39 messages with their nesting. Every message we have
    sits at the depth lore shows it (absent ones are placeholders in our tree)."""
    page = (corpus_dir / "000_bb35b727d702f553.txt").read_text()
    overview = page.split("Thread overview:", 1)[1].split("Reply instructions:", 1)[0]
    lore = []
    for line in overview.splitlines():
        # "2022-03-12  8:26       ` David Hildenbrand [this message]": lore pads the
        # hour with a space and leaves out a subject equal to its parent's
        m = re.match(r"^(\d{4}-\d\d-\d\d) ([ \d]\d:\d\d) (\s*)(` )?(.*?)\s*(\S+ \S+)( \[this message\])?$", line)
        if m:
            depth = 0 if not m.group(4) else len(m.group(3)) // 2 + 1
            lore.append((f"{m.group(1)} {m.group(2).replace(' ', '0')}", m.group(6), depth))
    assert len(lore) == 39

    # (minute, author, depth) as a multiset: the cover and its patches share a minute
    left = collections.Counter(lore)
    seen = 0
    for root in coll.threads:
        for node in root.walk():
            if node.message is None:
                continue
            m = node.message
            key = (m.date.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M"), m.author_name, node.depth)
            assert left[key] > 0, (m.msgid, key)
            left[key] -= 1
            seen += 1
    assert seen == 33 and sum(left.values()) == 39 - 33  # the six absent patches
