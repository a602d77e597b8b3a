"""Unmodelled atoms: a note each where the patch's change depends on one, one
"checked" line for the conditions of code the patch leaves as it was."""
from __future__ import annotations

import json

from spec import expr as E
from spec.decisions import AssertionRule, GuardedOutcome

from mmreview.cli import main
from review.check.overlay import changed_atoms


def _check(capsys, fixtures_dir, tmp_path, name):
    main(["check", str(fixtures_dir / "patches-v5.17" / name), "--budget", "0.5",
          "--max-examples", "10", "--format", "json", "--out", str(tmp_path)])
    return json.loads(capsys.readouterr().out)["patches"][0]


def test_atoms_of_the_cases_a_patch_changes_are_noted(capsys, fixtures_dir, tmp_path):
    # the patch inverts a test inside a hunk of copy_present_pte: the hunk's entry and
    # the unseen rest of the function guard the very cases it changes
    p = _check(capsys, fixtures_dir, tmp_path, "inverted.patch")
    notes = [f for f in p["findings"] if f["id"] == "unmodelled"]
    assert any("reaching copy_present_pte" in f["message"] for f in notes), notes
    assert all(f["file"] == "mm/memory.c" and f["line"] > 0 for f in notes)


def test_atoms_of_unchanged_code_are_said_once_not_noted(capsys, fixtures_dir, tmp_path):
    # the patch adds a primitive call after the reuse decision and changes no case:
    # the hunk's entry atom is context
    p = _check(capsys, fixtures_dir, tmp_path, "move-anon-rmap.patch")
    assert not [f for f in p["findings"] if f["id"] == "unmodelled"]
    line = [c for c in p["checked"] if c.startswith("unmodelled conditions of code the patch does not change")]
    assert line and "reaching do_wp_page" in line[0] and "mm/memory.c:" in line[0], p["checked"]


def test_changed_atoms_reads_guards_and_assertion_conditions():
    guard = E.And((E.Free("a"), E.Not(E.Free("b"))))
    case = GuardedOutcome(guard=guard, outcome="copy")
    assertion = AssertionRule(primitive="free_folio", condition=E.Free("c"))
    assert changed_atoms([case], [assertion]) == {"a", "b", "c"}
    assert changed_atoms([], []) == set()
