"""The flag-alias audit: when a patch makes one page flag share another's bit, every
use of the other name in the tree, each judged."""
from __future__ import annotations

import pytest

from review.extract.flag_alias import Tree, accessors, audit, declared_aliases
from review.extract.rules import extract_series
from review.inputs.load import load
from review.model import DiffLine, FileDiff, Hunk
from tests.conftest import CORPUS, FIXTURES, SHARED

KERNEL = SHARED / "kernel" / "linux-5.17-rc5"


def _post(patch) -> dict[str, str]:
    return {fd.path: "\n".join(ln.text for h in fd.hunks for ln in h.lines if ln.kind != "removed")
            for fd in patch.files}


def test_the_fixture_alias_is_judged_use_by_use():
    (patch,) = load(str(FIXTURES / "patches-v5.17" / "alias-slab.patch")).patches
    (alias,) = audit(patch.files, Tree(FIXTURES / "ctree-v5.17"), set(), _post(patch))
    assert (alias.new, alias.old, alias.file) == ("PG_anon_exclusive", "PG_slab", "include/linux/page-flags.h")
    assert alias.meaning == "pages for which PageAnon() holds"
    got = {(u.file, u.function, u.verdict) for u in alias.uses}
    assert got == {
        ("fs/proc/page.c", "stable_page_flags", "can meet"),      # /proc reads any page frame
        ("mm/compaction.c", "isolate_candidates", "can meet"),     # a pfn walker
        ("mm/page_idle.c", "page_idle_candidate", "guarded"),      # PageAnon() returns first
        ("mm/slab.c", "slab_alloc_pages", "own pages"),            # the allocator marks its pages
        ("mm/slab.c", "slab_free_pages", "own pages"),
    }
    assert {u.access for u in alias.uses if u.function == "slab_alloc_pages"} == {"writes"}


def test_a_function_the_patch_changes_is_adapted_and_the_extraction_carries_the_audit():
    (patch,) = load(str(FIXTURES / "patches-v5.17" / "alias-slab.patch")).patches
    (alias,) = audit(patch.files, Tree(FIXTURES / "ctree-v5.17"), {("fs/proc/page.c", "stable_page_flags")},
                     _post(patch))
    assert [u.function for u in alias.of("adapted")] == ["stable_page_flags"]
    (rules,) = extract_series([patch], str(FIXTURES / "ctree-v5.17"))
    assert [a.old for a in rules.flag_aliases] == ["PG_slab"]
    # without a tree, only the patch's own files are searched, and it says so
    (bare,) = extract_series([patch])
    assert "give --tree or --repo" in bare.flag_aliases[0].searched


def _added(path: str, *texts: str, removed: tuple[str, ...] = ()) -> FileDiff:
    lines = [DiffLine("removed", t, 10 + i, None, i) for i, t in enumerate(removed)]
    lines += [DiffLine("added", t, None, 10 + i, len(lines) + i) for i, t in enumerate(texts)]
    return FileDiff(path, path, hunks=[Hunk(10, len(removed), 10, len(texts), "enum pageflags {", lines)])


def test_declared_aliases_are_new_pairs_only():
    moved = _added("include/linux/page-flags.h", "\tPG_has_hwpoisoned = PG_waiters,",
                   removed=("\tPG_has_hwpoisoned = PG_mappedtodisk,",))
    kept = _added("include/linux/page-flags.h", "\tPG_readahead = PG_reclaim,", removed=("\tPG_readahead = PG_reclaim,",))
    define = _added("include/linux/page-flags.h", "#define PG_foo PG_private_2")
    assert [a[:2] for a in declared_aliases([moved, kept, define])] == [
        ("PG_has_hwpoisoned", "PG_waiters"), ("PG_foo", "PG_private_2")]


def test_accessors_follow_the_page_flag_macros():
    readers, writers = accessors("PG_slab", ["__PAGEFLAG(Slab, slab, PF_NO_TAIL)"])
    assert {"PageSlab", "folio_test_slab", "PG_slab"} <= readers
    assert {"__SetPageSlab", "__ClearPageSlab", "__folio_set_slab", "folio_clear_slab"} <= writers


@pytest.mark.skipif(not (KERNEL / "mm").is_dir() or not (CORPUS / "cow-fixes-part2-v1.mbox").is_file(),
                    reason="the real thread and kernel tree are not present")
def test_the_real_pg_slab_alias_lists_every_reader_with_file_and_line():
    patch = next(p for p in load(str(CORPUS / "cow-fixes-part2-v1.mbox")).patches if p.label == "v1 10/15")
    (rules,) = extract_series([patch], str(KERNEL))
    (alias,) = rules.flag_aliases
    assert (alias.new, alias.old) == ("PG_anon_exclusive", "PG_slab")
    can_meet = {(u.file, u.function) for u in alias.of("can meet")}
    # pfn walkers, /proc, dump and copy checks read any page; the slab allocators own theirs
    assert {("fs/proc/page.c", "kpagecount_read"), ("mm/util.c", "folio_mapping"),
            ("mm/usercopy.c", "check_heap_object"), ("mm/debug.c", "__dump_page")} <= can_meet
    assert not any(f.startswith(("mm/slab", "mm/slub", "mm/slob")) for f, _ in can_meet)
    assert ("fs/proc/page.c", "stable_page_flags") in {(u.file, u.function) for u in alias.of("adapted")}
    assert all(u.line > 0 for u in alias.uses)


def test_the_check_reports_the_audit_and_each_function_class(capsys):
    import json
    from mmreview.cli import main
    patch = FIXTURES / "patches-v5.17" / "alias-slab.patch"
    main(["check", str(patch), "--tree", str(FIXTURES / "ctree-v5.17"), "--format", "json",
          "--budget", "1", "--max-examples", "10"])
    (p,) = json.loads(capsys.readouterr().out)["patches"]
    alias = next(c for c in p["checked"] if c.startswith("flag alias: "))
    assert alias.endswith("can meet: fs/proc/page.c:24 stable_page_flags(), mm/compaction.c:19 isolate_candidates()")
    assert "bound (checked): PageAnonExclusive (vocabulary: anon_exclusive), SetPageAnonExclusive" in \
        " ".join(p["checked"])
    uses = [f for f in p["findings"] if f["id"] == "flag-alias-use"]
    assert {(f["file"], f["line"]) for f in uses} == {("fs/proc/page.c", 24), ("mm/compaction.c", 19)}
    assert all(f["severity"] == "note" for f in uses)
