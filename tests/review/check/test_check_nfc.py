"""No-functional-change claims: what counts (review/check/nfc.py)."""
from __future__ import annotations

import pytest

from review.check.nfc import find_claim


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
