"""Coverage classes: bound, equivalent (plumbing followed), outside (with a reason),
unmodelled (with what is missing)."""
from __future__ import annotations

import pytest

from review.extract import plumbing
from review.extract.areas import area_of, change_kind
from review.extract.classify import Candidate, Evidence, classify
from review.extract.cparse import functions

PRE = """
void add_rmap(struct page *page, struct vm_area_struct *vma, unsigned long address, bool compound)
{
	do_add_rmap(page, vma, address, compound ? RMAP_COMPOUND : RMAP_NONE);
}

void do_add_rmap(struct page *page, struct vm_area_struct *vma, unsigned long address, rmap_t flags)
{
	bool compound = flags & RMAP_COMPOUND;

	account(page, compound);
}

static void restore_pmd(struct page *new, struct vm_area_struct *vma, unsigned long start)
{
	if (PageAnon(new))
		add_rmap(new, vma, start, true);
	else
		add_file_rmap(new, true);
}

static void restore_pte(struct page *new, struct vm_area_struct *vma, unsigned long start)
{
	add_rmap(new, vma, start, false);
}
"""

POST = """
void add_rmap(struct page *page, struct vm_area_struct *vma, unsigned long address, rmap_t flags)
{
	bool compound = flags & RMAP_COMPOUND;

	account(page, compound);
}

static void restore_pmd(struct page *new, struct vm_area_struct *vma, unsigned long start)
{
	if (PageAnon(new))
		add_rmap(new, vma, start, RMAP_COMPOUND);
	else
		add_file_rmap(new, true);
}

static void restore_pte(struct page *new, struct vm_area_struct *vma, unsigned long start)
{
	/* a small page: no flags */
	add_rmap(new, vma, start, RMAP_NONE);
}
"""


def _fns(text: str) -> dict:
    return {f.name: f for f in functions(text)}


def test_flags_passed_instead_of_a_bool_through_a_dropped_wrapper_are_the_same_code():
    pre, post = _fns(PRE), _fns(POST)
    renames = plumbing.renames(pre, post)
    assert renames == {"add_rmap": "do_add_rmap"}
    for name in ("restore_pmd", "restore_pte"):
        assert plumbing.same_code(pre[name], post[name], pre.get, post.get, renames), name


def test_a_changed_argument_is_not_the_same_code():
    pre, post = _fns(PRE), _fns(POST.replace("RMAP_COMPOUND);\n\telse", "RMAP_NONE);\n\telse"))
    renames = plumbing.renames(pre, post)
    assert not plumbing.same_code(pre["restore_pmd"], post["restore_pmd"], pre.get, post.get, renames)


def test_classes_in_order():
    pre, post = _fns(PRE), _fns(POST)
    ev = Evidence(bound={"mm/rmap.c:add_rmap": "add_anon_rmap"}, inlined_by={"helper": ("caller", "wp.reuse")},
                  pre_lookup=pre.get, post_lookup=post.get, renames=plumbing.renames(pre, post),
                  called_by={"unseen": "caller"})
    cands = [Candidate("mm/rmap.c", "add_rmap", pre["add_rmap"], post["add_rmap"]),
             Candidate("mm/memory.c", "helper"),
             Candidate("mm/huge_memory.c", "restore_pmd", pre["restore_pmd"], post["restore_pmd"]),
             Candidate("mm/hugetlb.c", "copy_hugetlb_page_range", changed=["\tspin_lock(ptl);"]),
             Candidate("mm/memory.c", "zap_locked", changed=["\tmmap_assert_write_locked(mm);", "\t} else {"]),
             Candidate("mm/memory.c", "unseen"),
             Candidate("mm/memory.c", "new_helper")]
    got = [(t.function, t.cls, t.reason) for t in classify(cands, ev).touched]
    assert got == [
        ("add_rmap", "bound", "add_anon_rmap"),
        ("helper", "bound", "through caller() (wp.reuse)"),
        ("restore_pmd", "equivalent", "the same code once wrappers, renames and constant arguments are followed"),
        ("copy_hugetlb_page_range", "outside", "hugetlb"),
        ("zap_locked", "outside", "locking only"),
        ("unseen", "unmodelled", "a callee of caller() not seen whole"),
        ("new_helper", "unmodelled", "no binding to the spec"),
    ]


@pytest.mark.parametrize("file,function,reason", [
    ("mm/gup.c", "gup_pte_range", "GUP-fast"),
    ("include/linux/page-flags.h", "__SetPageSlab", "a page flag the model does not have"),
    ("include/linux/page-flags.h", "folio_test_slab", "a page flag the model does not have"),
    ("mm/migrate.c", "migrate_vma_insert_page", "device memory"),
    ("mm/gup.c", "gup_huge_pud", "file-backed (PUD mappings)"),
    ("fs/proc/page.c", "stable_page_flags", "reporting to user space (/proc, tracing)"),
    ("arch/x86/mm/pgtable.c", "ptep_set_access_flags", "arch page tables"),
])
def test_areas_name_their_reason(file, function, reason):
    assert area_of(file, function).reason == reason


def test_areas_leave_modelled_code_alone():
    assert area_of("mm/memory.c", "do_wp_page") is None
    assert area_of("mm/huge_memory.c", "do_huge_pmd_wp_page") is None  # THP is modelled


@pytest.mark.parametrize("lines,kind", [
    (["\traw_write_seqcount_begin(&src->write_protect_seq);", "\tif (cow) {"], "locking only"),
    (["\tVM_BUG_ON(!(raw_read_seqcount(&vma->vm_mm->write_protect_seq) & 1));"], "locking only"),
    (["\tVM_WARN_ON_ONCE(PageTail(page));"], "debugging"),
    (["\tcount_vm_event(PGREUSE);", "\tinc_mm_counter(mm, MM_ANONPAGES);"], "statistics"),
    (["\tspin_lock(ptl);", "\tcount_vm_event(PGREUSE);"], None),
    (["\tSetPageAnonExclusive(page);"], None),
    (["\t}"], None),
])
def test_change_kinds(lines, kind):
    assert change_kind(lines) == kind


def test_a_caller_of_a_function_read_from_the_mail_says_why_it_was_not_compared():
    # the hunk changing add_rmap did not apply (a patch it needs is missing): its post
    # image is the mail's cut, so its callers' plumbing cannot be followed
    pre, post = _fns(PRE), _fns(POST)
    post.pop("add_rmap")
    ev = Evidence(bound={}, inlined_by={}, pre_lookup=pre.get, post_lookup=post.get,
                  renames={}, from_mail={"add_rmap": "mm/rmap.c"})
    got = classify([Candidate("mm/huge_memory.c", "restore_pmd", pre["restore_pmd"], post["restore_pmd"]),
                    Candidate("mm/memory.c", "new_helper")], ev).touched
    assert [(t.cls, t.reason) for t in got] == [
        ("unmodelled", "not compared: add_rmap() is read from the mail, a patch it needs is missing"),
        ("unmodelled", "no binding to the spec"),
    ]
