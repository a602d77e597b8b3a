"""No-functional-change claims: what counts (review/check/nfc.py)."""
from __future__ import annotations

import pytest

from review.check.nfc import CONTRADICTED, NOT_VERIFIED, VERIFIED, atom_name, find_claim, judge
from review.extract.equivalence import Comparison


@pytest.mark.parametrize("message, claim", [
    ("Move the check into a helper.\n\nNo functional change intended.\n", "No functional change intended"),
    ("Rename a variable.\n\nNo functional change.", "No functional change"),
    ("Split it.\n\nNo functional changes.\n", "No functional changes"),
    ("cleanup, no functional change", "no functional change"),
    ("Simplify the loop. NFC.", "NFC"),
    ("Simplify the loop (NFC)", "NFC"),
    ("Simplify the loop. NFCI", "NFCI"),
    ("This patch should not introduce\nany. No functional\nchange intended.", "No functional change intended"),
    ("Reorder the code without any functional change.", "without any functional change"),
    ("No behavioural change expected.", "No behavioural change expected"),
])
def test_claims_found(message, claim):
    found = find_claim(message)
    assert found is not None and found.text == claim


@pytest.mark.parametrize("message", [
    "NFC: fix the digital protocol handling of the controller.",
    "Add support for the NFC controller found on board X.",
    "nfc: pn533: use the right length",
    "This changes how fork copies pinned pages.",
    "> No functional change intended.\n\nI disagree: this changes the guard.",
    "We need functional changes here.",
])
def test_not_claims(message):
    assert find_claim(message) is None


def test_claim_line_and_subject():
    msg = "First line.\n\nSecond paragraph.\nNo functional change intended.\n"
    assert find_claim(msg).line == 4
    assert find_claim("", subject="mm: tidy up copy_present_pte() (NFC)").line == 0


# --- the verdict (review/check/nfc.py judge) ------------------------------------------

EQUAL = Comparison("equivalent", 16)
UNDECIDED = Comparison("undecided", 8, depends_on=("copy_present_page(dst_vma, src_vma, dst_pte, src_pte)",
                                                   "the rest of copy_present_pte after @@ -1,2 +1,2 @@ decides share",
                                                   "reaching copy_present_pte at @@ -1,2 +1,2 @@"),
                       why="equal only for some values of ...")
DIFFERS = Comparison("differs", 4, witness={"maybe_pinned": True})


def _judge(comparisons, assertions_changed=False, *, empty=False, contradicted=False, whole=True):
    return judge(comparisons, assertions_changed, empty=empty, contradicted=contradicted, whole=whole)


def test_every_point_equivalent_is_verified_with_the_contexts_counted():
    v = _judge({"fork.anon_pte": EQUAL, "wp.reuse": Comparison("equivalent", 1)})
    assert (v.verdict, v.why) == (VERIFIED, "by truth tables over 17 contexts")


def test_a_changed_assertion_or_nothing_bound_is_not_verified():
    assert _judge({"fork.anon_pte": EQUAL}, assertions_changed=True).line() == "not verified: an assertion changed"
    assert _judge({}, empty=True).why == "nothing bound to check it against"


def test_undecided_names_what_it_depends_on_and_where_to_find_it():
    v = _judge({"fork.anon_pte": UNDECIDED}, whole=False)
    assert v.verdict == NOT_VERIFIED
    assert v.why == ("depends on `copy_present_page(...)`, the rest of `copy_present_pte()`, "
                     "not in the mail: give --tree or --repo")
    assert _judge({"fork.anon_pte": UNDECIDED}).why.endswith("which the model does not read")


def test_differs_is_contradicted_only_when_a_trace_shows_it():
    assert _judge({"fork.anon_pte": DIFFERS}, contradicted=True).verdict == CONTRADICTED
    v = _judge({"fork.anon_pte": DIFFERS})
    assert v.verdict == NOT_VERIFIED and "no trace showed it observable" in v.why


@pytest.mark.parametrize("atom, name", [
    ("PageTail(page)", "`PageTail(page)`"),
    ("copy_present_page(dst_vma, src_vma, dst_pte, src_pte, addr, rss, prealloc, page)", "`copy_present_page(...)`"),
    ("the rest of do_wp_page after @@ -1 +1 @@ decides copy", "the rest of `do_wp_page()`"),
    ("order", "`order`"),
])
def test_atom_names(atom, name):
    assert atom_name(atom) == name
