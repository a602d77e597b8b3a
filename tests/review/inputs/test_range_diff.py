"""A patch against its other version: the same patch found in the linked version,
the diff of the two without hunk line numbers."""
from __future__ import annotations

from review.inputs.load import load
from review.inputs.range_diff import counterpart, patch_text, range_diff


def test_counterparts_across_the_demo_versions(demo_mbox):
    c = load(str(demo_mbox))
    v1, v2 = c.series
    assert [counterpart(p) for p in v2.patches] == v1.patches             # 2/3 renamed: by position
    assert [counterpart(p, 1) for p in v1.patches] == v2.patches
    assert counterpart(v1.patches[0]) is None


def test_range_diff_shows_what_changed_and_nothing_else(demo_mbox):
    c = load(str(demo_mbox))
    v1, v2 = c.series
    lines = range_diff(v1.patches[1], v2.patches[1])
    assert ("-", "mm/rmap: simplify page_try_dup_anon_rmap()") in [(x.outer, x.text) for x in lines]
    assert ("+", "mm/rmap: explain why page_try_dup_anon_rmap() may fail") in [(x.outer, x.text) for x in lines]
    assert any(x.outer == "@" for x in lines)
    # v1 removed the -EBUSY return for maybe-pinned pages, v2 keeps it
    pairs = [(x.outer, x.text) for x in lines]
    assert ("-", "-\t\treturn -EBUSY;") in pairs and ("+", " \t\treturn -EBUSY;") in pairs
    assert range_diff(v1.patches[2], v2.patches[2]) == []


def test_moved_code_is_not_a_change():
    from review.inputs.patch import build_patch
    diff = ("Title\n\nBody.\n---\ndiff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n"
            "@@ -{a},3 +{a},3 @@ int f(void)\n a;\n-b;\n+c;\n d;\n")
    who = ("A", "a@example.org")
    one = build_patch(diff.format(a=10), title="t", author=who)
    two = build_patch(diff.format(a=40), title="t", author=who)
    assert patch_text(one) == patch_text(two) and range_diff(one, two) == []
