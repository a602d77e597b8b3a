"""`mmreview check` on patches of an older era (fixtures/patches-v5.17, written against
fixtures/ctree-v5.17): the patch's own era, the invariants it is charged with, whose
violation a violation is, and the verdict on claims of no functional change."""
from __future__ import annotations

import json

import pytest

from spec.invariant_table import INVARIANTS, applicable
from spec.presets import PRESETS

from tests.review.check.test_check_fixtures import ROOT, run_cli

V517 = ROOT / "fixtures" / "patches-v5.17"
TREE = str(ROOT / "fixtures" / "ctree-v5.17")
AE_IDS = {i.id for i in INVARIANTS if i.applies == "AE"}


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """{(patch, options): (exit, JSON report)}, each run once for the module; the
    searches end at --max-examples, not at the clock, so results repeat on any machine."""
    cache: dict = {}
    traces = tmp_path_factory.mktemp("traces")

    def get(name: str, *options: str) -> tuple[int, dict]:
        key = (name, options)
        if key not in cache:
            code, out, err = run_cli(["check", str(V517 / name), *options, "--format", "json",
                                      "--budget", "30", "--max-examples", "100", "--seed", "0",
                                      "--out", str(traces)])
            assert code in (0, 1), err
            cache[key] = (code, json.loads(out))
        return cache[key]
    return get


def _patch(report: dict) -> dict:
    (p,) = report["patches"]
    return p


def _failing(p: dict) -> list[dict]:
    return [f for f in p["findings"] if f["severity"] in ("error", "warning")]


def test_an_old_era_patch_is_checked_on_its_own_era(checked):
    """A v5.17-era change to do_wp_page(): its era is v5.18 (the tree's Makefile says
    v5.17-rc7), where no PG_anon_exclusive invariant exists to charge it with."""
    code, rep = checked("move-anon-rmap.patch", "--tree", TREE)
    p = _patch(rep)
    assert (p["era"], p["era_why"]) == ("v5.18", "the tree's Makefile is v5.17-rc7: lands in v5.18")
    assert not AE_IDS & {i.id for i in applicable(PRESETS["v5.18"])}
    assert any(c.startswith("era v5.18: the contract and its") and "not charged" in c for c in p["checked"])
    assert not AE_IDS & {f["id"] for f in p["findings"]}
    assert code == 0, _failing(p)


def test_the_same_patch_on_the_reference_is_checked_against_later_invariants(checked):
    """--era current: the PG_anon_exclusive invariants are checked as well (the model
    finds none broken by this patch: bounded exploration of current plus its rules to
    depth 7 is clean for all of them), and the report says the era was asked for."""
    code, rep = checked("move-anon-rmap.patch", "--tree", TREE, "--era", "current")
    p = _patch(rep)
    assert (p["era"], p["era_why"]) == ("current", "--era")
    assert AE_IDS <= {i.id for i in applicable(PRESETS["current"])}
    assert not any("not charged" in c for c in p["checked"])
    assert code == 0, _failing(p)


def test_a_violation_the_pre_image_shares_is_a_note_when_the_patch_leaves_the_case_alone(checked):
    """wp-mapcount changes do_wp_page()'s reuse test, not the R/O pin: a pin broken on
    its era by the pre-image too, on a trace none of the patch's cases decides (a R/O
    pin of never-written memory: no write fault), is not the patch's. A stale pin the
    pre-image shares, on a trace whose write fault the patch's new test decides, is the
    patch's, and says so (a pin the pre-image keeps is the patch's plainly)."""
    _, rep = checked("wp-mapcount.patch", "--tree", TREE)
    pins = [f for f in _patch(rep)["findings"] if f["id"] == "pin-coherence"]
    notes = [f for f in pins if f["severity"] == "note"]
    assert notes and all("not introduced by this patch" in f["message"] for f in notes)
    assert all("never-written" in f["message"] or "returned zero" in f["message"] for f in notes)
    shared = [f for f in pins if f["severity"] != "note"
              and "the pre-image rules break it on this trace too" in f["message"]]
    assert shared and all("the patch's own rule decides this case" in f["message"] for f in shared)


def test_rules_equal_before_and_after_are_not_searched(checked):
    """move-anon-rmap leaves do_wp_page()'s decision as it was (equal truth tables) and
    changes no assertion: no trace can tell the two images apart, so nothing is
    searched, and what the era itself breaks is not reported against the patch."""
    code, rep = checked("move-anon-rmap.patch", "--tree", TREE)
    p = _patch(rep)
    assert any(c.startswith("pre- and post-image rules are equal for every context") for c in p["checked"])
    assert p["examples"] == 0 and not [f for f in p["findings"] if f["id"] == "pin-coherence"]
    assert code == 0


@pytest.mark.parametrize("options", [(), ("--tree", TREE)])
def test_a_violation_in_a_case_the_patch_decides_is_an_error_though_the_pre_image_shares_it(checked, options):
    """unshare-anon-only adds gup_must_unshare() on v5.18, where R/O pins of anything
    are broken before it (that is what it fixes); its rule still pins a never-written
    page without unsharing: the error stands, and says the pre-image broke it too."""
    code, rep = checked("unshare-anon-only.patch", *options)
    p = _patch(rep)
    assert p["era"] == "v5.18"
    errors = [f for f in p["findings"] if f["id"] == "pin-coherence" and f["severity"] == "error"]
    assert code == 1 and errors, p["findings"]
    f = errors[0]
    assert "pre-image rules break it on this trace too" in f["message"]
    assert "patch's own rule decides this case" in f["message"]
    assert "gup.unshare" in f["rule"] and "!anon -> pin" in f["rule"]
    assert f["patch_line"] == "+\t\treturn false;" and f["mail_line"] > 0
    assert f["replay"].endswith(f["trace_file"])


def test_an_unknown_era_is_an_input_error(capsys):
    code = run_cli(["check", str(V517 / "move-anon-rmap.patch"), "--era", "v4.0"])
    assert code[0] == 2 and "--era v4.0: unknown rule set" in code[2]


# --- no functional change ------------------------------------------------------------

NFC_MOVE = "nfc-move/0001-mm-memory-move-the-pin-check-of-copy_present_page-in.patch"


def test_a_true_refactor_across_a_callee_is_verified_with_the_tree(checked):
    code, rep = checked(NFC_MOVE, "--tree", TREE)
    p = _patch(rep)
    assert code == 0, _failing(p)
    assert p["nfc_verdict"] == "verified"
    assert p["nfc_why"].startswith("by truth tables over ") and p["nfc_why"].endswith(" contexts")


def test_the_same_refactor_from_the_mail_alone_is_not_verified_but_clean(checked):
    code, rep = checked(NFC_MOVE)
    p = _patch(rep)
    assert code == 0, _failing(p)
    assert p["nfc_verdict"] == "not verified"
    assert "depends on `copy_present_page(...)`" in p["nfc_why"]
    assert p["nfc_why"].endswith("not in the mail: give --tree or --repo")


def test_an_inverted_check_claimed_as_no_functional_change_is_contradicted(checked):
    code, rep = checked("inverted.patch", "--tree", TREE)
    p = _patch(rep)
    warnings = [f for f in p["findings"] if f["id"] == "nfc-claim"]
    assert code == 1 and warnings and warnings[0]["severity"] == "warning"
    assert p["nfc_verdict"] == "contradicted" and "fork.anon_pte" in p["nfc_why"]
    assert warnings[0]["steps"] and warnings[0]["replay"]


def test_a_difference_resting_on_unmodelled_atoms_contradicts_nothing(checked):
    """From the mail alone the inverted check's point is undecided (it hinges on
    copy_present_page(), which the mail does not show): differences the fuzzer finds
    by choosing its value are notes, and the claim is not verified."""
    _, rep = checked("inverted.patch")
    p = _patch(rep)
    assert not [f for f in p["findings"] if f["id"] == "nfc-claim"]
    assert p["nfc_verdict"] == "not verified" and "copy_present_page(...)" in p["nfc_why"]
    for f in p["findings"]:
        if f["id"] == "behaviour-change":
            assert f["severity"] == "note" and "for some values of unmodelled atoms only" in f["message"]


def test_a_gup_stall_on_a_flag_the_era_does_not_keep_is_the_eras(checked):
    """gup_must_unshare() waits for PageAnonExclusive, which v5.18 does not keep: every
    unshare fault leaves it clear, so the model's GUP stalls (gup-progress). That is
    the era's gap, not the patch's bug: a note that says why. On v5.19, which keeps
    the flag, the unshare ends and nothing stalls."""
    _, rep = checked("unshare-anon-only.patch")
    stalls = [f for f in _patch(rep)["findings"] if f["id"] == "gup-progress"]
    assert stalls, "a R/O pin of a written anonymous page stalls on v5.18"
    assert all(f["severity"] == "note" for f in stalls)
    assert "reads anon_exclusive, which the era v5.18 does not keep" in stalls[0]["message"]
    assert any(c.startswith("era v5.18: ") and
               "it does not keep anon_exclusive, which the patch's rules read" in c
               for c in _patch(rep)["checked"])
    _, later = checked("unshare-anon-only.patch", "--era", "v5.19")
    assert not [f for f in _patch(later)["findings"] if f["id"] == "gup-progress"]
    assert not [c for c in _patch(later)["checked"] if "does not keep" in c]
