"""The registry of finding ids (review/finding_ids.py) and what names ids: SARIF rules
and `mmreview fuzz --exclude`."""
from __future__ import annotations

import re

import pytest

from mmreview.cli import main
from review.finding_ids import (
    CONTRACT_IDS, DIFFERENCE_IDS, FINDING_IDS, FUZZ_IDS, INVARIANT_IDS, KINDS, SEVERITIES,
)
from review.findings import Finding
from review.report import sarif
from spec.clauses import CLAUSES


def test_spec_clauses_keep_their_kind_and_meaning():
    for c in CLAUSES.values():
        f = FINDING_IDS[c.id]
        assert (f.kind, f.meaning, f.source) == (c.kind, c.meaning, c.source)
        assert f.severity == ("error" if c.kind == "contract" else "warning")
    assert set(CONTRACT_IDS) | set(INVARIANT_IDS) == set(CLAUSES)


def test_every_id_has_a_kind_a_severity_and_a_meaning():
    for fid, f in FINDING_IDS.items():
        assert f.id == fid and re.fullmatch(r"[a-z]+(-[a-z]+)*", fid)
        assert f.kind in KINDS and f.severity in SEVERITIES
        assert f.meaning and "\n" not in f.meaning and "|" not in f.meaning
        assert f.compared_with in ("", "pre", "reference")
    assert set(DIFFERENCE_IDS) == {"observable-difference", "outcome-difference"}


def test_a_finding_takes_its_kind_from_the_registry():
    assert Finding("pin-coherence", "m").kind == "contract"
    assert Finding("observable-difference", "m").kind == "differential"
    assert Finding("nfc-claim", "m").kind == "check"


def test_sarif_has_a_rule_for_exactly_the_registry_ids():
    for fid, f in FINDING_IDS.items():
        rule = sarif.rule(fid)
        assert rule["id"] == fid
        assert rule["defaultConfiguration"]["level"] == f.severity
        assert rule["shortDescription"]["text"] == f.meaning
    with pytest.raises(KeyError):
        sarif.rule("observable-diff")


def test_fuzz_exclude_accepts_every_id_the_fuzzer_reports(capsys):
    excluded = [a for fid in FUZZ_IDS for a in ("--exclude", fid)]
    code = main(["fuzz", "--ruleset", "current", "--max-examples", "1", "--seed", "1",
                 "--no-db", *excluded])
    assert code == 0, capsys.readouterr().err
    assert set(FUZZ_IDS) == {f for f, x in FINDING_IDS.items() if x.kind != "check"}


@pytest.mark.parametrize("fid, says", [
    ("observable-diff", "unknown finding id 'observable-diff'"),
    ("nfc-claim", "'nfc-claim' is a finding of mmreview check"),
])
def test_fuzz_exclude_refuses_other_ids_in_one_line(capsys, fid, says):
    assert main(["fuzz", "--exclude", fid, "--no-db"]) == 2
    err = capsys.readouterr().err
    assert says in err and len(err.splitlines()) == 1
