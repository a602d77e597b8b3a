"""review/extract/vocab.py: kernel identifiers and C conditions -> expressions over DecisionContext."""
from __future__ import annotations

import itertools

import pytest

from spec import expr as E
from spec.decisions import CONTEXT_FIELDS, DecisionContext
from review.extract import cparse
from review.extract.bindings import binding
from review.extract.expr import Converter
from review.extract.paths import Walker
from review.extract.vocab import CALLS, FLAGS, BITS, check_vocabulary, describe


def cond(c_text: str, conv: Converter | None = None) -> E.Expr:
    """The expression of `c_text` used as an if condition."""
    src = f"void f(void)\n{{\n\tif ({c_text})\n\t\treturn;\n}}\n"
    (fn,) = cparse.functions(src)
    node = fn.body.named_children[0].child_by_field_name("condition")
    conv = conv or Converter()
    return conv.cond(node)


def truth_table(e: E.Expr, names: list[str]) -> list[bool]:
    out = []
    for values in itertools.product((False, True), repeat=len(names)):
        ctx = DecisionContext(**dict(zip(names, values)))
        out.append(bool(E.evaluate(e, ctx)))
    return out


def test_tables_name_only_context_fields_and_cite_a_source():
    assert check_vocabulary() == []
    for table in (CALLS, FLAGS, BITS):
        for name, entry in table.items():
            assert entry.cite, name


ISSUE_NAMES = (
    "PageAnon folio_test_anon PageKsm folio_test_ksm PageAnonExclusive page_count folio_ref_count "
    "page_mapcount folio_mapcount page_maybe_dma_pinned folio_maybe_dma_pinned page_needs_cow_for_dma "
    "folio_needs_cow_for_dma is_cow_mapping pte_write pte_dirty pte_swp_exclusive is_zero_pfn "
    "PageSwapCache PageHuge FOLL_PIN FOLL_GET FOLL_WRITE FOLL_LONGTERM FAULT_FLAG_WRITE "
    "FAULT_FLAG_UNSHARE RMAP_EXCLUSIVE MMF_HAS_PINNED"
).split()


@pytest.mark.parametrize("name", ISSUE_NAMES)
def test_issue_vocabulary_is_present(name):
    assert describe(name), name


@pytest.mark.parametrize("page_form, folio_form", [
    ("PageAnon(page)", "folio_test_anon(folio)"),
    ("PageKsm(page)", "folio_test_ksm(folio)"),
    ("page_count(page) == 1", "folio_ref_count(folio) == 1"),
    ("page_mapcount(page) > 1", "folio_mapcount(folio) > 1") ,
    ("page_maybe_dma_pinned(page)", "folio_maybe_dma_pinned(folio)"),
    ("page_needs_cow_for_dma(vma, page)", "folio_needs_cow_for_dma(vma, folio)"),
    ("PageSwapCache(page)", "folio_test_swapcache(folio)"),
])
def test_page_and_folio_forms_mean_the_same(page_form, folio_form):
    if "mapcount" in page_form:  # page_mapcount reads the subpage, folio_mapcount the folio
        assert cond(page_form) != cond(folio_form)
    else:
        assert cond(page_form) == cond(folio_form)


def test_page_needs_cow_for_dma_expands_to_its_three_conditions():
    assert str(cond("page_needs_cow_for_dma(src_vma, page)")) == "cow_mapping && mm_has_pinned && maybe_pinned"


def test_flag_tests():
    assert cond("flags & FOLL_PIN") == E.Atom("foll_pin")
    assert cond("!(gup_flags & FOLL_LONGTERM)") == E.Not(E.Atom("foll_longterm"))
    assert cond("vmf->flags & FAULT_FLAG_UNSHARE") == E.Atom("fault_unshare")
    assert cond("vma->vm_flags & VM_WRITE") == E.Atom("vm_write")
    assert cond("vma->vm_flags & VM_SHARED") == E.FALSE  # private anon memory only


def test_masked_flag_comparison_reads_each_bit():
    # gup_must_unshare(): (flags & (FOLL_WRITE | FOLL_PIN)) != FOLL_PIN  <=>  !(pin && !write)
    e = cond("(flags & (FOLL_WRITE | FOLL_PIN)) != FOLL_PIN")
    names = ["foll_pin", "foll_write"]
    want = [not (pin and not write) for pin, write in itertools.product((False, True), repeat=2)]
    assert truth_table(e, names) == want
    e0 = cond("(flags & (FOLL_GET | FOLL_PIN)) == 0")
    assert truth_table(e0, ["foll_get", "foll_pin"]) == [True, False, False, False]


def test_counts_and_arithmetic():
    e = cond("page_count(page) != 1 + PageSwapCache(page)")
    assert str(e) == "refcount != (1 + swapcache)"
    for refcount, swapcache, want in [(1, False, False), (2, False, True), (2, True, False), (1, True, True)]:
        assert E.evaluate(e, DecisionContext(refcount=refcount, swapcache=swapcache)) == want


def test_wrappers_are_transparent_and_negations_fold():
    assert cond("unlikely(!!READ_ONCE(PageAnonExclusive(page)))") == E.Atom("anon_exclusive")
    assert cond("!!PageKsm(page)") == E.Atom("ksm")
    assert cond("likely(!PageAnon(page))") == E.Not(E.Atom("anon"))
    assert cond("test_bit(MMF_HAS_PINNED, &mm->flags)") == E.Atom("mm_has_pinned")
    assert cond("atomic_read(&src_mm->has_pinned)") == E.Atom("mm_has_pinned")


def test_constants_the_model_fixes():
    assert cond("PageHuge(page) && !PageHead(page)") == E.FALSE
    assert cond("!is_device_private_page(page) && PageAnonExclusive(page)") == E.Atom("anon_exclusive")


def test_unknown_identifiers_become_free_atoms_with_their_line():
    conv = Converter()
    e = cond("PageAnon(page) && frobnicate(page)", conv)
    assert e == E.And((E.Atom("anon"), E.Free("frobnicate(page)")))
    assert [(u.name, u.line) for u in conv.unmodelled] == [("frobnicate(page)", 3)]


def test_python_looking_text_is_only_a_name():
    conv = Converter()
    e = cond('__import__("os").system("true") || eval(flags)', conv)
    assert E.free_atoms(e) == {'__import__("os").system("true")', "eval(flags)"}
    assert all(type(n) in (E.Free, E.Or) for n in E.walk(e))


def test_deep_nesting_is_capped_with_a_warning():
    conv = Converter()
    e = cond("(" * 400 + "PageAnon(page)" + ")" * 400, conv)
    assert e == E.Free("<expression too deep>")
    assert conv.warnings and "deeper than" in conv.warnings[0]
    deep_not = cond("!" * 500 + "PageAnon(page)", Converter())
    assert type(deep_not) is E.Free  # capped as well


def test_local_variables_carry_their_assigned_condition():
    src = """
int f(struct vm_fault *vmf)
{
	const bool unshare = vmf->flags & FAULT_FLAG_UNSHARE;
	bool maybe_pinned = folio_needs_cow_for_dma(vma, folio);

	if (unshare && maybe_pinned)
		return true;
	return false;
}
"""
    (fn,) = cparse.functions(src)
    fn.name = "gup_must_unshare"
    res = Walker(fn, binding("gup_must_unshare").decisions[0]).run()
    unshare = [r for r in res.reached if r.outcome == "unshare"]
    assert [str(r.guard) for r in unshare] == ["fault_unshare && cow_mapping && mm_has_pinned && maybe_pinned"]


def test_context_fields_cover_the_vocabulary_atoms():
    used = set()
    for table in (CALLS, FLAGS, BITS):
        for entry in table.values():
            used |= E.atoms(entry.expr)
    assert used <= set(CONTEXT_FIELDS)
