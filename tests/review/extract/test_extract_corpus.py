"""Extraction on the real thread "[PATCH v1 00/15] mm: COW fixes part 2" (skipped when
it is absent): bare mail, no tree, so functions come from the hunks and partial ones
are reported."""
from __future__ import annotations

import re

import pytest

from review.extract.rules import extract_series
from review.report.rules import patch_json, patch_text
from review.inputs.load import load


_CACHE: dict = {}


@pytest.fixture
def thread(corpus_dir):
    """(patches, results), loaded and extracted once per session."""
    path = str(corpus_dir / "cow-fixes-part2-v1.mbox")
    if path not in _CACHE:
        coll = load(path)
        _CACHE[path] = (coll.patches, extract_series(coll.patches))
    return _CACHE[path]


def by_label(thread, label):
    patches, results = thread
    return next(r for p, r in zip(patches, results) if p.label == label)


def test_every_hunk_of_every_patch_is_processed(thread):
    patches, results = thread
    assert len(results) == len(patches) >= 9
    for p, r in zip(patches, results):
        c_files = [f for f in p.files if f.path.endswith((".c", ".h"))]
        assert len(r.skipped_files) == len(p.files) - len(c_files)
        assert not any("could not read" in w for w in r.warnings), r.warnings
        text = "\n".join(patch_text(r))
        assert r.title and r.title in text
        patch_json(r)  # serialisable


@pytest.mark.parametrize("function, primitive", [
    ("SetPageAnonExclusive", "set_anon_exclusive"),
    ("ClearPageAnonExclusive", "clear_anon_exclusive"),
])
def test_patch_10_page_flag_assertions(thread, function, primitive):
    patches, _ = thread
    r = by_label(thread, "v1 10/15")
    patch = next(p for p in patches if p.label == "v1 10/15")
    hunk_lines = {}
    for h in patch.file("include/linux/page-flags.h").hunks:
        hunk_lines.update(h.post_lines)
    mine = [a for a in r.post.assertions if a.provenance.function == function]
    assert [(a.primitive, a.macro, str(a.condition)) for a in mine] == [
        (primitive, "VM_BUG_ON_PGFLAGS", "!anon || ksm"),
        (primitive, "VM_BUG_ON_PGFLAGS", "false"),  # PageHuge(page) && !PageHead(page): no hugetlb
    ]
    first, second = mine
    assert first.provenance.text == "!PageAnon(page) || PageKsm(page)"
    assert hunk_lines[first.provenance.line].strip() == "VM_BUG_ON_PGFLAGS(!PageAnon(page) || PageKsm(page), page);"
    assert hunk_lines[second.provenance.line].strip() == "VM_BUG_ON_PGFLAGS(PageHuge(page) && !PageHead(page), page);"
    assert first.provenance.file == "include/linux/page-flags.h" and first.provenance.image == "post"
    assert first.provenance.hunk.startswith("@@ -920,6 +976,70 @@")
    assert any(f"{function} -> {primitive}" in b for b in r.bound)
    # new functions: nothing before the patch
    assert not [a for a in r.pre.assertions if a.provenance.function == function]


def test_per_patch_bound_unbound_partial(thread):
    r1 = by_label(thread, "v1 01/15")
    assert r1.bound == ["mm/rmap.c:try_to_unmap_one -> swap.entry_exclusive"]
    assert {im for fn, _, _, _, im in r1.windows if fn == "try_to_unmap_one"} == {"pre", "post"}
    r14 = by_label(thread, "v1 14/15")
    assert "include/linux/mm.h:gup_must_unshare -> gup.unshare" in r14.bound
    # GUP's lookup asks gup_must_unshare() and returns -EMLINK: it decides, at PTE and PMD level
    assert "mm/gup.c:follow_page_pte -> gup.unshare" in r14.bound
    assert "mm/huge_memory.c:follow_trans_huge_pmd -> gup.unshare" in r14.bound
    (d,) = r14.post.decisions
    unshare = [str(c.guard) for c in d.cases if c.outcome == "unshare" and c.provenance.function == "follow_page_pte"]
    assert any(g.endswith("!pte_write && foll_pin && !foll_write && anon && !anon_exclusive") for g in unshare)
    assert all(str(c.guard).startswith("pmd_mapped && ") for c in d.cases
               if c.provenance.function == "follow_trans_huge_pmd")
    # gup_must_unshare is new in this patch: before it, the lookups never unshare by
    # themselves; what their unseen rest does is unmodelled
    (pre,) = r14.pre.decisions
    assert all("the rest of" in str(c.guard) for c in pre.cases)
    r2 = by_label(thread, "v1 02/15")
    # a comment added above page_needs_cow_for_dma() does not touch is_cow_mapping(),
    # which git names in the @@ line
    assert r2.unbound == ["include/linux/mm.h:page_needs_cow_for_dma", "mm/hugetlb.c:copy_hugetlb_page_range"]
    r10 = by_label(thread, "v1 10/15")
    assert ("PageTail(page)", "mm/page_alloc.c", 1302, "post") in r10.unmodelled
    assert "include/linux/page-flags.h:PageAnonExclusive" in r10.unbound  # no primitive tests the flag


def test_the_whole_thread_report(thread):
    _, results = thread
    text = "\n".join("\n".join(patch_text(r)) for r in results)
    assert re.search(r"window   do_wp_page \[mm/memory.c:\d+-\d+\] (pre|post): read from the hunk", text)
    assert "assert   set_anon_exclusive: VM_BUG_ON_PGFLAGS(!PageAnon(page) || PageKsm(page)) -> !anon || ksm" in text
