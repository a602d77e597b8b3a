"""Comparing extracted decisions by truth table, with unmodelled atoms that stand
for C the model cannot read (they may depend on the context)."""
from __future__ import annotations

from spec import expr as E
from spec.decisions import ExtractedDecision, GuardedOutcome
from review.extract.equivalence import compare

KSM, PINNED = E.Atom("ksm"), E.Atom("maybe_pinned")


def _rule(*cases, default="share") -> ExtractedDecision:
    return ExtractedDecision("fork.anon_pte", tuple(GuardedOutcome(g, o) for g, o in cases), default)


def test_equal_rules_written_differently_are_equivalent():
    a = _rule((E.And((KSM, PINNED)), "copy"))
    b = _rule((E.Not(E.Or((E.Not(KSM), E.Not(PINNED)))), "copy"))
    c = compare(a, b)
    assert c.verdict == "equivalent" and c.contexts == 4


def test_a_difference_that_no_unmodelled_value_hides_is_a_difference_with_a_witness():
    a = _rule((E.And((KSM, E.Free("x"))), "copy"))
    b = _rule((E.And((E.Not(KSM), E.Free("x"))), "copy"))
    c = compare(a, b)
    # they differ when x is true, agree (both share) when x is false: x may stand for
    # C that is false exactly where they would differ, so nothing is proved
    assert c.verdict == "undecided" and c.depends_on == ("x",)
    d = compare(_rule((KSM, "copy")), _rule((E.Not(KSM), "copy")))
    assert d.verdict == "differs" and d.witness in ({"ksm": True}, {"ksm": False})


def test_an_unseen_callee_result_may_equal_what_the_other_image_reads():
    """The pre-image reads a callee the model could not see (`ret <= 0`); the
    post-image tests what the callee tested. Not proved equal, not proved different."""
    pre = _rule((E.Free("ret <= 0"), "copy"))
    post = _rule((PINNED, "copy"))
    c = compare(pre, post)
    assert c.verdict == "undecided"
    assert "`ret <= 0`" in c.describe()


def test_too_many_contexts_is_undecided_not_equal():
    atoms = [E.Atom(n) for n in ("anon", "ksm", "anon_exclusive", "maybe_pinned", "cow_mapping",
                                 "mm_has_pinned", "zero_page", "large", "swapcache", "writable")]
    frees = [E.Free(f"f{i}") for i in range(8)]
    a = _rule((E.And(tuple(atoms + frees)), "copy"), (E.Cmp(">", E.Atom("refcount"), E.Const(3)), "copy"))
    b = _rule((E.Cmp(">", E.Atom("refcount"), E.Const(3)), "copy"), (E.And(tuple(atoms + frees)), "copy"))
    c = compare(a, b)
    assert c.verdict == "undecided" and "contexts" in c.why
