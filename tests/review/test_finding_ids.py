"""The registry of finding ids (review/finding_ids.py) and everything that names ids:
README.md's table, docs/check.md's severities, SARIF rules, `mmreview fuzz --exclude`,
the side a replay compares a difference with, and the ids the spec and the searches emit."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from mmreview.cli import main
from review.check.replay import COMPARED_WITH
from review.finding_ids import (
    CONTRACT_IDS, DIFFERENCE_IDS, FINDING_IDS, FUZZ_IDS, INVARIANT_IDS, KINDS, SEVERITIES,
)
from review.findings import Finding
from review.report import sarif
from spec.clauses import CLAUSES

ROOT = Path(__file__).resolve().parents[2]


def _section(path: Path, heading: str) -> str:
    text = path.read_text(encoding="utf-8")
    start = text.index(heading + "\n")
    end = text.find("\n## ", start + len(heading))
    return text[start:end if end >= 0 else len(text)]


def _rows(section: str) -> list[list[str]]:
    """The cells of a Markdown table's body rows."""
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[c.strip() for c in row.strip("|").split("|")] for row in rows[2:]]


def test_readme_table_is_the_registry():
    rows = _rows(_section(ROOT / "README.md", "## Finding ids"))
    table = [(re.fullmatch(r"`([a-z-]+)`", r[0]).group(1), r[1], r[2], r[3]) for r in rows]
    assert table == [(f.id, f.kind, f.severity, f.meaning) for f in FINDING_IDS.values()]


def test_check_doc_names_each_id_under_its_severity():
    rows = _rows(_section(ROOT / "docs" / "check.md", "## Findings"))
    seen = 0
    for severity, when, _fails in rows:
        for fid in re.findall(r"`([a-z-]+)`", when):
            assert FINDING_IDS[fid].severity == severity, fid
            seen += 1
    assert seen >= 10


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


def test_differences_are_replayed_against_the_side_the_registry_names():
    # review/check/replay.py's map: `check --replay` and the TUI's timeline show each
    # difference the check reports against this side
    assert COMPARED_WITH == {"nfc-claim": "pre", "behaviour-change": "pre",
                             "reference-difference": "reference"}
    assert all(FINDING_IDS[fid].compared_with == side for fid, side in COMPARED_WITH.items())


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
