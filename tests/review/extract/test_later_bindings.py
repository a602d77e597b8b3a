"""The later vocabulary's bindings on the v6.5-era fixture tree (fixtures/ctree-later):
can_follow_write_pte, gup_pte_range (with gup_must_unshare(NULL, ...) followed into
include/linux/mm.h) and copy_hugetlb_page_range extract to rules that decide as the
v6.5 preset does wherever the model asks them; the fixture patches change exactly the
cases they mean to."""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from review.extract import cparse
from review.extract.bindings import binding
from review.extract.rules import extract_function
from spec import expr as E
from spec.decisions import DecisionContext
from spec.presets import PRESETS


TREE = Path(__file__).resolve().parents[3] / "fixtures" / "ctree-later"


@pytest.fixture(scope="module")
def tree_functions():
    fns = {}
    for path in sorted(TREE.rglob("*.[ch]")):
        for f in cparse.functions(path.read_text()):
            fns[f.name] = f
    return fns


def extracted(fns, name):
    fr = extract_function(fns[name], "x.c", "post", "tree", binding(name), fns.get)
    (d,) = fr.decisions
    assert not fr.unmodelled, fr.unmodelled
    return d


def decide(d, ctx):
    for c in d.cases:
        if E.evaluate(c.guard, ctx, {}):
            return c.outcome
    return d.default


def contexts(names, **fixed):
    for values in itertools.product((False, True), repeat=len(names)):
        yield DecisionContext(**dict(zip(names, values)), **fixed)


def test_can_follow_write_pte_is_v6_0s_rule(tree_functions):
    d = extracted(tree_functions, "can_follow_write_pte")
    assert d.point == "gup.follow_write"
    names = ["pte_write", "foll_force", "cow_mapping", "vm_write", "anon", "anon_exclusive",
             "vm_softdirty", "pte_soft_dirty"]
    rules = PRESETS["v6.5"]
    for ctx in contexts(names):
        assert decide(d, ctx) == rules.ask("gup.follow_write", ctx), ctx


def test_gup_pte_range_is_v6_5s_rule_where_gup_fast_is_asked(tree_functions):
    d = extracted(tree_functions, "gup_pte_range")
    assert d.point == "gup.fast" and d.default == "pin"
    names = ["pte_write", "foll_pin", "foll_write", "foll_longterm", "anon", "anon_exclusive",
             "shmem", "hugetlb"]
    rules = PRESETS["v6.5"]
    for ctx in contexts(names):
        # GUP-fast is asked about present, non-special entries: never the zero page, and
        # a page-cache page is not anon
        ctx.foll_get = not ctx.foll_pin
        assert decide(d, ctx) == rules.ask("gup.fast", ctx), ctx


def test_copy_hugetlb_page_range_is_the_v5_13_rule(tree_functions):
    d = extracted(tree_functions, "copy_hugetlb_page_range")
    assert d.point == "hugetlb.fork" and d.default == "share_writable"
    names = ["anon_exclusive", "mm_has_pinned", "maybe_pinned"]
    rules = PRESETS["v6.5"]
    for ctx in contexts(names, anon=True, hugetlb=True, large=True, head=True):
        assert decide(d, ctx) == rules.ask("hugetlb.fork", ctx), ctx


def test_the_later_functions_bind_with_their_cites():
    for name, point in (("can_follow_write_pte", "gup.follow_write"), ("gup_pte_range", "gup.fast"),
                        ("gup_fast_pte_range", "gup.fast"), ("gup_huge_pmd", "gup.fast"),
                        ("hugetlb_wp", "hugetlb.reuse"), ("copy_hugetlb_page_range", "hugetlb.fork"),
                        ("unuse_pte", "swap.unuse"), ("move_ptes", "mremap.soft_dirty"),
                        ("move_huge_pmd", "mremap.soft_dirty")):
        b = binding(name)
        assert b is not None and [x.point for x in b.decisions] == [point] and b.cite
