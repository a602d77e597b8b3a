"""review/extract/cparse.py: function definitions in kernel-style C, whole files and fragments."""
from __future__ import annotations

from review.extract import cparse


def test_static_inline_helpers_in_headers_are_found_with_their_lines(fixtures_dir):
    src = (fixtures_dir / "ctree/include/linux/page-flags.h").read_text()
    fns = {f.name: f for f in cparse.functions(src)}
    assert {"PageAnon", "PageKsm", "PageAnonExclusive", "SetPageAnonExclusive",
            "ClearPageAnonExclusive"} <= set(fns)
    f = fns["SetPageAnonExclusive"]
    lines = src.split("\n")
    assert lines[f.start_line - 1].startswith("static __always_inline void SetPageAnonExclusive(")
    assert lines[f.end_line - 1] == "}"
    assert f.complete and f.params == ["page"]


def test_attribute_masking_keeps_columns_and_lines():
    src = "static __always_inline __must_check int f(int x)\n{\n\treturn x;\n}\n"
    masked = cparse.mask_attributes(src)
    assert len(masked) == len(src) and masked.count("\n") == src.count("\n")
    assert "__always_inline" not in masked and "__must_check" not in masked
    (f,) = cparse.functions(src)
    assert f.name == "f" and f.start_line == 1 and f.end_line == 4


def test_kernel_macros_in_bodies_do_not_break_parsing():
    src = """
static noinline bool g(struct page *page, unsigned int flags)
{
	VM_BUG_ON_PAGE(!PageAnon(page), page);
	if (unlikely(READ_ONCE(page->flags) && IS_ENABLED(CONFIG_X)))
		return likely(flags & FOLL_PIN);
	return false;
}
"""
    (f,) = cparse.functions(src)
    assert f.name == "g" and f.complete
    assert {"VM_BUG_ON_PAGE", "unlikely", "READ_ONCE", "IS_ENABLED", "likely"} <= cparse.called_names(f.body)


def test_every_function_of_the_fixture_tree(fixtures_dir):
    names = set()
    for p in sorted((fixtures_dir / "ctree").rglob("*.[ch]")):
        names |= {f.name for f in cparse.functions(p.read_text()) if f.complete}
    assert {"copy_present_pte", "do_wp_page", "do_swap_page", "try_grab_page", "follow_page_pte",
            "can_change_pte_writable", "gup_must_unshare", "page_needs_cow_for_dma",
            "page_try_dup_anon_rmap", "page_try_share_anon_rmap"} <= names


def test_a_cut_off_definition_is_reported_incomplete():
    src = "static int h(int a)\n{\n\tif (a)\n\t\treturn 1;\n"
    fns = cparse.functions(src)
    assert [f.name for f in fns] == ["h"]
    assert not fns[0].complete


def test_unbalanced_braces_are_recovered_as_an_incomplete_definition():
    src = "int k(int a)\n{\n\tif (a) {{{\n\t\treturn 1;\n\treturn 0;\n}\n"
    fns = cparse.functions(src)
    assert [f.name for f in fns] == ["k"] and not fns[0].complete


def test_fragment_line_map_gives_file_lines():
    src = "void f(void)\n{\n\tBUG_ON(x);\n}\n"
    (f,) = cparse.functions(src, {1: 101, 2: 102, 3: 103, 4: 104})
    assert (f.start_line, f.end_line) == (101, 104)
    call = f.body.named_children[0]
    assert f.file_line(call) == 103


def test_one_call_macros_are_aliases():
    src = ("#define folio_try_dup_anon_rmap_pte(folio, page, vma) \\\n"
           "\tfolio_try_dup_anon_rmap_ptes(folio, page, 1, vma)\n"
           "#define PAGE_SIZE 4096\n"
           "#define twice(a) do { f(a); f(a); } while (0)\n")
    assert cparse.macro_aliases(src) == {"folio_try_dup_anon_rmap_pte": "folio_try_dup_anon_rmap_ptes"}
