"""review/extract/vocab.py: reuse_swap_page's THP counts (<= v5.17) read DecisionContext.thp_mapcount."""
from __future__ import annotations

from spec import expr as E
from spec.decisions import DecisionContext
from spec.presets import PRESETS
from review.extract import cparse
from review.extract.expr import Converter
from review.extract.vocab import CALLS, describe


def cond(c_text: str) -> E.Expr:
    src = f"void f(void)\n{{\n\tif ({c_text})\n\t\treturn;\n}}\n"
    (fn,) = cparse.functions(src)
    return Converter().cond(fn.body.named_children[0].child_by_field_name("condition"))


def test_thp_counts_are_in_the_vocabulary_as_ints():
    assert CALLS["page_trans_huge_mapcount"].kind == "int"
    assert CALLS["page_trans_huge_map_swapcount"].kind == "int"
    assert "mm/huge_memory.c" in describe("page_trans_huge_mapcount")
    assert "mm/swapfile.c" in describe("page_trans_huge_map_swapcount")


def test_page_trans_huge_mapcount_reads_the_largest_mapcount_not_the_subpage():
    e = cond("page_trans_huge_mapcount(page, NULL) > 1")
    assert E.atoms(e) == {"thp_mapcount"}
    # a PTE-mapped THP whose faulting page is mapped once but another page twice
    ctx = DecisionContext(large=True, mapcount=1, thp_mapcount=2)
    assert E.evaluate(e, ctx) is True
    assert E.evaluate(cond("page_mapcount(page) > 1"), ctx) is False


def test_map_swapcount_adds_the_swap_count_like_the_v5_7_reuse():
    e = cond("page_trans_huge_map_swapcount(page, &total_mapcount, &total_swapcount) <= 1")
    assert E.atoms(e) == {"thp_mapcount", "swapcount"}
    reuse = PRESETS["v5.7"].decide["wp.reuse"]
    for thp, swap in [(1, 0), (1, 1), (2, 0), (0, 1), (0, 2)]:
        ctx = DecisionContext(anon=True, large=True, thp_mapcount=thp, mapcount=min(thp, 1),
                              swapcache=bool(swap), swapcount=swap)
        assert E.evaluate(e, ctx) == (reuse(ctx) == "reuse"), (thp, swap)
