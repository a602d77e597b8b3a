"""Reading C from the mail alone: the window of the function a hunk starts in, the
function each changed line really belongs to, and rules from a window whose unseen
parts are unmodelled."""
from __future__ import annotations

from spec import expr as E
from review.extract.equivalence import compare
from review.extract.hunks import hunk_body, is_entry_atom, read_hunk
from review.extract.images import section_function
from review.extract.rules import extract_series
from review.inputs.load import load
from review.model import DiffLine, Hunk
from tests.conftest import FIXTURES

PATCHES = FIXTURES / "patches-v5.17"


def _mail_only(name: str):
    return extract_series(list(load(str(PATCHES / name)).patches))


def _hunk(section: str, rows: list[tuple[str, str]]) -> Hunk:
    lines, old, new = [], 100, 100
    for i, (kind, text) in enumerate(rows):
        lines.append(DiffLine(kind, text, old if kind != "added" else None, new if kind != "removed" else None, i))
        old += kind != "added"
        new += kind != "removed"
    return Hunk(100, old - 100, 100, new - 100, section, lines)


def test_a_helper_added_after_a_functions_end_is_not_that_function():
    """git names copy_present_pte() in the @@ line; the change is a new function after it."""
    (rules,) = _mail_only("helper-between.patch")
    assert rules.unbound == ["mm/memory.c:vma_is_cow_private"]
    assert rules.bound == [] and rules.windows == []


def test_changes_after_the_closing_brace_are_top_level():
    h = _hunk("static int alpha(struct page *page)", [
        ("context", "\treturn 0;"), ("context", "}"), ("context", ""),
        ("added", "#define ALPHA_LIMIT 4"), ("added", "extern int alpha_count;"), ("context", ""),
        ("context", "static int beta(struct page *page)"), ("context", "{"), ("context", "\treturn 1;"),
        ("context", "}")])
    part = read_hunk(h, "post", section_function(h.section))
    assert part.head_function == "alpha" and [r.text for r in part.head] == ["\treturn 0;", "}"]
    assert [(t.kind, t.text) for t in part.top_level] == [
        ("macro", "#define ALPHA_LIMIT 4"), ("declaration", "extern int alpha_count;")]
    assert [f.name for f in part.definitions] == ["beta"]


def test_a_window_that_starts_inside_a_comment_and_a_nested_block_parses():
    h = _hunk("static vm_fault_t do_it(struct vm_fault *vmf)", [
        ("context", "\t\t * the end of a comment"), ("context", "\t\t */"),
        ("removed", "\t\tif (page_count(page) != 1)"), ("added", "\t\tif (page_mapcount(page) != 1)"),
        ("context", "\t\t\tgoto copy;"), ("context", "\t}"), ("context", "\tif (x) {")])
    fn = hunk_body(read_hunk(h, "post", "do_it"))
    assert fn is not None and not fn.body.has_error
    assert fn.name == "do_it" and is_entry_atom(fn.entry_atom)


def test_a_decision_changed_inside_a_long_function_is_read_from_the_mail():
    (rules,) = _mail_only("wp-mapcount.patch")
    assert {(fn, im) for fn, _, _, _, im in rules.windows} == {("do_wp_page", "pre"), ("do_wp_page", "post")}
    (post,) = rules.post.decisions
    reuse = [c for c in post.cases if c.outcome == "reuse"]
    # reuse is decided by the unseen rest of do_wp_page, reached when the page is mapped once
    assert reuse and all("mapcount != 1" in str(c.guard) and "refcount" not in str(c.guard) for c in reuse)
    (pre,) = rules.pre.decisions
    assert all("refcount != 1" in str(c.guard) for c in pre.cases if c.outcome == "reuse")


def test_reaching_the_window_is_context_not_unseen_code():
    """Removing the pinned check from a window is a difference whenever the window is
    reached; what the unseen rest decides may still reconcile the two."""
    (rules,) = extract_series(list(load(str(next((FIXTURES / "patches").glob("0001*")))).patches))
    c = rules.comparisons()["fork.anon_pte"]
    assert c.verdict == "undecided"
    assert not any(is_entry_atom(a) for a in c.depends_on)
    assert any(a.startswith("the rest of page_try_dup_anon_rmap") for a in c.depends_on)


def test_a_window_compared_with_itself_is_equivalent():
    (rules,) = _mail_only("move-anon-rmap.patch")
    (pre,) = rules.pre.decisions
    (post,) = rules.post.decisions
    assert compare(pre, post).verdict == "equivalent"
    assert E.free_atoms(post.cases[0].guard)  # entered under "reaching the window"


def test_valuations_always_enter_the_window():
    from review.check.overlay import valuations
    atoms = ["reaching f at @@ -1,2 +1,3 @@", "the rest of f after @@ -1,2 +1,3 @@ decides copy", "x"]
    vals = valuations(atoms, 0)
    assert len(vals) == 4 and all(v[atoms[0]] for v in vals)
    assert {(v[atoms[1]], v["x"]) for v in vals} == {(False, False), (False, True), (True, False), (True, True)}
