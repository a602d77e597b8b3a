"""Rules across callees: a decision a function reaches through a callee belongs to its
rule, with the callee's parameters bound to the caller's arguments and its return
values kept apart, so that a check moving between caller and callee is an
equivalence, and a check that changes on the way is not."""
from __future__ import annotations

from spec import expr as E
from review.extract.cparse import functions, parse
from review.extract.expr import Converter, Guarded
from review.extract.paths import Walker
from review.extract.rules import extract_series
from review.inputs.load import load
from tests.conftest import FIXTURES

TREE = FIXTURES / "ctree-v5.17"
PATCHES = FIXTURES / "patches-v5.17"
NEEDS_COW = "cow_mapping && mm_has_pinned && maybe_pinned"


def _rules(name: str):
    return extract_series(list(load(str(PATCHES / name)).patches), str(TREE))


def _guard(rules, image: str, outcome: str) -> str:
    decision = next(d for d in rules.image(image).decisions if d.point == "fork.anon_pte")
    return " || ".join(str(c.guard) for c in decision.cases if c.outcome == outcome)


def test_check_moved_from_callee_into_caller_is_equivalent():
    (rules,) = _rules("nfc-move/0001-mm-memory-move-the-pin-check-of-copy_present_page-in.patch")
    assert rules.changed_points() == []
    # the pre-image copies where copy_present_page() does, read through `ret <= 0`
    assert NEEDS_COW in _guard(rules, "pre", "copy")
    assert NEEDS_COW in _guard(rules, "post", "copy")


def test_check_moved_back_into_the_callee_is_equivalent_along_the_series():
    first, second = _rules("nfc-move")
    assert first.changed_points() == [] and second.changed_points() == []
    # the second patch's pre-image is the first one's post-image
    assert _guard(second, "pre", "copy") == _guard(first, "post", "copy")


def test_inverted_check_is_a_change():
    (rules,) = _rules("inverted.patch")
    assert rules.changed_points() == ["fork.anon_pte"]
    assert f"!({NEEDS_COW})" in _guard(rules, "post", "copy")


CALLEE_C = """
static inline int pick(struct page *page, int wanted)
{
	if (!wanted)
		return 1;
	if (PageKsm(page))
		return -EBUSY;
	return 0;
}

static int caller(struct page *page)
{
	int ret = pick(page, 1);

	if (ret <= 0)
		return copy_it(page);
	return 0;
}

static int other(struct page *page)
{
	int ret = pick(page, 0);

	if (ret <= 0)
		return copy_it(page);
	return 0;
}
"""


def _walk(name: str, source: str | None = None):
    fns = {f.name: f for f in functions(source or CALLEE_C)}
    from review.extract.bindings import DecisionBinding, Marker
    binding = DecisionBinding("fork.anon_pte", (Marker("call", "copy_it", "copy"),), default="share")
    return Walker(fns[name], binding, fns.get).run()


def test_callee_parameters_take_the_callers_arguments():
    copies = [r for r in _walk("caller").reached if r.outcome == "copy"]
    # pick(page, 1) returns -EBUSY or 0 (both <= 0) on every path: always a copy
    assert [r.guard for r in copies] == [E.TRUE]
    # pick(page, 0) returns 1: never a copy
    assert [r for r in _walk("other").reached if r.outcome == "copy"] == []


def test_guarded_returns_compare_case_by_case():
    ret = Guarded(((E.Atom("ksm"), E.Const(-1)), (E.Not(E.Atom("ksm")), E.Const(1))))
    tree = parse("int f(void) { return ret <= 0 && ret != 1; }")
    cond = tree.root_node.named_children[0].child_by_field_name("body").named_children[0].named_children[0]
    assert Converter(env={"ret": ret}).cond(cond) == E.Atom("ksm")


def test_unmodelled_atoms_of_a_callee_are_placed_in_the_callees_file():
    (callee,) = functions("static inline bool busy(struct page *page)\n"
                          "{\n\treturn page_is_busy_somehow(page);\n}\n")
    callee.file = "include/linux/busy.h"
    (caller,) = functions("int f(struct page *page)\n{\n\tif (busy(page))\n"
                          "\t\treturn copy_it(page);\n\treturn 0;\n}\n")
    caller.file = "mm/memory.c"
    walk = Walker(caller, None, {"busy": callee}.get).run()
    assert [(u.name, u.file, u.line) for u in walk.unmodelled] == \
        [("page_is_busy_somehow(page)", "include/linux/busy.h", 3), ("copy_it(page)", "mm/memory.c", 4)]


def test_every_touched_function_is_counted_once_in_the_coverage_line():
    (rules,) = _rules("nfc-move/0001-mm-memory-move-the-pin-check-of-copy_present_page-in.patch")
    counts = rules.coverage.counts()
    assert sum(counts.values()) == len(rules.coverage.touched) == 2
    # the callee is checked where the bound caller inlines it
    assert {(t.function, t.reason) for t in rules.coverage.touched} == {
        ("copy_present_pte", "fork.anon_pte"), ("copy_present_page", "through copy_present_pte() (fork.anon_pte)")}
    assert rules.coverage.line() == "2 touched: 2 bound, 0 equivalent, 0 outside, 0 unmodelled"


def test_plumbing_normal_form_reads_gnu_c_elvis_and_folds_constant_conditions():
    from review.extract import plumbing
    (pre,) = functions("int f(struct page *p)\n{\n\treturn g(p, true ? 2 : 0, p ?: q);\n}\n")
    (post,) = functions("int f(struct page *p)\n{\n\treturn g(p, 2, p ?: q);\n}\n")
    nothing = {}.get
    assert plumbing.same_code(pre, post, nothing, nothing, {})


RETRY_C = """
static int retry_then_copy(struct page *page)
{
	int tries = 0;
retry:
	if (PageKsm(page))
		return 0;
	if (page_count(page) > 1 && tries++ < 3)
		goto retry;
	if (PageAnonExclusive(page))
		goto out;
	copy_it(page);
out:
	return 0;
}

static int jumps_nowhere(struct page *page)
{
	if (PageKsm(page))
		goto nowhere;
	copy_it(page);
	return 0;
}
"""


def test_a_backward_goto_is_a_retry_loop_read_once_and_not_a_warning():
    res = _walk("retry_then_copy", RETRY_C)
    assert res.warnings == []
    (copy,) = [r for r in res.reached if r.outcome == "copy"]
    # the path that jumps back ends, as a loop's second pass does; the one that
    # falls through the retry test goes on to the copy, the forward goto skips it
    assert "anon_exclusive" in str(copy.guard) and "ksm" in str(copy.guard)


def test_a_goto_to_no_label_is_still_a_warning():
    res = _walk("jumps_nowhere", RETRY_C)
    assert res.warnings == ["jumps_nowhere: goto nowhere: no such label in the function: path not followed"]
