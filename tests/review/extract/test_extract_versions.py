"""Functions written in the v5.19 style and in the v6.8+ folio style extract to the same
decision rules when they mean the same thing, and to different ones when they do not.
The C here is written for these tests, in the style of each era; the v5.19 forms are
those of the fixture tree (fixtures/ctree)."""
from __future__ import annotations

from spec import expr as E
from spec.decisions import CONTEXT_FIELDS, INT_FIELDS, DecisionContext, ExtractedDecision, GuardedOutcome
from tests.conftest import FIXTURES
from review.extract import cparse
from review.extract.bindings import binding
from review.extract.equivalence import outcome_guard, same_decision
from review.extract.rules import extract_function, extract_patch
from review.inputs.load import load
from review.model import DiffLine, FileDiff, Hunk, Patch


def decision(src: str, name: str):
    fns = {f.name: f for f in cparse.functions(src)}
    fr = extract_function(fns[name], "x.c", "post", "tree", binding(name), fns.get)
    (d,) = fr.decisions
    return d


def _v519(fixtures_dir, path: str) -> str:
    """A file of the fixture tree: its functions are written in the v5.19 style."""
    return (fixtures_dir / "ctree" / path).read_text()


V68_DUP = """
static __always_inline int folio_try_dup_anon_rmap_pte(struct folio *folio,
		struct page *page, struct vm_area_struct *src_vma)
{
	bool maybe_pinned = !folio_is_device_private(folio) &&
			    unlikely(folio_needs_cow_for_dma(src_vma, folio));

	if (PageAnonExclusive(page)) {
		if (unlikely(maybe_pinned))
			return -EBUSY;
		ClearPageAnonExclusive(page);
	}
	folio_ref_inc(folio);
	return 0;
}
"""


def test_try_dup_page_and_folio_forms_agree(fixtures_dir):
    a = decision(_v519(fixtures_dir, "include/linux/rmap.h"), "page_try_dup_anon_rmap")
    b = decision(V68_DUP, "folio_try_dup_anon_rmap_pte")
    assert same_decision(a, b)
    assert str(outcome_guard(a, "copy")) == str(outcome_guard(b, "copy")) == (
        "anon_exclusive && cow_mapping && mm_has_pinned && maybe_pinned")


V68_SHARE = """
static __always_inline int folio_try_share_anon_rmap_pte(struct folio *folio,
		struct page *page)
{
	VM_WARN_ON_FOLIO(!folio_test_anon(folio), folio);
	if (likely(!folio_maybe_dma_pinned(folio))) {
		ClearPageAnonExclusive(page);
		return 0;
	}
	return -EBUSY;
}
"""


def test_try_share_page_and_folio_forms_agree(fixtures_dir):
    a = decision(_v519(fixtures_dir, "include/linux/rmap.h"), "page_try_share_anon_rmap")
    b = decision(V68_SHARE, "folio_try_share_anon_rmap_pte")
    assert a.point == b.point == "rmap.try_share"
    assert same_decision(a, b)


FOLIO_UNSHARE = """
static inline bool gup_must_unshare(struct vm_area_struct *vma,
				    unsigned int flags, struct page *page)
{
	struct folio *folio = page_folio(page);

	if (!(flags & FOLL_PIN) || (flags & FOLL_WRITE))
		return false;
	if (!folio_test_anon(folio))
		return false;
	return !PageAnonExclusive(page);
}
"""


def test_gup_must_unshare_forms_agree(fixtures_dir):
    assert same_decision(decision(_v519(fixtures_dir, "include/linux/mm.h"), "gup_must_unshare"),
                         decision(FOLIO_UNSHARE, "gup_must_unshare"))


V67_WP = """
static bool wp_can_reuse_anon_folio(struct folio *folio, struct vm_area_struct *vma)
{
	if (folio_test_ksm(folio) || folio_ref_count(folio) > 3)
		return false;
	if (!folio_test_lru(folio))
		lru_add_drain();
	if (folio_ref_count(folio) > 1 + folio_test_swapcache(folio))
		return false;
	if (!folio_trylock(folio))
		return false;
	if (folio_test_swapcache(folio))
		folio_free_swap(folio);
	if (folio_test_ksm(folio) || folio_ref_count(folio) != 1) {
		folio_unlock(folio);
		return false;
	}
	folio_move_anon_rmap(folio, vma);
	folio_unlock(folio);
	return true;
}

static vm_fault_t do_wp_page(struct vm_fault *vmf)
{
	const bool unshare = vmf->flags & FAULT_FLAG_UNSHARE;
	struct vm_area_struct *vma = vmf->vma;
	struct folio *folio = NULL;

	vmf->page = vm_normal_page(vma, vmf->address, vmf->orig_pte);
	if (vmf->page)
		folio = page_folio(vmf->page);

	if (folio && folio_test_anon(folio) &&
	    (PageAnonExclusive(vmf->page) || wp_can_reuse_anon_folio(folio, vma))) {
		if (!PageAnonExclusive(vmf->page))
			SetPageAnonExclusive(vmf->page);
		if (unlikely(unshare)) {
			pte_unmap_unlock(vmf->pte, vmf->ptl);
			return 0;
		}
		wp_page_reuse(vmf, folio);
		return 0;
	}
	if (folio)
		folio_get(folio);
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	return wp_page_copy(vmf);
}
"""


def test_do_wp_page_v519_and_v67_agree(fixtures_dir):
    a = decision(_v519(fixtures_dir, "mm/memory.c"), "do_wp_page")
    b = decision(V67_WP, "do_wp_page")
    assert same_decision(a, b)


def test_a_real_difference_is_seen():
    # the v5.8-era mapcount check instead of the refcount check is not the same rule
    changed = V67_WP.replace("folio_ref_count(folio) != 1", "folio_mapcount(folio) != 1")
    assert not same_decision(decision(V67_WP, "do_wp_page"), decision(changed, "do_wp_page"))
    dropped = V68_DUP.replace("if (unlikely(maybe_pinned))\n\t\t\treturn -EBUSY;\n", "")
    assert dropped != V68_DUP
    assert not same_decision(decision(V68_DUP, "folio_try_dup_anon_rmap_pte"),
                             decision(dropped, "folio_try_dup_anon_rmap_pte"))


def test_copy_present_pte_fixture_pair(fixtures_dir):
    """The fixture patch 0003 converts copy_present_pte() to folios: same rules."""
    (patch,) = load(str(next((fixtures_dir / "patches").glob("0003*")))).patches
    pr = extract_patch(patch, tree=str(fixtures_dir / "ctree"))
    (pre,), (post,) = pr.pre.decisions, pr.post.decisions
    inlined = {f.image: f.inlined for f in pr.functions if f.function == "copy_present_pte"}
    assert "page_try_dup_anon_rmap" not in inlined["pre"]     # untouched: the vocabulary's meaning
    assert "folio_try_dup_anon_rmap_pte" in inlined["post"]   # added by the patch: its body
    assert same_decision(pre, post)


V68_BATCH_DUP = """
static __always_inline int __folio_try_dup_anon_rmap(struct folio *folio,
		struct page *page, int nr_pages, struct vm_area_struct *src_vma,
		enum rmap_level level)
{
	int i;

	VM_WARN_ON_FOLIO(!folio_test_anon(folio), folio);

	/* Pages already shared (KSM ones too) need no check. */
	switch (level) {
	case RMAP_LEVEL_PTE:
		for (i = 0; i < nr_pages; i++) {
			if (PageAnonExclusive(page + i))
				goto check;
		}
		break;
	case RMAP_LEVEL_PMD:
		if (PageAnonExclusive(page))
			goto check;
		break;
	}
	goto dup;

check:
	/* A possibly pinned folio is copied for the child instead. */
	if (likely(!folio_is_device_private(folio) &&
		   unlikely(folio_needs_cow_for_dma(src_vma, folio))))
		return -EBUSY;

	switch (level) {
	case RMAP_LEVEL_PTE:
		for (i = 0; i < nr_pages; i++)
			ClearPageAnonExclusive(page + i);
		break;
	case RMAP_LEVEL_PMD:
		ClearPageAnonExclusive(page);
		break;
	}
dup:
	folio_ref_add(folio, nr_pages);
	return 0;
}
"""


def test_batched_level_switch_form_agrees(fixtures_dir):
    """The v6.8 batch helper: switch over the rmap level, a loop over the pages, gotos."""
    a = decision(_v519(fixtures_dir, "include/linux/rmap.h"), "page_try_dup_anon_rmap")
    b = decision(V68_BATCH_DUP, "__folio_try_dup_anon_rmap")
    assert same_decision(a, b)
    assert str(outcome_guard(b, "copy")) == "anon_exclusive && cow_mapping && mm_has_pinned && maybe_pinned"
    assert all(not E.free_atoms(c.guard) for c in b.cases)
    assert str(outcome_guard(b, "share")) == "!(cow_mapping && mm_has_pinned && maybe_pinned) || !anon_exclusive"


def test_equivalence_checks_around_constants_and_says_maybe_when_too_big():
    def d(guard):
        return ExtractedDecision("pinned.maybe", (GuardedOutcome(guard, "pinned"),), "not_pinned")
    ge = E.Cmp(">=", E.Atom("refcount"), E.Const(1024))
    gt = E.Cmp(">", E.Atom("refcount"), E.Const(1024))
    assert same_decision(d(ge), d(ge))
    assert not same_decision(d(ge), d(gt))  # they differ only at refcount == 1024
    many = E.And(tuple(E.Atom(f) for f in CONTEXT_FIELDS if f not in INT_FIELDS and f != "reason"))
    assert same_decision(d(many), d(many))  # the same rules
    reordered = E.And(tuple(reversed(many.args)))
    assert not same_decision(d(many), d(reordered))  # too many contexts to prove: "may differ"


def test_a_changed_helper_behind_a_macro_is_inlined():
    """copy_present_ptes() calls folio_try_dup_anon_rmap_pte, a one-call macro for
    folio_try_dup_anon_rmap_ptes(); a patch that changes the latter is read through
    the macro (the vocabulary's meaning of the macro name would hide the change)."""
    helper = V68_DUP.replace("folio_try_dup_anon_rmap_pte(", "folio_try_dup_anon_rmap_ptes(").replace(
        "if (unlikely(maybe_pinned))\n\t\t\treturn -EBUSY;\n", "")
    caller = """
static int copy_present_ptes(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma,
		struct page *page, struct folio *folio)
{
	if (folio_test_anon(folio) && unlikely(folio_try_dup_anon_rmap_pte(folio, page, src_vma)))
		return copy_present_page(dst_vma, src_vma, page);
	return 0;
}
"""
    macro = "#define folio_try_dup_anon_rmap_pte(folio, page, vma) \\\n\tfolio_try_dup_anon_rmap_ptes(folio, page, 1, vma)"

    def added_file(path, text):
        lines = text.strip("\n").split("\n")
        dl = [DiffLine("added", t, None, i + 1, i) for i, t in enumerate(lines)]
        return FileDiff(None, path, status="added", hunks=[Hunk(0, 0, 1, len(lines), "", dl)])
    patch = Patch("t", "a", "a@example.org", "", files=[
        added_file("include/linux/rmap.h", macro + "\n" + helper), added_file("mm/memory.c", caller)])
    pr = extract_patch(patch)
    (d,) = [d for d in pr.post.decisions if d.cases[0].provenance.function == "copy_present_ptes"]
    assert str(outcome_guard(d, "copy")) == "false"  # the changed helper never fails any more
    assert "folio_try_dup_anon_rmap_pte" in next(f.inlined for f in pr.functions if f.function == "copy_present_ptes")




def test_v512_copy_decided_by_the_helper_return_value():
    """v5.12..v5.18: copy_present_page() decides (1: share, 0: copied) and the caller
    returns its value: the call alone is not the copy."""
    d = decision((FIXTURES / "ctree-v5.17" / "mm" / "memory.c").read_text(), "copy_present_pte")
    pinned = DecisionContext(anon=True, cow_mapping=True, mm_has_pinned=True, maybe_pinned=True)
    shared = DecisionContext(anon=True, cow_mapping=True, mm_has_pinned=True, maybe_pinned=False)
    zero = DecisionContext(zero_page=True, cow_mapping=True, mm_has_pinned=True, maybe_pinned=True)

    def pick(ctx):
        return next((c.outcome for c in d.cases if E.evaluate(c.guard, ctx, {"*prealloc": True, "copy": True})),
                    None)
    assert (pick(pinned), pick(shared), pick(zero)) == ("copy", "share", "share")
    copy_lines = {c.provenance.text for c in d.cases if c.outcome == "copy"}
    assert "return ret;" in copy_lines
