"""VMA flags nothing reads: VM_HUGEPAGE / VM_NOHUGEPAGE are left out of the key where
no THP can form (review/verify/canon.py), which merges states without changing any
finding."""
from __future__ import annotations

import pytest

from spec.presets import PRESETS

from review.verify import canon
from review.verify.model import Bounds, SpecModel
from review.verify.search import audit, explore, verify
from tests.review.verify.verify_util import NO_THP_ADVICE, key_after


def test_key_leaves_out_thp_advice_flags_only_where_no_thp_can_form():
    huge = {"op": "madvise", "mm": 0, "vpn": 0, "npages": 1, "advice": "hugepage"}
    nohuge = dict(huge, advice="nohugepage")
    dontfork = dict(huge, advice="dontfork")
    small = Bounds(depth=1, pages=2)
    assert key_after(small, huge) == key_after(small, nohuge) == key_after(small)
    assert key_after(small, dontfork) != key_after(small)   # fork reads VM_DONTCOPY
    thp = Bounds(depth=1, pages=2, thp=True)                   # the flags decide THP faults
    assert key_after(thp, nohuge) != key_after(thp)
    four = Bounds(depth=1, pages=4)                            # a whole block can get VM_HUGEPAGE
    assert key_after(four, huge) != key_after(four)


@pytest.mark.parametrize("preset", ["v5.7", "current"])
def test_unread_thp_flags_merge_states_without_changing_any_finding(preset):
    b = Bounds(depth=3, pages=2)
    merged = verify(PRESETS[preset], b, all_clauses=True)
    # the same search with the flags in the key
    model = SpecModel(PRESETS[preset], b)
    model.keyer.unread_vma_flags = 0
    kept = explore(model, preset, b, all_clauses=True)
    assert merged.states < 0.8 * kept.states
    assert {f.id: f.length for f in merged.findings} == {f.id: f.length for f in kept.findings}
    # nothing reads the flags: the merged states are those of the alphabet without
    # MADV_HUGEPAGE and MADV_NOHUGEPAGE, level by level
    without = verify(PRESETS[preset], Bounds(depth=3, pages=2, advices=NO_THP_ADVICE),
                     all_clauses=True)
    assert merged.states_per_depth == without.states_per_depth


def test_audit_finds_no_difference_between_states_merged_by_unread_flags():
    compared, problems = audit(PRESETS["current"],
                               Bounds(depth=3, pages=2,
                                      ops=("write", "fork", "madvise", "swapout")),
                               samples=80)
    assert compared == 80 and problems == []


def test_audit_catches_thp_flags_left_out_where_a_thp_can_form(monkeypatch):
    init = canon.Keyer.__init__

    def always(self, *args, **kwargs):
        init(self, *args, **dict(kwargs, thp_impossible=True))
    monkeypatch.setattr(canon.Keyer, "__init__", always)
    compared, problems = audit(PRESETS["current"],
                               Bounds(depth=3, pages=2, thp=True, ops=("write", "madvise")),
                               samples=200)
    assert problems
