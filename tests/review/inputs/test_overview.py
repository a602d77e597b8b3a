"""lore's thread overview: reply order, a series' patches in order, absent patches
under their titles from the cover letter's shortlog."""
from __future__ import annotations

from review.inputs.load import load
from review.inputs.overview import cover_titles, entries, placeholder_counter


def test_demo_overview_is_reply_order_with_patches_by_number(demo_mbox):
    c = load(str(demo_mbox))
    v1 = c.series[0]
    root = v1.cover.thread
    lines = entries(root, v1)
    assert lines[0].message is v1.cover and lines[0].depth == 0
    patches = [e.message.patch.counter for e in lines if e.message and e.message.patch]
    assert patches == [1, 2, 3]
    assert not any(e.missing for e in lines)
    # every message of the thread, once
    assert len(lines) == len(list(root.walk()))
    assert cover_titles(v1) == {1: "mm/page-flags: catch PG_anon_exclusive on non-anonymous pages",
                                2: "mm/rmap: simplify page_try_dup_anon_rmap()",
                                3: "mm/gup: use folio_test_anon() in gup_must_unshare()"}


def test_absent_patches_of_the_real_series_in_order_under_their_titles(corpus_dir):
    c = load(str(corpus_dir / "cow-fixes-part2-v1.mbox"))
    (series,) = c.series
    titles = cover_titles(series)
    assert len(titles) == 15
    assert titles[1] == "mm/rmap: fix missing swap_free() in try_to_unmap() after arch_unmap_one() failed"
    root = series.cover.thread
    lines = entries(root, series)
    top = [e for e in lines if e.depth == 1]
    numbers = [e.counter if e.missing else (e.message.patch.counter if e.message.patch
                                            and not e.message.patch.inline else 0) for e in top]
    assert numbers[:15] == list(range(1, 16)) and set(numbers[15:]) == {0}
    absent = {e.counter: e for e in top if e.missing}
    assert sorted(absent) == [4, 5, 8, 11, 13, 15]
    assert absent[5].node is not None and len(absent[5].node.children) == 1      # Nadav's reply
    assert absent[4].node is None                                              # nobody answered it
    assert placeholder_counter(absent[11].node, series) == 11
    assert absent[13].title == "mm: support GUP-triggered unsharing of anonymous pages"
    # replies stay under what they answer, in date order, as lore lists them
    under_5 = lines[lines.index(absent[5]) + 1: lines.index(absent[5]) + 6]
    assert [e.message.author_name for e in under_5] == [
        "Nadav Amit", "David Hildenbrand", "Linus Torvalds", "Nadav Amit", "Linus Torvalds"]


def test_shortlog_that_disagrees_with_the_patches_gives_no_titles(demo_mbox):
    c = load(str(demo_mbox))
    v1 = c.series[0]
    v1.cover.body = v1.cover.body.replace("mm/rmap: simplify page_try_dup_anon_rmap()", "something else")
    assert cover_titles(v1) == {}
